// Export / import of one conversation and backup / restore of the whole file (store/transfer):
// the rows that come back, and the expected failures as cb::Status codes and messages.
// Export and import run on open_test_store() (SQLite, or PostgreSQL in unit-transfer-pg);
// backup and restore copy SQLite's file, so their cases open a SqliteDatabase themselves.
#include "daemon/store/sqlite_database.h"
#include "daemon/store/transfer.h"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "daemon/store/tables.h"
#include "tests/unit/temp_dir.h"
#include "tests/unit/test_store.h"

using namespace cb;

namespace {

store::ConversationRow conversation(const std::string& id) {
  store::ConversationRow c;
  c.id = id;
  c.role_a = "backend_dev";
  c.role_b = "frontend_dev";
  c.nonce = std::string("\x00\x01\xfe\xff nonce", 10);  // raw bytes, a NUL among them
  c.created_ms = 1000;
  c.expires_ms = 9000;
  return c;
}

store::MessageRow message(const std::string& conv, const std::string& from, const std::string& to,
                          const std::string& body, std::int64_t at) {
  store::MessageRow m;
  m.conversation_id = conv;
  m.sender = from;
  m.recipient = to;
  m.body = body;
  m.action_type = "info";
  m.files_json = R"(["a.cpp"])";
  m.redactions_json = R"({"aws_key":1})";
  m.created_ms = at;
  return m;
}

// A conversation with exec settings, three messages (the first read) and both statuses.
void fill(store::Database& db, const std::string& id) {
  store::WriteTransaction tx(db);
  db.conversations().insert(conversation(id));
  db.conversations().set_exec(id, "safe", R"({"allow":["ls"]})");
  store::Messages& messages = db.messages();
  const auto first = messages.insert(message(id, "a", "b", "one", 1100));
  messages.insert(message(id, "b", "a", "two", 1200));
  messages.insert(message(id, "system", "b", "three", 1300));
  messages.mark_read({first}, 1150);
  db.statuses().upsert(id, "a", "working", 1400);
  db.statuses().upsert(id, "b", "idle", 1500);
  tx.commit();
}

}  // namespace

TEST_CASE("a new conversation and message get the columns' defaults") {
  auto db = test::open_test_store();
  fill(*db, "conv_0000000000000001");
  store::WriteTransaction tx(*db);
  db->conversations().insert(conversation("conv_0000000000000002"));
  tx.commit();
  const auto c = db->conversations().find("conv_0000000000000002");
  REQUIRE(c);
  CHECK(c->exec_mode == "off");
  CHECK(c->exec_json == "{}");
  CHECK(c->nonce == conversation("x").nonce);
  const auto unread = db->messages().unread("conv_0000000000000001", "b", 10);
  REQUIRE(unread.size() == 1);  // "one" was read, "three" to b is not
  CHECK(unread[0].body == "three");
  CHECK_FALSE(unread[0].read_ms);
}

TEST_CASE("export then import gives back every row: exec settings, read state, statuses") {
  auto source = test::open_test_store();
  fill(*source, "conv_00000000000000aa");
  auto page = store::dump_conversation(*source, "conv_00000000000000aa", 0, 1 << 20);
  REQUIRE(page.ok());
  CHECK(page->complete);
  const store::ConversationDump& dump = page->dump;
  CHECK(dump.conversation.exec_mode == "safe");
  REQUIRE(dump.messages.size() == 3);
  REQUIRE(dump.statuses.size() == 2);

  auto target = test::open_test_store();
  // Something else first, so the imported messages get other ids.
  fill(*target, "conv_00000000000000bb");
  {
    store::WriteTransaction tx(*target);
    // As read from a document: the messages do not name their conversation.
    store::ConversationDump doc = dump;
    for (auto& m : doc.messages) m.conversation_id.clear();
    REQUIRE(store::load_conversation(*target, doc).ok());
    tx.commit();
  }
  const auto c = target->conversations().find("conv_00000000000000aa");
  REQUIRE(c);
  CHECK(c->role_a == "backend_dev");
  CHECK(c->role_b == "frontend_dev");
  CHECK(c->nonce == dump.conversation.nonce);
  CHECK(c->created_ms == 1000);
  CHECK(c->expires_ms == 9000);
  CHECK(c->exec_mode == "safe");
  CHECK(c->exec_json == R"({"allow":["ls"]})");

  const auto messages = target->messages().all("conv_00000000000000aa");
  REQUIRE(messages.size() == 3);
  for (std::size_t i = 0; i < messages.size(); ++i) {
    const auto& got = messages[i];
    const auto& want = dump.messages[i];
    CHECK(got.id > 3);  // new ids, after the other conversation's
    CHECK(got.conversation_id == "conv_00000000000000aa");
    CHECK(got.sender == want.sender);
    CHECK(got.recipient == want.recipient);
    CHECK(got.body == want.body);
    CHECK(got.action_type == want.action_type);
    CHECK(got.files_json == want.files_json);
    CHECK(got.redactions_json == want.redactions_json);
    CHECK(got.created_ms == want.created_ms);
    CHECK(got.read_ms == want.read_ms);
  }
  CHECK(messages[0].read_ms == std::optional<std::int64_t>(1150));
  CHECK_FALSE(messages[1].read_ms);
  CHECK(target->statuses().find("conv_00000000000000aa", "a")->status == "working");
  CHECK(target->statuses().find("conv_00000000000000aa", "b")->heartbeat_ms == 1500);
}

TEST_CASE("export pages stop at the byte budget, with at least one message a page") {
  auto db = test::open_test_store();
  fill(*db, "conv_00000000000000cc");
  auto first = store::dump_conversation(*db, "conv_00000000000000cc", 0, 1);
  REQUIRE(first.ok());
  CHECK_FALSE(first->complete);
  REQUIRE(first->dump.messages.size() == 1);
  CHECK(first->dump.messages[0].body == "one");
  CHECK(first->dump.statuses.size() == 2);
  auto rest =
      store::dump_conversation(*db, "conv_00000000000000cc", first->dump.messages[0].id, 1 << 20);
  REQUIRE(rest.ok());
  CHECK(rest->complete);
  REQUIRE(rest->dump.messages.size() == 2);
  CHECK(rest->dump.messages[1].body == "three");
}

TEST_CASE("export of a missing conversation and import over an existing one are refused") {
  auto db = test::open_test_store();
  fill(*db, "conv_00000000000000dd");
  auto missing = store::dump_conversation(*db, "conv_00000000000000ee", 0, 1 << 20);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == store::codes::kNotFound);
  CHECK(missing.status().message() == "no conversation conv_00000000000000ee");

  auto page = store::dump_conversation(*db, "conv_00000000000000dd", 0, 1 << 20);
  REQUIRE(page.ok());
  store::WriteTransaction tx(*db);
  const Status loaded = store::load_conversation(*db, page->dump);
  tx.commit();
  CHECK(loaded.code() == store::codes::kExists);
  CHECK(loaded.message() ==
        "conversation conv_00000000000000dd exists already; import refused (nothing changed)");
  CHECK(db->messages().count() == 3);
}

TEST_CASE("backup and restore report expected failures as codes, and restore brings rows back") {
  TempDir dir("cb-transfer");
  auto db = store::SqliteDatabase::open(dir.path / "bridge.db", store::Synchronous::kNormal).value();
  fill(*db, "conv_00000000000000ff");

  auto relative = store::backup_database(*db, "copy.db", false);
  REQUIRE_FALSE(relative.ok());
  CHECK(relative.status().code() == store::codes::kFailed);
  CHECK(relative.status().message() == "backup target must be an absolute file path: copy.db");
  auto live = store::backup_database(*db, dir.path / "bridge.db", true);
  REQUIRE_FALSE(live.ok());
  CHECK(live.status().message() ==
        (dir.path / "bridge.db").string() + " is the live database; choose another file");

  const auto copy = dir.path / "copy.db";
  auto made = store::backup_database(*db, copy, false);
  REQUIRE(made.ok());
  CHECK(made->pages > 0);
  CHECK(made->bytes == static_cast<std::int64_t>(std::filesystem::file_size(copy)));
  auto again = store::backup_database(*db, copy, false);
  REQUIRE_FALSE(again.ok());
  CHECK(again.status().code() == store::codes::kFailed);
  CHECK(again.status().message() == copy.string() + " exists; pass --force to replace it");
  CHECK(store::backup_database(*db, copy, true).ok());

  auto checked = store::check_backup_file(copy);
  REQUIRE(checked.ok());
  CHECK(checked->bytes == made->bytes);

  const auto junk = dir.path / "junk.db";
  std::ofstream(junk) << "not a database at all, just some text long enough to be a header....";
  auto bad = store::check_backup_file(junk);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().code() == store::codes::kBadFile);
  CHECK(bad.status().message().rfind(junk.string() + ": not a claude-bridge database (", 0) == 0);
  auto absent = store::restore_database(*db, dir.path / "absent.db");
  REQUIRE_FALSE(absent.ok());
  CHECK(absent.status().code() == store::codes::kBadFile);
  CHECK(absent.status().message() ==
        (dir.path / "absent.db").string() + ": no such file (as the daemon sees the file system)");
  auto itself = store::restore_database(*db, dir.path / "bridge.db");
  REQUIRE_FALSE(itself.ok());
  CHECK(itself.status().code() == store::codes::kBadFile);

  {
    store::WriteTransaction tx(*db);
    db->conversations().remove("conv_00000000000000ff");
    tx.commit();
  }
  CHECK(db->conversations().count() == 0);
  auto restored = store::restore_database(*db, copy);
  REQUIRE(restored.ok());
  CHECK(restored->bytes == made->bytes);
  CHECK(db->conversations().count() == 1);
  CHECK(db->messages().all("conv_00000000000000ff").size() == 3);
}

TEST_CASE("a backup the daemon may not write says so by its code") {
  if (::geteuid() == 0) {
    MESSAGE("skipped: root may write into a read-only directory");
    return;
  }
  TempDir dir("cb-transfer");
  auto db = store::SqliteDatabase::open(dir.path / "bridge.db", store::Synchronous::kNormal).value();
  const auto locked = dir.path / "locked";
  std::filesystem::create_directory(locked);
  REQUIRE(::chmod(locked.c_str(), 0500) == 0);
  auto refused = store::backup_database(*db, locked / "copy.db", false);
  ::chmod(locked.c_str(), 0700);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == store::codes::kNotPermitted);
  CHECK(refused.status().message().find("cannot create ") == 0);
}
