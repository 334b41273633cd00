// The tables of daemon/store/tables.h on both backends (issue 27): every method of every table
// runs the same checks against SQLite (in memory) and against PostgreSQL (a fresh schema per
// store on the cluster of tests/pg/with-pg, CB_TEST_PG_URL), with the expected values written
// once, so the two implementations cannot drift. Without CB_TEST_PG_URL only SQLite runs,
// unless CB_TEST_PG_REQUIRED is set (meson's pg variant), which then fails.
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "daemon/store/database.h"
#include "daemon/store/pg/pg_connection.h"
#include "daemon/store/pg/pg_database.h"
#include "daemon/store/pg/pg_schema.h"
#include "daemon/store/sqlite_database.h"
#include "daemon/store/tables.h"
#include "tests/unit/pg_test_helpers.h"

using namespace cb;
using store::ConversationRow;
using store::MessageRow;

namespace {

const char* pg_url() { return std::getenv("CB_TEST_PG_URL"); }

std::string fresh_schema() {
  static int n = 0;
  return "t_pgtables_" + std::to_string(::getpid()) + "_" + std::to_string(++n);
}

store::pg::Options pg_options(const std::string& schema) {
  store::pg::Options o;
  o.conninfo = pg_url();
  o.schema = schema;
  o.self.daemon_id = "daemon-one";
  o.self.host = "host-one";
  o.self.started_ms = 1000;
  return o;
}

// A store of each backend this run can reach: SQLite always, PostgreSQL with CB_TEST_PG_URL.
std::vector<std::unique_ptr<store::Database>> stores() {
  std::vector<std::unique_ptr<store::Database>> out;
  out.push_back(store::SqliteDatabase::open_memory());
  if (pg_url() != nullptr) {
    auto pg = store::pg::PgDatabase::open(pg_options(fresh_schema()));
    if (!pg.ok()) FAIL(pg.status().message());
    out.push_back(std::move(pg).value());
  } else {
    REQUIRE_MESSAGE(std::getenv("CB_TEST_PG_REQUIRED") == nullptr,
                    "CB_TEST_PG_URL is not set: run this under tests/pg/with-pg");
    MESSAGE("CB_TEST_PG_URL is not set: SQLite only (PostgreSQL runs under tests/pg/with-pg)");
  }
  return out;
}

// Runs `check` on each backend's store, naming the backend in failures.
void on_each(const std::function<void(store::Database&)>& check) {
  for (auto& db : stores()) {
    CAPTURE(std::string(db->backend()));
    check(*db);
  }
}

void write(store::Database& db, const std::function<void()>& fn) {
  store::WriteTransaction tx(db);
  fn();
  tx.commit();
}

ConversationRow token_conv(const std::string& id, std::int64_t created, std::int64_t expires) {
  ConversationRow c;
  c.id = id;
  c.role_a = "writer";
  c.role_b = "reviewer";
  c.nonce = std::string("\x00\x01\xff\x80 nonce", 10);  // raw bytes, a NUL among them
  c.created_ms = created;
  c.expires_ms = expires;
  return c;
}

ConversationRow agents_conv(const std::string& id, const std::string& member_key) {
  ConversationRow c = token_conv(id, 10, 1'000'000);
  c.kind = "agents";
  c.role_a.clear();
  c.role_b.clear();
  c.member_key = member_key;
  return c;
}

MessageRow msg(const std::string& conv, const std::string& sender, const std::string& recipient,
               const std::string& body, std::int64_t created) {
  MessageRow m;
  m.conversation_id = conv;
  m.sender = sender;
  m.recipient = recipient;
  m.body = body;
  m.action_type = "message";
  m.created_ms = created;
  return m;
}

std::vector<std::int64_t> ids_of(const std::vector<MessageRow>& rows) {
  std::vector<std::int64_t> out;
  for (const auto& r : rows) out.push_back(r.id);
  return out;
}

store::MemberRow member(const std::string& agent, const std::string& conv,
                        const std::string& seat = "", std::int64_t read_up_to = 0) {
  return store::MemberRow{agent, conv, seat, read_up_to, 77};
}

}  // namespace

TEST_CASE("a second conversation of the same members is refused; on PostgreSQL as a lost race") {
  // Two daemons of a team making one names' conversation at once: the loser's send is retried
  // (AgentMail::send_message) only when the store says it lost a race.
  on_each([](store::Database& db) {
    write(db, [&] { db.conversations().insert(agents_conv("c-first", "alice,bob")); });
    bool refused = false;
    try {
      store::WriteTransaction tx(db);
      db.conversations().insert(agents_conv("c-second", "alice,bob"));
      tx.commit();
    } catch (const std::exception& e) {
      refused = true;
      CHECK(store::lost_race(e) == (std::string(db.backend()) == "postgresql"));
    }
    CHECK(refused);
    CHECK(db.conversations().by_members("alice,bob")->id == "c-first");
    CHECK_FALSE(db.conversations().exists("c-second"));
  });
}

TEST_CASE("the PostgreSQL schema: migrations to version 2, none past it") {
  CHECK(store::pg::schema::latest() == 2);
  CHECK(std::string(store::pg::schema::migration(0)).find("CREATE TABLE schema_version") !=
        std::string::npos);
  // 2: the unread index holds token seats' messages only (never a conversation of agents').
  CHECK(std::string(store::pg::schema::migration(1)).find("recipient <> '*'") != std::string::npos);
  CHECK_THROWS_AS(store::pg::schema::migration(2), std::out_of_range);
  CHECK_THROWS_AS(store::pg::schema::migration(-1), std::out_of_range);
}

TEST_CASE("conversations: insert and find every column, list with counts, expiry, removal") {
  on_each([](store::Database& db) {
    auto& convs = db.conversations();
    ConversationRow t = token_conv("c-token", 200, 5000);
    t.exec_mode = "allow";
    t.exec_json = R"({"x":1})";
    write(db, [&] {
      convs.insert(t);
      convs.insert(agents_conv("c-agents", "alice,bob"));
      convs.insert(token_conv("c-early", 200, 100));  // same created_ms: by id after
    });
    const auto found = convs.find("c-token");
    REQUIRE(found.has_value());
    CHECK(found->id == "c-token");
    CHECK(found->role_a == "writer");
    CHECK(found->role_b == "reviewer");
    CHECK(found->nonce == t.nonce);
    CHECK(found->created_ms == 200);
    CHECK(found->expires_ms == 5000);
    CHECK(found->exec_mode == "allow");
    CHECK(found->exec_json == R"({"x":1})");
    CHECK(found->kind == "token");
    CHECK(found->member_key.empty());
    CHECK_FALSE(convs.find("nope").has_value());
    CHECK(convs.exists("c-agents"));
    CHECK_FALSE(convs.exists("nope"));
    CHECK(convs.count() == 3);

    const auto by = convs.by_members("alice,bob");
    REQUIRE(by.has_value());
    CHECK(by->id == "c-agents");
    CHECK(by->kind == "agents");
    CHECK_FALSE(convs.by_members("").has_value());  // token conversations have no key (NULL)

    write(db, [&] {
      auto& m = db.messages();
      const auto first = m.insert(msg("c-token", "b", "a", "1", 1));
      m.insert(msg("c-token", "b", "a", "2", 2));
      m.insert(msg("c-token", "a", "b", "3", 3));
      m.insert(msg("c-early", "a", "b", "4", 4));
      m.mark_read({first}, 9);
    });
    const auto list = convs.list();
    REQUIRE(list.size() == 3);
    CHECK(list[0].row.id == "c-agents");  // created 10
    CHECK(list[1].row.id == "c-early");   // created 200, "c-early" < "c-token"
    CHECK(list[2].row.id == "c-token");
    CHECK(list[2].row.nonce == t.nonce);
    CHECK(list[0].messages == 0);
    CHECK(list[1].messages == 1);
    CHECK(list[1].unread_a == 0);
    CHECK(list[1].unread_b == 1);
    CHECK(list[2].messages == 3);
    CHECK(list[2].unread_a == 1);
    CHECK(list[2].unread_b == 1);

    CHECK(convs.expired_before(100).empty());
    CHECK(convs.expired_before(5001) == std::vector<std::string>{"c-early", "c-token"});

    write(db, [&] {
      convs.set_exec("c-token", "off", "{}");
      convs.set_expiry("c-early", 9'000'000);
      convs.retire_member_key("c-agents");
      // The key is free again for a new conversation of the same members.
      convs.insert(agents_conv("c-agents-2", "alice,bob"));
    });
    CHECK(convs.find("c-token")->exec_mode == "off");
    CHECK(convs.find("c-token")->exec_json == "{}");
    CHECK(convs.find("c-early")->expires_ms == 9'000'000);
    CHECK(convs.find("c-agents")->member_key.empty());
    CHECK(convs.by_members("alice,bob")->id == "c-agents-2");

    // Removal cascades to messages, statuses and members; audit rows stay.
    write(db, [&] {
      db.statuses().upsert("c-token", "a", "busy", 5);
      db.members().insert(member("alice", "c-token", "a"));
      db.audit_table().insert(store::AuditRow{0, 1, "c-token", "", "x", "ok", "{}", "", "h1"});
    });
    bool removed = false;
    write(db, [&] { removed = convs.remove("c-token"); });
    CHECK(removed);
    write(db, [&] { removed = convs.remove("c-token"); });
    CHECK_FALSE(removed);
    CHECK(db.messages().count() == 1);
    CHECK(db.messages().all("c-token").empty());
    CHECK_FALSE(db.statuses().find("c-token", "a").has_value());
    CHECK(db.members().seats_of("alice").empty());
    CHECK(db.audit_table().newest("c-token", 10).size() == 1);
    CHECK(convs.count() == 3);
  });
}

TEST_CASE("a second conversation with the same member key is refused") {
  on_each([](store::Database& db) {
    write(db, [&] { db.conversations().insert(agents_conv("k1", "x,y")); });
    store::WriteTransaction tx(db);
    CHECK_THROWS(db.conversations().insert(agents_conv("k2", "x,y")));
  });
}

TEST_CASE("messages: ids, unread and after, read marks given and taken back, rate windows") {
  on_each([](store::Database& db) {
    auto& m = db.messages();
    std::vector<std::int64_t> ids;
    write(db, [&] {
      db.conversations().insert(token_conv("c", 1, 1'000'000));
      db.conversations().insert(token_conv("other", 1, 1'000'000));
      MessageRow first = msg("c", "a", "b", "first", 100);
      first.files_json = R"(["f.txt"])";
      first.redactions_json = R"({"n":2})";
      first.action_type = "review";
      ids.push_back(m.insert(first));
      MessageRow reply = msg("c", "b", "a", "reply", 110);
      reply.reply_to = ids[0];
      ids.push_back(m.insert(reply));
      ids.push_back(m.insert(msg("c", "a", "b", "third", 120)));
      ids.push_back(m.insert(msg("c", "a", "b", "fourth", 130)));
      MessageRow imported = msg("c", "system", "b", "imported", 140);
      imported.read_ms = 141;  // an import keeps its read state
      ids.push_back(m.insert(imported));
      m.insert(msg("other", "a", "b", "elsewhere", 150));
    });
    for (std::size_t i = 1; i < ids.size(); ++i) CHECK(ids[i] > ids[i - 1]);
    CHECK(m.count() == 6);

    const auto first = m.find(ids[0]);
    REQUIRE(first.has_value());
    CHECK(first->conversation_id == "c");
    CHECK(first->sender == "a");
    CHECK(first->recipient == "b");
    CHECK(first->body == "first");
    CHECK(first->action_type == "review");
    CHECK(first->files_json == R"(["f.txt"])");
    CHECK(first->redactions_json == R"({"n":2})");
    CHECK(first->created_ms == 100);
    CHECK_FALSE(first->read_ms.has_value());
    CHECK_FALSE(first->reply_to.has_value());
    CHECK(m.find(ids[1])->reply_to == std::optional<std::int64_t>(ids[0]));
    CHECK(m.find(ids[4])->read_ms == std::optional<std::int64_t>(141));
    CHECK_FALSE(m.find(ids[4] + 1000).has_value());

    CHECK(ids_of(m.unread("c", "b", 10)) == std::vector<std::int64_t>{ids[0], ids[2], ids[3]});
    CHECK(ids_of(m.unread("c", "b", 2)) == std::vector<std::int64_t>{ids[0], ids[2]});
    CHECK(m.unread_count("c", "b") == 3);
    CHECK(m.unread_count("c", "a") == 1);
    CHECK(ids_of(m.after("c", "b", ids[0], 10)) ==
          std::vector<std::int64_t>{ids[2], ids[3], ids[4]});
    CHECK(ids_of(m.after("c", "b", 0, 1)) == std::vector<std::int64_t>{ids[0]});

    // mark_read marks only those not read already.
    write(db, [&] { m.mark_read({ids[0], ids[2], ids[4]}, 500); });
    write(db, [&] { m.mark_read({}, 501); });
    CHECK(m.find(ids[0])->read_ms == std::optional<std::int64_t>(500));
    CHECK(m.find(ids[4])->read_ms == std::optional<std::int64_t>(141));
    CHECK(m.unread_count("c", "b") == 1);

    // unmark_read: only (after_id, up_to_id] to that recipient read at exactly marked_ms.
    std::int64_t undone = 0;
    write(db, [&] { undone = m.unmark_read("c", "b", ids[0], ids[4], 500); });
    CHECK(undone == 1);  // ids[2]; ids[0] is not after after_id, ids[4] was read at 141
    CHECK_FALSE(m.find(ids[2])->read_ms.has_value());
    CHECK(m.find(ids[0])->read_ms == std::optional<std::int64_t>(500));
    write(db, [&] { undone = m.unmark_read("c", "b", 0, ids[4], 999); });
    CHECK(undone == 0);

    // Rate windows: a's messages at 100, 120, 130 in "c".
    CHECK(m.sent_since("c", "a", {0, 110, 130, 131}) == std::vector<std::int64_t>{3, 2, 1, 0});
    CHECK(m.sent_since("c", "a", {}).empty());
    CHECK(m.sent_since("c", "nobody", {0}) == std::vector<std::int64_t>{0});
    CHECK(m.nth_sent_time("c", "a", 0, 0) == std::optional<std::int64_t>(100));
    CHECK(m.nth_sent_time("c", "a", 0, 2) == std::optional<std::int64_t>(130));
    CHECK(m.nth_sent_time("c", "a", 105, 0) == std::optional<std::int64_t>(120));
    CHECK_FALSE(m.nth_sent_time("c", "a", 0, 3).has_value());

    CHECK(ids_of(m.all("c")) == ids);
    CHECK(m.all("nope").empty());
  });
}

TEST_CASE("insert_if_current: only while the conversation goes by the names and is live") {
  on_each([](store::Database& db) {
    write(db, [&] {
      db.conversations().insert(agents_conv("g", "alice,bob"));  // expires at 1,000,000
      db.conversations().insert(agents_conv("h", "alice,carol"));
    });
    auto& m = db.messages();
    std::int64_t id = -1;
    write(db, [&] {
      id = m.insert_if_current(msg("g", "alice", "*", "current", 5), "alice,bob", 999'999);
    });
    CHECK(id > 0);
    REQUIRE(m.find(id).has_value());
    CHECK(m.find(id)->body == "current");
    // Another key, the expiry reached, a retired key, a removed conversation: nothing stored.
    write(db, [&] {
      CHECK(m.insert_if_current(msg("g", "alice", "*", "x", 5), "alice,carol", 5) == 0);
    });
    write(db, [&] {
      CHECK(m.insert_if_current(msg("g", "alice", "*", "x", 5), "alice,bob", 1'000'000) == 0);
    });
    write(db, [&] { db.conversations().retire_member_key("g"); });
    write(db,
          [&] { CHECK(m.insert_if_current(msg("g", "alice", "*", "x", 5), "alice,bob", 5) == 0); });
    write(db, [&] { CHECK(db.conversations().remove("h")); });
    write(db, [&] {
      CHECK(m.insert_if_current(msg("h", "alice", "*", "x", 5), "alice,carol", 5) == 0);
    });
    CHECK(m.all("g").size() == 1);
    CHECK(m.count() == 1);
  });
}

TEST_CASE("for_each_after and the audit's for_each go in id order across pages and stop") {
  on_each([](store::Database& db) {
    constexpr int kRows = 600;  // more than one page of PgMessages' 256
    std::vector<std::int64_t> ids;
    write(db, [&] {
      db.conversations().insert(token_conv("c", 1, 1'000'000));
      db.conversations().insert(token_conv("other", 1, 1'000'000));
      for (int i = 0; i < kRows; ++i) {
        ids.push_back(
            db.messages().insert(msg(i % 7 == 3 ? "other" : "c", "a", "b", std::to_string(i), i)));
        db.audit_table().insert(
            store::AuditRow{0, i, "", "", "act", "ok", "{}", "p", "h" + std::to_string(i)});
      }
    });
    std::vector<std::int64_t> expected;
    for (int i = 0; i < kRows; ++i) {
      if (i % 7 != 3 && ids[static_cast<std::size_t>(i)] > ids[10]) {
        expected.push_back(ids[static_cast<std::size_t>(i)]);
      }
    }
    std::vector<std::int64_t> seen;
    db.messages().for_each_after("c", ids[10], [&](MessageRow&& m) {
      CHECK(m.conversation_id == "c");
      seen.push_back(m.id);
      return true;
    });
    CHECK(seen == expected);
    seen.clear();
    db.messages().for_each_after("c", 0, [&](MessageRow&& m) {
      seen.push_back(m.id);
      return seen.size() < 300;  // stops past the first page
    });
    CHECK(seen.size() == 300);

    std::vector<std::string> hashes;
    std::int64_t last_id = 0;
    bool ordered = true;
    db.audit_table().for_each([&](const store::AuditRow& r) {
      ordered = ordered && r.id > last_id;
      last_id = r.id;
      hashes.push_back(r.hash);
      return true;
    });
    CHECK(ordered);
    REQUIRE(hashes.size() == static_cast<std::size_t>(kRows));
    CHECK(hashes.front() == "h0");
    CHECK(hashes.back() == "h" + std::to_string(kRows - 1));
    int calls = 0;
    db.audit_table().for_each([&](const store::AuditRow&) { return ++calls < 257; });
    CHECK(calls == 257);
  });
}

TEST_CASE("statuses: upsert replaces, of lists both sessions by session") {
  on_each([](store::Database& db) {
    auto& s = db.statuses();
    write(db, [&] {
      db.conversations().insert(token_conv("c", 1, 1'000'000));
      s.upsert("c", "b", "reviewing", 10);
      s.upsert("c", "a", "writing", 11);
      s.upsert("c", "a", "idle", 12);
    });
    const auto a = s.find("c", "a");
    REQUIRE(a.has_value());
    CHECK(a->status == "idle");
    CHECK(a->heartbeat_ms == 12);
    CHECK_FALSE(s.find("c", "x").has_value());
    const auto both = s.of("c");
    REQUIRE(both.size() == 2);
    CHECK(both[0].session == "a");
    CHECK(both[0].row.status == "idle");
    CHECK(both[1].session == "b");
    CHECK(both[1].row.heartbeat_ms == 10);
    CHECK(s.of("nope").empty());
  });
}

TEST_CASE("audit: insert, newest by conversation or all, last_hash") {
  on_each([](store::Database& db) {
    auto& a = db.audit_table();
    CHECK(a.shared() == (std::string(db.backend()) == "postgresql"));
    {
      store::WriteTransaction tx(db);
      CHECK_FALSE(a.last_hash().has_value());
    }
    write(db, [&] {
      db.conversations().insert(token_conv("c", 1, 1'000'000));
      a.insert(store::AuditRow{0, 5, "c", "sess", "send", "ok", R"({"k":1})", "", "h1"});
      a.insert(store::AuditRow{0, 6, "", "", "start", "ok", "{}", "h1", "h2"});
      a.insert(store::AuditRow{0, 7, "c", "", "read", "denied", "{}", "h2", "h3"});
    });
    std::vector<std::int64_t> ids;  // the table numbers its rows in the order they came
    a.for_each([&](const store::AuditRow& r) {
      ids.push_back(r.id);
      return true;
    });
    REQUIRE(ids.size() == 3);
    const std::int64_t first = ids[0];
    const std::int64_t second = ids[1];
    CHECK(second > first);
    CHECK(ids[2] > second);
    {
      store::WriteTransaction tx(db);
      CHECK(a.last_hash() == std::optional<std::string>("h3"));
    }
    const auto all = a.newest("", 2);
    REQUIRE(all.size() == 2);
    CHECK(all[0].hash == "h3");
    CHECK(all[1].id == second);
    CHECK(all[1].conversation_id.empty());  // NULL read back as empty
    CHECK(all[1].session_id.empty());
    const auto of_c = a.newest("c", 10);
    REQUIRE(of_c.size() == 2);
    CHECK(of_c[1].id == first);
    CHECK(of_c[1].ts_ms == 5);
    CHECK(of_c[1].conversation_id == "c");
    CHECK(of_c[1].session_id == "sess");
    CHECK(of_c[1].action == "send");
    CHECK(of_c[1].outcome == "ok");
    CHECK(of_c[1].details_json == R"({"k":1})");
    CHECK(of_c[1].prev_hash.empty());
    CHECK(of_c[1].hash == "h1");
    CHECK(of_c[0].outcome == "denied");
  });
}

TEST_CASE("agents: upsert keeps created_ms and replaces the rest; all by name, byte order") {
  on_each([](store::Database& db) {
    auto& agents = db.agents();
    store::AgentRow alice{"alice", "/p", "claude-code", "s1", "", "", 0, 100, 100};
    store::AgentRow zed{"Zed", "/z", "", "", "", "", 0, 50, 50};  // 'Z' sorts before 'a'
    write(db, [&] {
      agents.upsert(alice);
      agents.upsert(zed);
    });
    store::AgentRow again = alice;
    again.project = "/q";
    again.client = "codex";
    again.client_session_id = "s2";
    again.status = "busy";
    again.note = "on it";
    again.status_ms = 300;
    again.created_ms = 999;  // ignored: the agent exists
    again.last_seen_ms = 301;
    write(db, [&] { agents.upsert(again); });
    const auto found = agents.find("alice");
    REQUIRE(found.has_value());
    CHECK(found->project == "/q");
    CHECK(found->client == "codex");
    CHECK(found->client_session_id == "s2");
    CHECK(found->status == "busy");
    CHECK(found->note == "on it");
    CHECK(found->status_ms == 300);
    CHECK(found->created_ms == 100);
    CHECK(found->last_seen_ms == 301);
    CHECK_FALSE(agents.find("bob").has_value());
    const auto all = agents.all();
    REQUIRE(all.size() == 2);
    CHECK(all[0].name == "Zed");
    CHECK(all[1].name == "alice");
    if (std::string(db.backend()) == "postgresql") {
      // The upserting daemon's identity; a store of one daemon leaves them empty.
      CHECK(found->host == "host-one");
      CHECK(found->daemon_id == "daemon-one");
      CHECK(all[0].host == "host-one");
    } else {
      CHECK(found->host.empty());
      CHECK(found->daemon_id.empty());
    }
    CHECK(found->heartbeat_ms == 0);
  });
}

TEST_CASE("PostgreSQL: an upsert moves the agent's heartbeat forward only, or to 0 (offline)") {
  if (pg_url() == nullptr) {
    REQUIRE_MESSAGE(std::getenv("CB_TEST_PG_REQUIRED") == nullptr,
                    "CB_TEST_PG_URL is not set: run this under tests/pg/with-pg");
    MESSAGE("CB_TEST_PG_URL is not set: SQLite keeps no heartbeats");
    return;
  }
  auto opened = store::pg::PgDatabase::open(pg_options(fresh_schema()));
  if (!opened.ok()) FAIL(opened.status().message());
  store::Database& db = **opened;
  store::AgentRow row{"alice", "/p", "", "", "", "", 0, 100, 100};
  auto heartbeat_after = [&](std::int64_t given) {
    row.heartbeat_ms = given;
    write(db, [&] { db.agents().upsert(row); });
    return db.agents().find("alice")->heartbeat_ms;
  };
  CHECK(heartbeat_after(5000) == 5000);  // a new row takes the one given
  CHECK(heartbeat_after(3000) == 5000);  // an older one (a cached row) never moves it back
  CHECK(heartbeat_after(6000) == 6000);
  CHECK(heartbeat_after(0) == 0);  // disconnected: offline at once
  CHECK(heartbeat_after(7000) == 7000);
}

TEST_CASE("members: insert keeps a membership, positions advance forward or are set back") {
  on_each([](store::Database& db) {
    auto& members = db.members();
    write(db, [&] {
      db.conversations().insert(agents_conv("g", "alice,bob,carol"));
      db.conversations().insert(token_conv("t1", 1, 1'000'000));
      db.conversations().insert(token_conv("t2", 1, 1'000'000));
      members.insert(member("carol", "g"));
      members.insert(member("alice", "g", "", 5));
      members.insert(member("bob", "g"));
      members.insert(member("alice", "g", "", 40));  // kept: still 5
      members.insert(member("alice", "t2", "b"));
      members.insert(member("alice", "t1", "a"));
      members.insert(member("dave", "t1", "b"));
    });
    const auto alice = members.find("alice", "g");
    REQUIRE(alice.has_value());
    CHECK(alice->read_up_to == 5);
    CHECK(alice->seat.empty());
    CHECK(alice->joined_ms == 77);
    CHECK_FALSE(members.find("alice", "nope").has_value());
    const auto of_g = members.of_conversation("g");
    REQUIRE(of_g.size() == 3);
    CHECK(of_g[0].agent == "alice");
    CHECK(of_g[1].agent == "bob");
    CHECK(of_g[2].agent == "carol");
    const auto seats = members.seats_of("alice");
    REQUIRE(seats.size() == 2);
    CHECK(seats[0].conversation_id == "t1");
    CHECK(seats[0].seat == "a");
    CHECK(seats[1].conversation_id == "t2");
    CHECK(members.seats_of("bob").empty());
    // A wait's first look: the same seats and the first page of the whole inbox, read together.
    std::int64_t to_seat = 0, from_alice = 0, in_g = 0;
    write(db, [&] {
      // Past alice's position in g (5): to dave's seat, nobody else's mail.
      for (int i = 0; i < 5; ++i) db.messages().insert(msg("t1", "a", "b", "to dave", 6));
      to_seat = db.messages().insert(msg("t1", "b", "a", "to alice's seat", 7));
      from_alice = db.messages().insert(msg("g", "alice", "*", "alice's own", 8));
      in_g = db.messages().insert(msg("g", "bob", "*", "to the group", 9));
    });
    const auto first_look = db.inboxes().wait_start("alice", 10);
    REQUIRE(first_look.seats.size() == 2);
    CHECK(first_look.seats[0].conversation_id == "t1");
    CHECK(first_look.seats[0].seat == "a");
    CHECK(first_look.seats[1].conversation_id == "t2");
    CHECK(ids_of(first_look.page) == std::vector<std::int64_t>{to_seat, in_g});
    CHECK(ids_of(first_look.page) == ids_of(db.inboxes().whole_inbox("alice", 10)));
    CHECK(ids_of(db.inboxes().wait_start("alice", 1).page) == std::vector<std::int64_t>{to_seat});
    const auto bobs = db.inboxes().wait_start("bob", 10);
    CHECK(bobs.seats.empty());
    CHECK(ids_of(bobs.page) == std::vector<std::int64_t>{from_alice});  // not its own
    // move_past is advance without its answer (a team's store queues it).
    write(db, [&] { members.move_past("bob", "g", from_alice); });
    CHECK(members.find("bob", "g")->read_up_to == from_alice);
    write(db, [&] { members.move_past("bob", "g", 0); });  // never back
    CHECK(members.find("bob", "g")->read_up_to == from_alice);
    CHECK(db.inboxes().wait_start("bob", 10).page.empty());
    CHECK(members.seat_holder("t1", "a") == std::optional<std::string>("alice"));
    CHECK(members.seat_holder("t1", "b") == std::optional<std::string>("dave"));
    CHECK_FALSE(members.seat_holder("t2", "a").has_value());

    // advance answers the position it moved from (what a read given back returns to).
    const std::int64_t start = members.find("alice", "g")->read_up_to;
    std::int64_t before = -1;
    write(db, [&] { before = members.advance("alice", "g", 9); });
    CHECK(before == start);
    CHECK(members.find("alice", "g")->read_up_to == 9);
    write(db, [&] { before = members.advance("alice", "g", 3); });  // never back
    CHECK(before == 9);
    CHECK(members.find("alice", "g")->read_up_to == 9);
    write(db, [&] { before = members.advance("nobody", "g", 3); });
    CHECK(before == 0);
    write(db, [&] { members.set_position("alice", "g", 2); });  // a read given back
    CHECK(members.find("alice", "g")->read_up_to == 2);
    write(db, [&] { members.set_position("alice", "g", 12); });
    CHECK(members.find("alice", "g")->read_up_to == 12);
  });
}

namespace {

// alice is a member of the groups g1 and g2 and holds seat a of the token conversation t;
// bob and carol write to the groups, b writes to seat a.
struct Inbox {
  std::int64_t g1_bob = 0, g2_carol = 0, t_to_a = 0, g1_own = 0, g1_carol = 0, t_to_b = 0,
               g2_bob = 0, t_read = 0;
};

Inbox fill_inbox(store::Database& db) {
  Inbox x;
  write(db, [&] {
    auto& c = db.conversations();
    c.insert(agents_conv("g1", "alice,bob,carol"));
    c.insert(agents_conv("g2", "alice,carol"));
    c.insert(token_conv("t", 1, 1'000'000));
    auto& me = db.members();
    for (const char* who : {"alice", "bob", "carol"}) me.insert(member(who, "g1"));
    me.insert(member("alice", "g2"));
    me.insert(member("carol", "g2"));
    me.insert(member("alice", "t", "a"));
    auto& m = db.messages();
    x.g1_bob = m.insert(msg("g1", "bob", "*", "hello from bob", 100));
    x.g2_carol = m.insert(msg("g2", "carol", "*", "g2 says hi", 101));
    x.t_to_a = m.insert(msg("t", "b", "a", "token msg", 102));
    x.g1_own = m.insert(msg("g1", "alice", "*", "alice's own", 103));
    x.g1_carol = m.insert(msg("g1", "carol", "*", "carol in g1", 104));
    x.t_to_b = m.insert(msg("t", "a", "b", "to b", 105));
    x.g2_bob = m.insert(msg("g2", "bob", "*", "bob, not a member of g2", 106));
    x.t_read = m.insert(msg("t", "b", "a", "read already", 107));
    m.mark_read({x.t_read}, 200);
  });
  return x;
}

}  // namespace

TEST_CASE("inboxes: agent_inbox, seat_inbox and their union in whole_inbox, in id order") {
  on_each([](store::Database& db) {
    const Inbox x = fill_inbox(db);
    auto& in = db.inboxes();
    using V = std::vector<std::int64_t>;
    CHECK(ids_of(in.agent_inbox("alice", 0, 10)) == V{x.g1_bob, x.g2_carol, x.g1_carol, x.g2_bob});
    CHECK(ids_of(in.agent_inbox("alice", 0, 2)) == V{x.g1_bob, x.g2_carol});
    CHECK(ids_of(in.agent_inbox("alice", x.g2_carol, 10)) == V{x.g1_carol, x.g2_bob});
    CHECK(ids_of(in.seat_inbox("alice", 10)) == V{x.t_to_a});
    CHECK(in.seat_inbox("bob", 10).empty());
    // The union, interleaved by id across memberships and seats.
    CHECK(ids_of(in.whole_inbox("alice", 10)) ==
          V{x.g1_bob, x.g2_carol, x.t_to_a, x.g1_carol, x.g2_bob});
    CHECK(ids_of(in.whole_inbox("alice", 3)) == V{x.g1_bob, x.g2_carol, x.t_to_a});
    CHECK(ids_of(in.whole_inbox("bob", 10)) == V{x.g1_own, x.g1_carol});  // a sole membership
    CHECK(in.whole_inbox("nobody", 10).empty());

    write(db, [&] { db.members().advance("alice", "g1", x.g1_carol); });
    CHECK(ids_of(in.agent_inbox("alice", 0, 10)) == V{x.g2_carol, x.g2_bob});
    CHECK(ids_of(in.whole_inbox("alice", 10)) == V{x.g2_carol, x.t_to_a, x.g2_bob});
    // after_id > 0 ignores the read position (g1_carol is at it).
    CHECK(ids_of(in.agent_inbox("alice", x.g1_bob, 10)) == V{x.g2_carol, x.g1_carol, x.g2_bob});

    CHECK(ids_of(in.conversation_inbox("g2", "alice", 0, 10)) == V{x.g2_carol, x.g2_bob});
    CHECK(ids_of(in.conversation_inbox("g1", "alice", 0, 10)).empty());
    CHECK(ids_of(in.conversation_inbox("g1", "alice", x.g1_bob, 10)) == V{x.g1_carol});
    CHECK(ids_of(in.conversation_inbox("g2", "alice", 0, 1)) == V{x.g2_carol});
    CHECK(in.conversation_inbox("g2", "bob", 0, 10).empty());  // not a member

    CHECK(in.conversation_of(x.t_to_a) == std::optional<std::string>("t"));
    CHECK_FALSE(in.conversation_of(x.t_read + 100).has_value());
  });
}

TEST_CASE("inboxes: unread counts by sender and in total, senders_since, unmark_ids") {
  on_each([](store::Database& db) {
    const Inbox x = fill_inbox(db);
    auto& in = db.inboxes();
    using Counts = std::vector<std::pair<std::string, std::int64_t>>;
    auto by_sender = in.agent_unread_by_sender("alice");
    std::sort(by_sender.begin(), by_sender.end());
    CHECK(by_sender == Counts{{"bob", 2}, {"carol", 2}});
    CHECK(in.agent_unread("alice") == 5);  // 4 in groups + 1 to its seat
    CHECK(in.agent_unread("bob") == 2);    // carol's and alice's in g1
    CHECK(in.agent_unread("nobody") == 0);
    CHECK(in.member_unread("g1", "alice") == 2);
    CHECK(in.member_unread("g2", "alice") == 2);
    CHECK(in.member_unread("g2", "bob") == 0);

    auto senders = in.senders_since(104);
    std::sort(senders.begin(), senders.end(), [](const auto& a, const auto& b) {
      return std::tie(a.conversation_id, a.sender, a.recipient) <
             std::tie(b.conversation_id, b.sender, b.recipient);
    });
    REQUIRE(senders.size() == 4);
    CHECK(senders[0].conversation_id == "g1");
    CHECK(senders[0].sender == "carol");
    CHECK(senders[0].recipient == "*");
    CHECK(senders[0].messages == 1);
    CHECK(senders[1].conversation_id == "g2");
    CHECK(senders[2].conversation_id == "t");
    CHECK(senders[2].sender == "a");
    CHECK(senders[3].sender == "b");
    CHECK(senders[3].messages == 1);
    CHECK(in.senders_since(0).size() == 7);  // (conv, sender, recipient) groups

    std::int64_t undone = 0;
    write(db, [&] { db.messages().mark_read({x.t_to_a}, 300); });
    CHECK(in.agent_unread("alice") == 4);
    write(db, [&] { undone = in.unmark_ids({x.t_to_a, x.t_read, x.g1_bob}, 300); });
    CHECK(undone == 1);  // t_read was read at 200, g1_bob never
    CHECK(in.agent_unread("alice") == 5);
    write(db, [&] { undone = in.unmark_ids({x.t_read}, 200); });
    CHECK(undone == 1);
    write(db, [&] { undone = in.unmark_ids({}, 200); });
    CHECK(undone == 0);
    CHECK(ids_of(in.seat_inbox("alice", 10)) == std::vector<std::int64_t>{x.t_to_a, x.t_read});
  });
}

TEST_CASE("agent_unread_after: after an id, limited, each body cut to characters, not bytes") {
  on_each([](store::Database& db) {
    const Inbox x = fill_inbox(db);
    std::int64_t accented = 0;
    std::int64_t seat_msg = 0;
    write(db, [&] {
      // Two-, three- and four-byte characters: "héllo w" is 7 characters and 8 bytes.
      accented =
          db.messages().insert(msg("g1", "bob", "*", "héllo wörld ✓ 日本語 🙂 end", 300));
      seat_msg = db.messages().insert(msg("t", "b", "a", "ñandú über", 301));
    });
    auto& in = db.inboxes();
    using V = std::vector<std::int64_t>;
    const auto all = in.agent_unread_after("alice", 0, 100, 1000);
    CHECK(ids_of(all) ==
          V{x.g1_bob, x.g2_carol, x.t_to_a, x.g1_carol, x.g2_bob, accented, seat_msg});
    CHECK(all[0].body == "hello from bob");
    CHECK(all[0].sender == "bob");
    CHECK(all[0].conversation_id == "g1");

    const auto cut = in.agent_unread_after("alice", x.g2_bob, 10, 7);
    REQUIRE(cut.size() == 2);
    CHECK(cut[0].id == accented);
    CHECK(cut[0].body == "héllo w");
    CHECK(cut[1].body == "ñandú ü");
    const auto cut15 = in.agent_unread_after("alice", x.g2_bob, 1, 15);
    REQUIRE(cut15.size() == 1);
    CHECK(cut15[0].body == "héllo wörld ✓ 日");
    CHECK(in.agent_unread_after("alice", x.g2_bob, 10, 19)[0].body ==
          "héllo wörld ✓ 日本語 🙂");
    CHECK(in.agent_unread_after("alice", x.g2_bob, 10, 0)[0].body.empty());

    CHECK(ids_of(in.agent_unread_after("alice", x.g2_carol, 2, 5)) == V{x.t_to_a, x.g1_carol});
    // The read position counts when it is past after_id; read seat messages never show.
    write(db, [&] {
      db.members().advance("alice", "g1", accented);
      db.messages().mark_read({seat_msg}, 400);
    });
    CHECK(ids_of(in.agent_unread_after("alice", 0, 100, 5)) == V{x.g2_carol, x.t_to_a, x.g2_bob});
    CHECK(in.agent_unread_after("nobody", 0, 100, 5).empty());
  });
}

TEST_CASE("PostgreSQL: last_hash holds the audit chain's lock until the caller's commit") {
  if (pg_url() == nullptr) {
    REQUIRE_MESSAGE(std::getenv("CB_TEST_PG_REQUIRED") == nullptr,
                    "CB_TEST_PG_URL is not set: run this under tests/pg/with-pg");
    MESSAGE("CB_TEST_PG_URL is not set: nothing to check on SQLite");
    return;
  }
  auto opened = store::pg::PgDatabase::open(pg_options(fresh_schema()));
  if (!opened.ok()) FAIL(opened.status().message());
  store::pg::PgDatabase& db = **opened;
  // Another daemon's connection: the lock is free when it can take it (released again at the
  // end of its own one-statement transaction).
  store::pg::Connection other(pg_url());
  auto chain_free = [&] {
    return other.query("SELECT pg_try_advisory_xact_lock(7270271)").boolean(0, 0);
  };
  CHECK(chain_free());
  {
    store::WriteTransaction tx(db);
    CHECK_FALSE(db.audit_table().last_hash().has_value());
    CHECK_FALSE(chain_free());  // no other daemon can append between the read and the insert
    db.audit_table().insert(store::AuditRow{0, 1, "", "", "start", "ok", "{}", "", "h1"});
    CHECK_FALSE(chain_free());
    tx.commit();
  }
  CHECK(chain_free());
  {
    store::WriteTransaction tx(db);
    CHECK(db.audit_table().last_hash() == std::optional<std::string>("h1"));
    // Rolled back: released too.
  }
  CHECK(chain_free());
}

TEST_CASE("PostgreSQL: ids, names and seats compare byte-wise whatever the database's locale") {
  if (pg_url() == nullptr) {
    REQUIRE_MESSAGE(std::getenv("CB_TEST_PG_REQUIRED") == nullptr,
                    "CB_TEST_PG_URL is not set: run this under tests/pg/with-pg");
    MESSAGE("CB_TEST_PG_URL is not set: nothing to check on SQLite");
    return;
  }
  auto opened = store::pg::PgDatabase::open(pg_options(fresh_schema()));
  if (!opened.ok()) FAIL(opened.status().message());
  // The test cluster's locale is C.UTF-8, where the database's default already sorts by bytes:
  // the columns' own collation is what keeps SQLite's order under any other locale.
  const auto rows = (*opened)->connection().query(
      "SELECT table_name || '.' || column_name FROM information_schema.columns"
      " WHERE table_schema = current_schema() AND collation_name = 'C'"
      " ORDER BY table_name, column_name");
  std::vector<std::string> c_columns;
  for (int r = 0; r < rows.size(); ++r) c_columns.push_back(rows.text(r, 0));
  for (const char* column :
       {"agents.name", "conversations.id", "conversations.member_key", "members.agent",
        "members.conversation_id", "members.seat", "messages.conversation_id", "messages.sender",
        "messages.recipient", "statuses.session"}) {
    CAPTURE(column);
    CHECK(std::find(c_columns.begin(), c_columns.end(), column) != c_columns.end());
  }
}

TEST_CASE("PostgreSQL: a daemon reading the chain's head waits for another's append and sees it") {
  if (pg_url() == nullptr) {
    REQUIRE_MESSAGE(std::getenv("CB_TEST_PG_REQUIRED") == nullptr,
                    "CB_TEST_PG_URL is not set: run this under tests/pg/with-pg");
    MESSAGE("CB_TEST_PG_URL is not set: nothing to check on SQLite");
    return;
  }
  const std::string schema = fresh_schema();
  auto one = store::pg::PgDatabase::open(pg_options(schema));
  if (!one.ok()) FAIL(one.status().message());
  store::pg::Options second = pg_options(schema);
  second.self.daemon_id = "daemon-two";
  auto two = store::pg::PgDatabase::open(second);
  if (!two.ok()) FAIL(two.status().message());
  store::pg::Connection observer(pg_url());

  std::optional<std::string> seen_by_two;
  std::atomic<bool> two_done{false};
  {
    store::WriteTransaction tx(**one);
    CHECK_FALSE((*one)->audit_table().last_hash().has_value());
    (*one)->audit_table().insert(store::AuditRow{0, 1, "", "", "start", "ok", "{}", "", "h1"});
    std::thread other([&] {
      store::WriteTransaction tx2(**two);
      seen_by_two = (*two)->audit_table().last_hash();
      two_done = true;
    });
    // Commit only once daemon two waits for the chain (or has already read it, which is the
    // fork this guards against, and fails below).
    for (;;) {
      const auto waiting = observer.query(
          "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted");
      if (waiting.int64(0, 0) > 0) break;
      if (two_done) break;
      std::this_thread::yield();
    }
    tx.commit();
    other.join();
  }
  // Its read ran after the append committed: the chain goes on from h1, not from nothing.
  CHECK(seen_by_two == std::optional<std::string>("h1"));
}

// What a PgDatabase's listener thread posts, run on the test's thread.
using store::pg::testing::Mailbox;

TEST_CASE(
    "PostgreSQL: a committed message is announced to the other daemons, a rolled back one "
    "never") {
  if (pg_url() == nullptr) {
    REQUIRE_MESSAGE(std::getenv("CB_TEST_PG_REQUIRED") == nullptr,
                    "CB_TEST_PG_URL is not set: run this under tests/pg/with-pg");
    MESSAGE("CB_TEST_PG_URL is not set: nothing to check on SQLite");
    return;
  }
  const std::string schema = fresh_schema();
  Mailbox box;  // before the stores: the listener may post until `two` is gone
  auto one = store::pg::PgDatabase::open(pg_options(schema));
  if (!one.ok()) FAIL(one.status().message());
  store::pg::Options second = pg_options(schema);
  second.self.daemon_id = "daemon-two";
  auto two = store::pg::PgDatabase::open(second);
  if (!two.ok()) FAIL(two.status().message());
  store::Database& db = **one;
  write(db, [&] { db.conversations().insert(token_conv("c", 1, 1'000'000)); });

  (*two)->listen(box.post(), [&](const store::pg::MailNotice& n) { box.got.push_back(n); });
  // The listener connects on its own thread: send until one announcement arrives.
  std::int64_t warm_up = 0;
  for (int i = 0; i < 6000 && box.got.empty(); ++i) {
    write(db, [&] { warm_up = db.messages().insert(msg("c", "a", "b", "warm-up", 1)); });
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    box.drain();
  }
  REQUIRE_FALSE(box.got.empty());
  CHECK(box.got.front().daemon_id == "daemon-one");
  CHECK(box.got.front().conversation_id == "c");

  {
    store::WriteTransaction tx(db);
    db.messages().insert(msg("c", "b", "a", "rolled back", 2));
  }
  std::int64_t sent = 0;
  write(db, [&] { sent = db.messages().insert(msg("c", "system", "a", "committed", 3)); });
  auto after_warm_up = [&] {
    std::vector<store::pg::MailNotice> out;
    for (const auto& n : box.got) {
      if (n.message_id > warm_up) out.push_back(n);
    }
    return out;
  };
  for (int i = 0; i < 6000 && after_warm_up().empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    box.drain();
  }
  // Notices arrive in commit order: the rolled back insert's would have come first.
  const auto notices = after_warm_up();
  REQUIRE(notices.size() == 1);
  CHECK(notices[0].daemon_id == "daemon-one");
  CHECK(notices[0].conversation_id == "c");
  CHECK(notices[0].message_id == sent);
  CHECK(notices[0].sender == "system");
  CHECK(notices[0].recipient == "a");
  CHECK(notices[0].members.empty());  // a token seat's message: the receivers read it

  // A message to a conversation of agents names its members (token seats are none), so the
  // other daemons wake them without reading anything.
  write(db, [&] {
    db.conversations().insert(agents_conv("g", "alice,carol"));
    db.members().insert({"carol", "g", "", 0, 1});
    db.members().insert({"alice", "g", "", 0, 1});
    db.members().insert({"dave", "g", "a", 0, 1});
  });
  std::int64_t to_all = 0;
  write(db, [&] { to_all = db.messages().insert(msg("g", "alice", "*", "to all", 4)); });
  auto to_group = [&] {
    for (const auto& n : box.got) {
      if (n.message_id == to_all) return std::optional<store::pg::MailNotice>(n);
    }
    return std::optional<store::pg::MailNotice>();
  };
  for (int i = 0; i < 6000 && !to_group(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    box.drain();
  }
  REQUIRE(to_group());
  CHECK(to_group()->members == std::vector<std::string>{"alice", "carol"});
}

TEST_CASE("PostgreSQL: the schema is refused in a database whose encoding is not UTF8") {
  const char* bin = std::getenv("CB_TEST_PG_BIN");
  const char* sock = std::getenv("CB_TEST_PG_SOCKET_DIR");
  const char* port = std::getenv("CB_TEST_PG_PORT");
  if (pg_url() == nullptr || bin == nullptr || sock == nullptr || port == nullptr) {
    REQUIRE_MESSAGE(std::getenv("CB_TEST_PG_REQUIRED") == nullptr,
                    "the cluster's superuser is out of reach: run this under tests/pg/with-pg");
    MESSAGE("no tests/pg/with-pg cluster: nothing to check");
    return;
  }
  // The cluster's superuser makes a SQL_ASCII database (initdb's choice under a C locale) that
  // the test's role may create schemas in.
  const std::string db_name = "bridge_ascii_" + std::to_string(::getpid());
  const char* run_as = std::getenv("CB_TEST_PG_RUNAS");
  const std::string psql = std::string(run_as ? run_as : "") + " " + bin + "/psql -X -q -h " +
                           sock + " -p " + port + " -U postgres -d postgres -v ON_ERROR_STOP=1";
  const std::string create = psql + " -c \"CREATE DATABASE " + db_name +
                             " ENCODING 'SQL_ASCII' LOCALE 'C' TEMPLATE template0\" -c \"GRANT "
                             "CREATE ON DATABASE " +
                             db_name + " TO PUBLIC\"";
  REQUIRE(std::system(create.c_str()) == 0);
  store::pg::Options o = pg_options("t_ascii");
  o.conninfo = std::string(pg_url()) + " dbname=" + db_name;
  auto opened = store::pg::PgDatabase::open(o);
  REQUIRE_FALSE(opened.ok());
  CHECK(opened.status().message().find("encoding is SQL_ASCII, not UTF8") != std::string::npos);
}
