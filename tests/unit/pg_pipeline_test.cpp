// The PostgreSQL store's round trips (issue 27): statements queued on the connection and sent
// with the next one that is waited for (libpq's pipeline mode), what a failure among them does
// to a group, and the team's write lock taken before a transaction's first write; and the plans
// of the inbox reads. Against the throw-away server of tests/pg/with-pg; round trips and index
// scans are counted, never timed.
#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <vector>

#include "daemon/store/database.h"
#include "daemon/store/pg/pg_connection.h"
#include "daemon/store/pg/pg_database.h"
#include "daemon/store/tables.h"
#include "tests/unit/pg_test_helpers.h"

using namespace cb;
using namespace cb::store;
using namespace cb::store::pg;
using namespace cb::store::pg::testing;

namespace {

// Sessions holding the team's write lock (pg_advisory_xact_lock(7270271): a bigint key is
// classid 0, objid the key, objsubid 1), as another daemon sees them.
std::int64_t lock_holders(Connection& other) {
  return other
      .query(
          "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = 0 AND "
          "objid = 7270271 AND objsubid = 1 AND granted")
      .int64(0, 0);
}

// A fresh schema with a table to write; with `loop`, its groups commit when the test runs it.
std::unique_ptr<PgDatabase> scratch_db(Loop* loop = nullptr) {
  auto db = open_db(options_for(fresh_schema()));
  db->connection().run("CREATE TABLE scratch (v INT PRIMARY KEY)");
  if (loop) db->enable_group_commit(loop->defer());
  return db;
}

AuditRow audit_row(const std::string& prev, const std::string& hash) {
  AuditRow a;
  a.ts_ms = 1;
  a.action = "test";
  a.outcome = "ok";
  a.details_json = "{}";
  a.prev_hash = prev;
  a.hash = hash;
  return a;
}

// Alice and bob, the members of the agents' conversation "g".
void agents_pair(Database& db) {
  WriteTransaction tx(db);
  ConversationRow g;
  g.id = "g";
  g.kind = "agents";
  g.member_key = "alice,bob";
  g.created_ms = 1;
  g.expires_ms = 1'000'000'000'000;
  db.conversations().insert(g);
  db.members().insert({"alice", "g", "", 0, 1});
  db.members().insert({"bob", "g", "", 0, 1});
  tx.commit();
}

MessageRow mail(const std::string& sender, const std::string& body) {
  MessageRow m;
  m.conversation_id = "g";
  m.sender = sender;
  m.recipient = "*";
  m.body = body;
  m.action_type = "message";
  m.created_ms = 2;
  return m;
}

template <class Fn>
void write(Database& db, Fn fn) {
  WriteTransaction tx(db);
  fn();
  tx.commit();
}

}  // namespace

TEST_CASE("queued statements travel with the next query: one round trip, rows to on_rows") {
  if (!have_server()) return;
  auto db = scratch_db();
  Connection& c = db->connection();
  c.run("BEGIN");
  const std::uint64_t before = c.round_trips();
  c.defer("INSERT INTO scratch VALUES ($1)", {Param(1)});
  c.defer("INSERT INTO scratch VALUES ($1)", {Param(2)});
  std::int64_t seen = -1;
  c.defer("SELECT count(*) FROM scratch", {}, [&](const Rows& r) { seen = r.int64(0, 0); });
  CHECK(c.round_trips() == before);  // nothing went yet
  CHECK(c.has_deferred());
  CHECK(c.in_transaction());
  CHECK(seen == -1);
  const Rows rows = c.query("SELECT count(*) FROM scratch WHERE v > $1", {Param(0)});
  CHECK(c.round_trips() == before + 1);
  CHECK(rows.int64(0, 0) == 2);
  CHECK(seen == 2);
  CHECK_FALSE(c.has_deferred());
  // run() takes the queue along too, statement by statement.
  c.defer("INSERT INTO scratch VALUES ($1)", {Param(3)});
  c.run("SAVEPOINT s; RELEASE s");
  CHECK(c.round_trips() == before + 2);
  c.run("COMMIT");
  CHECK(count(*observer(db->options().schema), "scratch") == 3);
}

TEST_CASE("a queued statement the server refuses: the next one throws it, nothing recovers") {
  if (!have_server()) return;
  auto db = scratch_db();
  Connection& c = db->connection();
  c.run("BEGIN; SAVEPOINT call");
  c.set_recovery("ROLLBACK TO call");
  c.query("INSERT INTO scratch VALUES ($1)", {Param(1)});
  c.defer("INSERT INTO scratch VALUES ($1)", {Param(1)});  // a unique violation
  bool thrown = false;
  try {
    c.query("SELECT 1");
  } catch (const QueryError& e) {
    thrown = true;
    CHECK(e.queued());
    CHECK(e.sqlstate() == "23505");
    // Not this call's race to retry: a write sent with it failed, so it is called again.
    CHECK_FALSE(lost_race(e));
    const auto why = transient_refusal(e);
    REQUIRE(why);
    CHECK(why->find("call again") != std::string::npos);
    CHECK(storage_failure(e) == why);
  }
  CHECK(thrown);
  CHECK(c.deferred_failed());
  // The recovery did not run: rolling back to "call" could have undone an answered call.
  CHECK(c.transaction_failed());
  c.run("ROLLBACK");
  c.clear_deferred_failure();
  CHECK(c.query("SELECT 1").int64(0, 0) == 1);
}

TEST_CASE("a group: a call costs the round trips of its reads; its writes and commit are queued") {
  if (!have_server()) return;
  Loop loop;
  auto db = scratch_db(&loop);
  Connection& c = db->connection();
  const std::uint64_t before = c.round_trips();
  Ticket t;
  {
    WriteTransaction tx(*db);
    c.query("INSERT INTO scratch VALUES ($1)", {Param(1)});  // with BEGIN, the lock, the head
    const auto head = db->audit_table().last_hash();         // read with the lock: no trip
    CHECK_FALSE(head.has_value());
    db->audit_table().insert(audit_row("0", "h1"));  // queued
    t = tx.commit();                                 // queued
  }
  CHECK(c.round_trips() == before + 1);
  {
    WriteTransaction tx(*db);
    // The chain's head is this daemon's last append while the group holds the lock.
    CHECK(db->audit_table().last_hash() == std::optional<std::string>("h1"));
    db->audit_table().insert(audit_row("h1", "h2"));
    tx.commit();
  }
  CHECK(c.round_trips() == before + 1);
  std::string answer = "unset";
  db->when_durable(t, [&](const std::string& why) { answer = why; });
  loop.run();  // the commit, with the queued writes, and the flush: one round trip
  CHECK(c.round_trips() == before + 2);
  CHECK(answer.empty());
  auto other = observer(db->options().schema);
  CHECK(count(*other, "scratch") == 1);
  CHECK(other->query("SELECT string_agg(hash, ',' ORDER BY id) FROM audit").text(0, 0) == "h1,h2");
  // The group's COMMIT did not wait for the disk; the flush after it, which did, wrote the
  // daemon's row of `flushes` (a transaction writing nothing would not have waited).
  CHECK(other->query("SELECT n FROM flushes WHERE daemon_id = 'd1'").int64(0, 0) == 1);
}

TEST_CASE("a queued write of an earlier call that fails fails the whole group, never half of it") {
  if (!have_server()) return;
  Loop loop;
  auto db = scratch_db(&loop);
  Connection& c = db->connection();
  Ticket t1;
  {
    WriteTransaction tx(*db);
    c.query("INSERT INTO scratch VALUES ($1)", {Param(1)});
    c.defer("INSERT INTO scratch VALUES ($1)", {Param(1)});  // refused when it is sent
    t1 = tx.commit();
  }
  std::string why1 = "unset";
  db->when_durable(t1, [&](const std::string& why) { why1 = why; });
  {
    WriteTransaction tx(*db);
    CHECK_THROWS_AS(c.query("INSERT INTO scratch VALUES ($1)", {Param(2)}), QueryError);
  }  // this call's rollback cannot undo only itself: the first call is lost with it
  CHECK_FALSE(why1.empty());
  CHECK(why1 != "unset");
  REQUIRE(db->outcome(t1).has_value());
  CHECK_FALSE(db->outcome(t1)->empty());
  loop.run();
  auto other = observer(db->options().schema);
  CHECK(count(*other, "scratch") == 0);
  // The next group starts clean.
  Ticket t3;
  {
    WriteTransaction tx(*db);
    c.query("INSERT INTO scratch VALUES ($1)", {Param(3)});
    t3 = tx.commit();
  }
  loop.run();
  CHECK(db->outcome(t3) == std::string());
  CHECK(count(*other, "scratch") == 1);
}

TEST_CASE("the team's write lock: taken before the first write, freed with a call that took it") {
  if (!have_server()) return;
  Loop loop;
  auto db = scratch_db(&loop);
  Connection& c = db->connection();
  auto other = observer(db->options().schema);
  // A call that only reads (a wait that found nothing) takes no lock, and its rollback costs
  // no round trip.
  std::uint64_t before = 0;
  {
    WriteTransaction tx(*db);
    CHECK(c.query("SELECT count(*) FROM scratch").int64(0, 0) == 0);
    before = c.round_trips();
  }
  CHECK(c.round_trips() == before);
  CHECK(lock_holders(*other) == 0);
  {
    WriteTransaction tx(*db);
    c.query("INSERT INTO scratch VALUES ($1)", {Param(1)});
    tx.commit();
  }
  CHECK(lock_holders(*other) == 1);
  {
    WriteTransaction tx(*db);
    c.query("INSERT INTO scratch VALUES ($1)", {Param(2)});
  }  // rolled back; the lock was the transaction's already
  CHECK(lock_holders(*other) == 1);
  loop.run();
  CHECK(lock_holders(*other) == 0);
  {
    WriteTransaction tx(*db);
    c.query("INSERT INTO scratch VALUES ($1)", {Param(3)});
  }  // rolled back: PostgreSQL frees the lock with the savepoint the call took it in
  CHECK(lock_holders(*other) == 0);
  {
    WriteTransaction tx(*db);
    c.query("INSERT INTO scratch VALUES ($1)", {Param(4)});  // so it is taken again
    tx.commit();
  }
  CHECK(lock_holders(*other) == 1);
  loop.run();
  CHECK(lock_holders(*other) == 0);
  CHECK(count(*other, "scratch") == 2);
}

TEST_CASE("a wait's first look, its seats and its first page, is one round trip") {
  if (!have_server()) return;
  auto db = open_db(options_for(fresh_schema()));
  agents_pair(*db);
  write(*db, [&] { db->messages().insert(mail("bob", "hello alice")); });
  Connection& c = db->connection();
  const std::uint64_t before = c.round_trips();
  const Inboxes::WaitStart start = db->inboxes().wait_start("alice", 5);
  CHECK(c.round_trips() == before + 1);
  CHECK(start.seats.empty());
  REQUIRE(start.page.size() == 1);
  CHECK(start.page[0].body == "hello alice");
}

TEST_CASE("a page read from the position is marked without a round trip of its own") {
  if (!have_server()) return;
  Loop loop;
  auto db = open_db(options_for(fresh_schema()));
  agents_pair(*db);
  std::int64_t id = 0;
  write(*db, [&] { id = db->messages().insert(mail("bob", "hello alice")); });
  db->enable_group_commit(loop.defer());
  Connection& c = db->connection();
  auto other = observer(db->options().schema);
  const std::uint64_t before = c.round_trips();
  {
    WriteTransaction tx(*db);
    db->members().move_past("alice", "g", id);  // held for the commit, with the team's lock
    tx.commit();
  }
  CHECK(c.round_trips() == before);
  loop.run();  // the group's commit carries it
  CHECK(c.round_trips() == before + 1);
  CHECK(other->query("SELECT read_up_to FROM members WHERE agent = 'alice'").int64(0, 0) == id);
}

TEST_CASE("unread counts that can wait: one round trip for all of them, in the loop's next turn") {
  if (!have_server()) return;
  Loop loop;
  auto db = open_db(options_for(fresh_schema()));
  agents_pair(*db);
  write(*db, [&] {
    db->messages().insert(mail("bob", "one"));
    db->messages().insert(mail("bob", "two"));
    db->messages().insert(mail("alice", "three"));
  });
  db->enable_group_commit(loop.defer());
  Connection& c = db->connection();
  const std::uint64_t before = c.round_trips();
  std::vector<std::pair<std::string, std::int64_t>> got;
  for (const char* name : {"alice", "bob", "nobody"}) {
    db->inboxes().agent_unread_soon(name,
                                    [&got, name](std::int64_t n) { got.emplace_back(name, n); });
  }
  CHECK(c.round_trips() == before);
  CHECK(got.empty());
  loop.run();
  CHECK(c.round_trips() == before + 1);
  using Got = std::vector<std::pair<std::string, std::int64_t>>;
  CHECK(got == Got{{"alice", 2}, {"bob", 1}, {"nobody", 0}});

  // Asked for before a group opens, a count travels with the group's first statement (outside
  // its transaction) and the turn that follows has nothing left to send.
  got.clear();
  db->inboxes().agent_unread_soon("alice",
                                  [&got](std::int64_t n) { got.emplace_back("alice", n); });
  {
    WriteTransaction tx(*db);
    CHECK(db->inboxes().whole_inbox("bob", 5).size() == 1);
    tx.commit();
  }
  CHECK(c.round_trips() == before + 2);
  CHECK(got == Got{{"alice", 2}});
  loop.run();  // the group's end: nothing asked for is sent again
  CHECK(got.size() == 1);
  CHECK_FALSE(c.has_deferred());
}

TEST_CASE("a token seat's unread counts that can wait: one round trip for all of them") {
  if (!have_server()) return;
  Loop loop;
  auto db = open_db(options_for(fresh_schema()));
  write(*db, [&] {
    ConversationRow t;
    t.id = "t";
    t.kind = "token";
    t.created_ms = 1;
    t.expires_ms = 1'000'000'000'000;
    db->conversations().insert(t);
    for (const char* to : {"s2", "s2", "s1"}) {
      MessageRow m = mail(std::string(to) == "s2" ? "s1" : "s2", "hi");
      m.conversation_id = "t";
      m.recipient = to;
      db->messages().insert(m);
    }
  });
  db->enable_group_commit(loop.defer());
  Connection& c = db->connection();
  const std::uint64_t before = c.round_trips();
  std::vector<std::pair<std::string, std::int64_t>> got;
  for (const char* seat : {"s1", "s2", "s3"}) {
    db->messages().unread_count_soon("t", seat,
                                     [&got, seat](std::int64_t n) { got.emplace_back(seat, n); });
  }
  CHECK(c.round_trips() == before);
  CHECK(got.empty());
  loop.run();
  CHECK(c.round_trips() == before + 1);
  using Got = std::vector<std::pair<std::string, std::int64_t>>;
  CHECK(got == Got{{"s1", 1}, {"s2", 2}, {"s3", 0}});
}

TEST_CASE("a queue whose statement finds the server unreachable is dropped, never run later") {
  if (!have_server()) return;
  auto db = open_db(options_for(fresh_schema()));
  Connection& c = db->connection();
  c.drop("the test took it down");  // down, with a backoff before the next connect
  bool answered = false;
  c.defer("SELECT 1", {}, [&](const Rows&) { answered = true; });
  CHECK_THROWS_AS(c.query("SELECT 2"), StoreUnavailable);
  // A queued read's on_rows may point into a frame that is gone: it must never run.
  CHECK_FALSE(c.has_deferred());
  until_reachable([&] { c.query("SELECT 3"); });
  CHECK_FALSE(answered);
}

TEST_CASE("inbox reads keep to their index range whatever plan empty tables left in the cache") {
  if (!have_server()) return;
  auto db = open_db(options_for(fresh_schema()));
  agents_pair(*db);
  Connection& c = db->connection();
  Inboxes& in = db->inboxes();
  // The generic plans, made now on empty tables (as early in a daemon's life), are kept.
  c.run("SET plan_cache_mode = force_generic_plan");
  auto read_all = [&](std::int64_t after) {
    in.whole_inbox("alice", 10);
    in.agent_inbox("alice", 0, 10);
    in.agent_inbox("alice", after, 10);
    in.conversation_inbox("g", "alice", 0, 10);
    in.agent_unread("alice");
    in.agent_unread_by_sender("alice");
    in.member_unread("g", "alice");
    in.agent_unread_after("alice", 0, 10, 100);
    in.wait_start("alice", 10);
  };
  // A token conversation's seat reads too (Mailbox: unread, after, the unread count).
  write(*db, [&] {
    ConversationRow t;
    t.id = "t";
    t.kind = "token";
    t.created_ms = 1;
    t.expires_ms = 1'000'000'000'000;
    db->conversations().insert(t);
  });
  auto seat_mail = [](const std::string& body) {
    MessageRow m = mail("s1", body);
    m.conversation_id = "t";
    m.recipient = "s2";
    return m;
  };
  Messages& msgs = db->messages();
  auto read_seat = [&](std::int64_t after) {
    msgs.unread("t", "s2", 10);
    msgs.after("t", "s2", after, 10);
    msgs.unread_count("t", "s2");
  };
  read_all(1);
  read_seat(1);
  std::int64_t last = 0;
  write(*db, [&] {
    for (int i = 0; i < 300; ++i)
      last = db->messages().insert(mail("bob", "m" + std::to_string(i)));
    db->members().set_position("alice", "g", last);
  });
  std::int64_t last_seat = 0;
  write(*db, [&] {
    std::vector<std::int64_t> ids;
    for (int i = 0; i < 300; ++i) ids.push_back(msgs.insert(seat_mail("s" + std::to_string(i))));
    msgs.mark_read(ids, 5);
    last_seat = ids.back();
  });
  // This backend's counts not yet reported (they grow until it reports them, which it does
  // only between transactions): read before and after, in one transaction.
  const std::string kUsed =
      "SELECT pg_stat_get_xact_numscans('messages_by_sender_time'::regclass),"
      " pg_stat_get_xact_numscans('messages'::regclass),"
      " pg_stat_get_xact_tuples_returned('messages_by_recipient'::regclass),"
      " pg_stat_get_xact_numscans('messages_by_recipient'::regclass)";
  c.run("BEGIN");
  const Rows before = c.query(kUsed);
  read_all(last);
  read_seat(last_seat);
  const Rows after = c.query(kUsed);
  c.run("COMMIT");
  auto used = [&](int col) { return after.int64(0, col) - before.int64(0, col); };
  CHECK(used(0) == 0);  // never the conversation's whole range by sender and time
  CHECK(used(1) == 0);  // never the whole table
  CHECK(used(2) == 0);  // each membership's range after its position: nothing unread
  CHECK(used(3) >= 10);  // one range per read at least
  CHECK(in.agent_unread("alice") == 0);
  CHECK(in.agent_unread("bob") == 0);
}

namespace {

std::int64_t read_up_to(Connection& other, const std::string& agent) {
  return other.query("SELECT read_up_to FROM members WHERE agent = $1", {Param(agent)}).int64(0, 0);
}

// Alice and bob's conversation with bob's message `first` to alice committed, then groups that
// commit when `loop` runs, and another daemon's connection to look with.
struct AliceHasMail {
  Loop loop;
  std::unique_ptr<PgDatabase> db = open_db(options_for(fresh_schema()));
  std::int64_t first = 0;
  std::unique_ptr<Connection> other;
  AliceHasMail() {
    agents_pair(*db);
    write(*db, [&] { first = db->messages().insert(mail("bob", "hello alice")); });
    db->enable_group_commit(loop.defer());
    other = observer(db->options().schema);
  }
};

}  // namespace

TEST_CASE("a group's messages, positions and work at the commit wait for it, the lock with them") {
  if (!have_server()) return;
  AliceHasMail w;
  Loop& loop = w.loop;
  PgDatabase* db = w.db.get();
  const std::int64_t first = w.first;
  Connection* other = w.other.get();
  // Another daemon of the team.
  Loop loop2;
  auto db2 = open_db(options_for(db->options().schema, "d2"));
  db2->enable_group_commit(loop2.defer());
  Connection& c = db->connection();
  const std::uint64_t before = c.round_trips();
  std::optional<std::int64_t> stored;
  std::vector<std::string> order;
  Ticket t;
  {
    WriteTransaction tx(*db);
    db->messages().insert_at_commit(mail("alice", "held"), "alice,bob", 3, [&](std::int64_t id) {
      stored = id;
      order.push_back("stored");
    });
    db->members().move_past("alice", "g", first);
    db->at_commit([&] { order.push_back(stored ? "at commit, with the id" : "at commit, no id"); });
    t = tx.commit();
  }
  CHECK(c.round_trips() == before);  // nothing sent yet
  CHECK_FALSE(stored);
  CHECK(lock_holders(*other) == 0);  // the other daemon writes and commits meanwhile
  std::int64_t theirs = 0;
  write(*db2, [&] { theirs = db2->messages().insert(mail("bob", "from the other daemon")); });
  loop2.run();
  CHECK(theirs > first);
  CHECK(lock_holders(*other) == 0);
  // The commit: the lock, the chain's head and the held writes; then the work at the commit,
  // sent with the COMMIT.
  loop.run();
  CHECK(c.round_trips() == before + 2);
  REQUIRE(stored);
  // The id was handed out under the lock, after the other daemon's commit: ids follow the
  // commits, so a reader whose position passed theirs still finds this one.
  CHECK(*stored > theirs);
  CHECK(order == std::vector<std::string>{"stored", "at commit, with the id"});
  CHECK(db->outcome(t) == std::string());
  CHECK(read_up_to(*other, "alice") == first);
  CHECK(count(*other, "messages") == 3);
  CHECK(lock_holders(*other) == 0);
}

TEST_CASE("a held message whose conversation went meanwhile is not stored: its id is 0") {
  if (!have_server()) return;
  Loop loop;
  auto db = open_db(options_for(fresh_schema()));
  agents_pair(*db);
  db->enable_group_commit(loop.defer());
  std::vector<std::int64_t> ids;
  write(*db, [&] {
    // The names' key moved on (another daemon replaced the conversation), and one removed.
    db->messages().insert_at_commit(mail("alice", "by an old key"), "alice,carol", 3,
                                    [&](std::int64_t id) { ids.push_back(id); });
    MessageRow gone = mail("alice", "to a removed conversation");
    gone.conversation_id = "removed";
    db->messages().insert_at_commit(gone, "", 3, [&](std::int64_t id) { ids.push_back(id); });
    db->messages().insert_at_commit(mail("alice", "kept"), "", 3,
                                    [&](std::int64_t id) { ids.push_back(id); });
  });
  loop.run();
  REQUIRE(ids.size() == 3);
  CHECK(ids[0] == 0);
  CHECK(ids[1] == 0);
  CHECK(ids[2] > 0);
  CHECK(count(*observer(db->options().schema), "messages") == 1);
}

TEST_CASE("a read of an agent's positions sends what the group holds for them first") {
  if (!have_server()) return;
  AliceHasMail w;
  Loop& loop = w.loop;
  PgDatabase* db = w.db.get();
  const std::int64_t first = w.first;
  Connection* other = w.other.get();
  write(*db, [&] { db->members().move_past("alice", "g", first); });
  CHECK(db->inboxes().agent_unread("bob") == 0);  // another agent's: nothing is sent for it
  CHECK(lock_holders(*other) == 0);
  // Alice's own: her move goes first (with the team's lock), so the group reads its writes.
  CHECK(db->inboxes().agent_unread("alice") == 0);
  CHECK(lock_holders(*other) == 1);
  loop.run();
  CHECK(lock_holders(*other) == 0);
  CHECK(read_up_to(*other, "alice") == first);
}

TEST_CASE("a call's rollback drops what it held for the commit; earlier calls' holds stay") {
  if (!have_server()) return;
  AliceHasMail w;
  Loop& loop = w.loop;
  PgDatabase* db = w.db.get();
  const std::int64_t first = w.first;
  Connection* other = w.other.get();
  bool kept_ran = false;
  bool dropped_ran = false;
  write(*db, [&] {
    db->members().move_past("alice", "g", first);
    db->at_commit([&] { kept_ran = true; });
  });
  {
    WriteTransaction tx(*db);
    db->messages().insert_at_commit(mail("alice", "rolled back"), "", 3, [](std::int64_t) {});
    db->at_commit([&] { dropped_ran = true; });
    // A write that cannot wait takes the lock and sends what is held ahead of itself…
    db->members().insert({"carol", "g", "", 0, 1});
    CHECK(lock_holders(*other) == 1);
  }  // …then the call rolls back: the lock goes with its savepoint, the first call's hold stays
  CHECK(lock_holders(*other) == 0);
  loop.run();
  CHECK(kept_ran);
  CHECK_FALSE(dropped_ran);
  CHECK(read_up_to(*other, "alice") == first);
  CHECK(count(*other, "messages") == 1);
  CHECK(count(*other, "members") == 2);
}
