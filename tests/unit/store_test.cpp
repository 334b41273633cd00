// Group commit and storage failures: an in-memory database whose deferred flushes the test runs
// by hand (the daemon posts them to its loop), and PRAGMA max_page_count for a full disk. Those
// are SQLite's; the bridge's wake-after-commit case runs on open_test_store() (unit-store-pg
// runs it on PostgreSQL).
#include <doctest/doctest.h>
#include <sqlite3.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "daemon/bridge/bridge.h"
#include "daemon/store/sqlite_database.h"
#include "tests/unit/product_results.h"
#include "tests/unit/temp_dir.h"
#include "tests/unit/test_store.h"

using namespace cb;
using Json = nlohmann::json;

namespace {

struct Grouped {
  std::unique_ptr<store::SqliteDatabase> db = store::SqliteDatabase::open_memory();
  std::vector<std::function<void()>> deferred;

  Grouped() {
    db->db().exec("CREATE TABLE t (x TEXT NOT NULL)");
    db->enable_group_commit(
        [this](std::function<void()> fn) { deferred.push_back(std::move(fn)); });
  }
  // What the daemon's loop does at the end of a turn.
  void run_deferred() {
    auto fns = std::move(deferred);
    deferred.clear();
    for (auto& fn : fns) fn();
  }
  store::Ticket write(const std::string& x, bool commit = true) {
    store::WriteTransaction tx(*db);
    auto& q = db->stmt("INSERT INTO t (x) VALUES (?)");
    q.bind(1, x);
    q.exec();
    return commit ? tx.commit() : store::Ticket{};
  }
  int rows() { return db->db().execAndGet("SELECT COUNT(*) FROM t").getInt(); }
  bool in_transaction() { return sqlite3_get_autocommit(db->db().getHandle()) == 0; }
  // Makes the next page allocation fail with SQLITE_FULL.
  void fill_up() {
    const int pages = db->db().execAndGet("PRAGMA page_count").getInt();
    db->db().exec("PRAGMA max_page_count = " + std::to_string(pages));
  }
};

}  // namespace

TEST_CASE("writes of one loop turn share one transaction that commits when the turn ends") {
  Grouped g;
  CHECK(g.db->latest().empty());
  const store::Ticket first = g.write("one");
  CHECK_FALSE(first.empty());
  const store::Ticket second = g.write("two");
  CHECK(second.generation == first.generation);  // same group
  CHECK(g.db->latest().generation == first.generation);
  CHECK(g.in_transaction());
  CHECK(g.deferred.size() == 1);  // one flush scheduled, not one per write
  CHECK_FALSE(g.db->outcome(first).has_value());  // pending

  std::vector<std::string> outcomes;
  g.db->when_durable(first, [&](const std::string& why) { outcomes.push_back("done:" + why); });
  bool delivered = false;
  g.db->after_commit([&] { delivered = true; });
  CHECK(outcomes.empty());
  CHECK_FALSE(delivered);

  g.run_deferred();
  CHECK_FALSE(g.in_transaction());
  CHECK(g.db->latest().empty());
  CHECK(g.db->outcome(first) == std::optional<std::string>(""));
  CHECK(outcomes == std::vector<std::string>{"done:"});
  CHECK(delivered);
  CHECK(g.rows() == 2);

  // A later group has a new generation; asking about an ended one answers at once.
  CHECK(g.write("three").generation > first.generation);
  bool answered = false;
  g.db->when_durable(first, [&](const std::string& why) { answered = why.empty(); });
  CHECK(answered);
  g.run_deferred();
}

TEST_CASE("a ticket behind queued work is answered after the wake-ups its commit queued") {
  Grouped g;
  std::vector<std::string> order;
  // What Mailbox::send does with the receipt of a message a blocked reader took.
  store::Ticket receipt = g.write("handed to a waiter");
  receipt.behind_queued = true;
  g.db->when_durable(receipt, [&](const std::string&) { order.push_back("receipt"); });
  g.db->after_commit([&] {
    // What Mailbox::deliver_now does for the reader: its wake-up is posted to the loop.
    g.deferred.push_back([&] { order.push_back("waiter's answer"); });
  });
  g.run_deferred();  // the commit
  CHECK(order.empty());
  g.run_deferred();  // the loop's next pass
  CHECK(order == std::vector<std::string>{"waiter's answer", "receipt"});

  // Nobody woken: the callers are answered at the commit itself, as before.
  order.clear();
  g.db->when_durable(g.write("nobody waits"),
                     [&](const std::string&) { order.push_back("receipt"); });
  g.run_deferred();
  CHECK(order == std::vector<std::string>{"receipt"});
}

TEST_CASE("a call that fails rolls back only its own part of the group") {
  Grouped g;
  int rollbacks = 0;
  g.db->on_rollback([&] { ++rollbacks; });
  g.write("kept");
  g.write("dropped", /*commit=*/false);
  CHECK(rollbacks == 1);
  CHECK_FALSE(g.db->latest().empty());  // the group goes on
  g.write("kept too");
  g.run_deferred();
  CHECK(g.rows() == 2);
  CHECK(g.db->db().execAndGet("SELECT COUNT(*) FROM t WHERE x = 'dropped'").getInt() == 0);
}

TEST_CASE("a commit's ticket is pending until its group commits; flush commits at once") {
  Grouped g;
  const store::Ticket ticket = g.write("x");
  CHECK_FALSE(g.db->outcome(ticket).has_value());
  g.db->flush();
  CHECK(g.db->outcome(ticket) == std::optional<std::string>(""));
  CHECK(g.db->latest().empty());
  CHECK(g.rows() == 1);
  g.run_deferred();  // the stale scheduled flush finds nothing to do
  CHECK(g.rows() == 1);
}

TEST_CASE("without group commit every write transaction commits on its own") {
  auto db = store::SqliteDatabase::open_memory();
  db->db().exec("CREATE TABLE t (x TEXT)");
  {
    store::WriteTransaction tx(*db);
    db->db().exec("INSERT INTO t VALUES ('a')");
    CHECK(tx.commit().empty());  // durable at its own COMMIT
  }
  CHECK(db->latest().empty());
  CHECK(sqlite3_get_autocommit(db->db().getHandle()) != 0);
  bool ran = false;
  db->after_commit([&] { ran = true; });
  CHECK(ran);
}

TEST_CASE("a full disk fails the group's callers with a reason, and nothing half-written stays") {
  Grouped g;
  g.write("before");
  g.run_deferred();
  int rollbacks = 0;
  g.db->on_rollback([&] { ++rollbacks; });

  const store::Ticket doomed = g.write("in the doomed group");
  std::string outcome = "not called";
  g.db->when_durable(doomed, [&](const std::string& why) { outcome = why; });
  bool delivered = false;
  g.db->after_commit([&] { delivered = true; });

  g.fill_up();
  std::string failure;
  try {
    g.write(std::string(64 * 1024, 'x'));
  } catch (const std::exception& e) {
    failure = store::storage_failure(e).value_or("not a storage failure: " + std::string(e.what()));
  }
  CHECK(failure == "the disk holding the bridge database is full");
  g.run_deferred();
  g.db->flush();
  CHECK(g.db->latest().empty());
  CHECK(rollbacks >= 1);
  CHECK_FALSE(delivered);
  // Whether SQLite kept the rest of the group (statement rollback) or dropped it (transaction
  // rollback), the waiter learns the truth about its own row.
  const int kept =
      g.db->db().execAndGet("SELECT COUNT(*) FROM t WHERE x = 'in the doomed group'").getInt();
  if (kept == 1) {
    CHECK(outcome.empty());
  } else {
    CHECK(outcome.find("rolled back") != std::string::npos);
    CHECK(g.db->outcome(doomed) == std::optional<std::string>(outcome));  // remembered
  }
  CHECK(g.db->db().execAndGet("SELECT COUNT(*) FROM t WHERE length(x) > 1000").getInt() == 0);
  CHECK(g.db->integrity_check() == "ok");

  // Space returns: writing works again.
  g.db->db().exec("PRAGMA max_page_count = 1000000");
  g.write("after");
  g.run_deferred();
  CHECK(g.db->db().execAndGet("SELECT COUNT(*) FROM t WHERE x IN ('before', 'after')").getInt() ==
        2);
}

TEST_CASE("storage_failure names storage problems and nothing else") {
  auto db = store::SqliteDatabase::open_memory();
  try {
    db->db().exec("INSERT INTO no_such_table VALUES (1)");
    FAIL("expected an exception");
  } catch (const std::exception& e) {
    CHECK_FALSE(store::storage_failure(e).has_value());  // a bug, not the disk
  }
  CHECK_FALSE(store::storage_failure(std::runtime_error("x")).has_value());
}

TEST_CASE("the bridge wakes the recipient only after the send's group committed") {
  auto db = test::open_test_store();
  std::vector<std::function<void()>> deferred;
  test::enable_group_commit(*db,
                            [&](std::function<void()> fn) { deferred.push_back(std::move(fn)); });
  cb::FakeClock clock;
  bridge::Bridge b(*db, clock, std::string(32, 'k'), bridge::Settings{},
                   redact::Redactor::builtin());
  std::vector<std::string> events;
  b.events().subscribe([&](const Json& e) { events.push_back(e.value("event", "")); });
  auto made = b.mailbox().create_conversation(bridge::Caller{1, 1, 0}, "backend_dev", "frontend_dev");
  const Json conv = test::ok_json(made);
  for (auto& fn : deferred) fn();
  deferred.clear();
  events.clear();
  bridge::Credentials a{conv["conversation_id"], "a", conv["session_a_token"]};
  auto sent = b.mailbox().send(bridge::Caller{1, 1, 0}, a, "hello", "info", {});
  REQUIRE(sent.ok());
  CHECK_FALSE(db->outcome(sent->ticket).has_value());  // the receipt waits for the commit
  CHECK(events.empty());  // not yet durable: nobody told
  for (auto& fn : deferred) fn();
  CHECK(events == std::vector<std::string>{"message"});
}

TEST_CASE("the audit chain stays whole when a group is rolled back") {
  auto db = store::SqliteDatabase::open_memory();
  std::vector<std::function<void()>> deferred;
  db->enable_group_commit([&](std::function<void()> fn) { deferred.push_back(std::move(fn)); });
  auto run = [&] {
    auto fns = std::move(deferred);
    deferred.clear();
    for (auto& fn : fns) fn();
  };
  cb::FakeClock clock;
  bridge::Settings settings;
  settings.send_per_minute = settings.send_per_hour = settings.send_per_day = 0;
  bridge::Bridge b(*db, clock, std::string(32, 'k'), settings, redact::Redactor::builtin());
  const Json conv = test::ok_json(
      b.mailbox().create_conversation(bridge::Caller{1, 1, 0}, "backend_dev", "frontend_dev"));
  bridge::Credentials a{conv["conversation_id"], "a", conv["session_a_token"]};
  run();
  // Fill the database until a send fails; whatever the failure rolled back, the chain must
  // still verify and the next send must extend it.
  const int pages = db->db().execAndGet("PRAGMA page_count").getInt();
  db->db().exec("PRAGMA max_page_count = " + std::to_string(pages + 2));
  bool failed = false;
  for (int i = 0; i < 200 && !failed; ++i) {
    try {
      (void)b.mailbox().send(bridge::Caller{1, 1, 0}, a, std::string(3000, 'm'), "info", {});
    } catch (const std::exception& e) {
      REQUIRE(store::storage_failure(e).has_value());
      failed = true;
    }
  }
  CHECK(failed);
  run();
  db->flush();
  db->db().exec("PRAGMA max_page_count = 1000000");
  CHECK(b.mailbox().send(bridge::Caller{1, 1, 0}, a, "after", "info", {}).ok());
  run();
  const auto v = b.ops().verify_audit();
  CHECK_MESSAGE(v.ok, v.problem);
  CHECK(db->integrity_check() == "ok");
}

TEST_CASE("Database::open: a database another daemon holds, or a newer schema, is a Status") {
  TempDir dir("cb-open");
  const std::filesystem::path file = dir.path / "bridge.db";
  {
    Result<std::unique_ptr<store::SqliteDatabase>> first =
        store::SqliteDatabase::open(file, store::Synchronous::kNormal);
    REQUIRE(first.ok());
    const Result<std::unique_ptr<store::SqliteDatabase>> second =
        store::SqliteDatabase::open(file, store::Synchronous::kNormal);
    REQUIRE_FALSE(second.ok());
    CHECK(second.status().code() == store::open_errors::kInUse);
    CHECK(second.status().message() ==
          "database " + file.string() +
              " is in use: a claude-bridged is already running with this state directory — stop "
              "it first, or give this one another --state-dir");
    (*first)->db().exec("PRAGMA user_version = 9999");
  }
  const Result<std::unique_ptr<store::SqliteDatabase>> newer =
      store::SqliteDatabase::open(file, store::Synchronous::kNormal);
  REQUIRE_FALSE(newer.ok());
  CHECK(newer.status().code() == store::open_errors::kSchemaTooNew);
  CHECK(newer.status().message().find("has schema version 9999, newer than this daemon") !=
        std::string::npos);
}

TEST_CASE("a version 1 database (the daemon before issue 23) migrates to version 2, nothing lost") {
  TempDir dir;
  const std::string path = (dir.path / "bridge.db").string();
  {
    // Written as the version 1 daemon wrote it: its schema, its rows.
    sqlite3* raw = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &raw) == SQLITE_OK);
    auto exec = [&](const std::string& sql) {
      char* err = nullptr;
      const int rc = sqlite3_exec(raw, sql.c_str(), nullptr, nullptr, &err);
      if (rc != SQLITE_OK) FAIL(sql << ": " << (err ? err : "?"));
    };
    exec(store::SqliteDatabase::migration(0));
    exec("PRAGMA user_version = 1");
    exec("INSERT INTO conversations (id, role_a, role_b, nonce, created_ms, expires_ms) VALUES"
         " ('conv_00000000000000aa', 'lead', 'worker', x'00112233', 1000, 9000)");
    exec("INSERT INTO messages (id, conversation_id, sender, recipient, body, action_type,"
         " created_ms, read_ms) VALUES"
         " (1, 'conv_00000000000000aa', 'a', 'b', 'first', 'info', 1100, 1200),"
         " (2, 'conv_00000000000000aa', 'b', 'a', 'second', 'question', 1300, NULL),"
         " (3, 'conv_00000000000000aa', 'system', 'a', 'ran ls', 'info', 1400, NULL)");
    exec("DELETE FROM messages WHERE id = 3");  // the counter stays at 3: ids are never reused
    exec("INSERT INTO statuses VALUES ('conv_00000000000000aa', 'a', 'working', 1500)");
    sqlite3_close(raw);
  }
  auto opened = store::SqliteDatabase::open(path, store::Synchronous::kNormal);
  REQUIRE(opened.ok());
  store::SqliteDatabase& db = **opened;
  CHECK(db.schema_version() == 2);
  store::Conversations& conversations = db.conversations();
  auto conv = conversations.find("conv_00000000000000aa");
  REQUIRE(conv);
  CHECK(conv->kind == "token");
  CHECK(conv->role_b == "worker");
  CHECK(conv->nonce == std::string("\x00\x11\x22\x33", 4));
  store::Messages& messages = db.messages();
  auto all = messages.all("conv_00000000000000aa");
  REQUIRE(all.size() == 2);
  CHECK(all[0].body == "first");
  CHECK(all[0].read_ms == std::optional<std::int64_t>(1200));
  CHECK_FALSE(all[0].reply_to);
  CHECK(all[1].sender == "b");
  CHECK_FALSE(all[1].read_ms);
  CHECK(messages.unread_count("conv_00000000000000aa", "a") == 1);
  store::Statuses& statuses = db.statuses();
  CHECK(statuses.find("conv_00000000000000aa", "a")->status == "working");
  store::MessageRow row;
  row.conversation_id = "conv_00000000000000aa";
  row.sender = "a";
  row.recipient = "b";
  row.body = "after the upgrade";
  row.action_type = "info";
  row.created_ms = 2000;
  CHECK(messages.insert(row) == 4);
  store::Agents& agents = db.agents();
  CHECK(agents.all().empty());
  CHECK(db.integrity_check() == "ok");
}
