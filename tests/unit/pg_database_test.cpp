// The PostgreSQL store's connection and database (daemon/store/pg/, issue 27) against a real
// throw-away server: run under tests/pg/with-pg, which exports CB_TEST_PG_URL, PGPASSFILE and
// CB_TEST_PG_CTL (stop/start the server). Each case uses a schema of its own. The loop is played
// by hand: deferred work and posted notices queue up and the test runs them. No timed
// assertions: waits are polls for a condition.
#include "daemon/store/pg/pg_database.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "daemon/store/pg/pg_connection.h"
#include "daemon/store/pg/pg_schema.h"
#include "daemon/store/tables.h"
#include "tests/unit/pg_test_helpers.h"

using namespace cb;
using namespace cb::store;
using namespace cb::store::pg;
using namespace cb::store::pg::testing;

TEST_CASE("conninfo_problem: a password in the url is refused, a bad url says why") {
  CHECK_FALSE(conninfo_problem("host=127.0.0.1 port=5432 dbname=bridge user=team_a"));
  CHECK_FALSE(conninfo_problem("postgresql://team_a@127.0.0.1:5432/bridge?sslmode=verify-full"));
  const std::string secret = "pw" + std::to_string(::getpid());
  for (const std::string& url : {"host=127.0.0.1 user=team_a password=" + secret,
                                 "postgresql://team_a:" + secret + "@127.0.0.1/bridge"}) {
    auto p = conninfo_problem(url);
    REQUIRE(p);
    CHECK(p->find("PGPASSFILE") != std::string::npos);
    CHECK(p->find(secret) == std::string::npos);
  }
  auto bad = conninfo_problem("host=127.0.0.1 nonsense");
  REQUIRE(bad);
  CHECK(bad->find("does not parse") != std::string::npos);
  CHECK(describe_conninfo("host=h port=1 dbname=d user=u password=" + secret) ==
        "host=h port=1 dbname=d user=u");

  Options o;
  o.conninfo = "host=127.0.0.1 password=" + secret;
  auto r = PgDatabase::open(o);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == open_errors::kUnopenable);
  CHECK(r.status().message().find(secret) == std::string::npos);
}

TEST_CASE("open creates and migrates the schema once; integrity, size, location") {
  if (!have_server()) return;
  const std::string schema = fresh_schema();
  {
    auto db = open_db(options_for(schema));
    CHECK(db->schema_version() == schema::latest());
    CHECK(db->latest_schema() == schema::latest());
    CHECK(db->integrity_check() == "ok");
    CHECK(db->size_bytes() > 0);
    CHECK(std::string(db->backend()) == "postgresql");
    CHECK(db->location().find("dbname=bridge") != std::string::npos);
    CHECK(db->location().find("password") == std::string::npos);
    CHECK_FALSE(db->connection().tls());
  }
  {
    auto db = open_db(options_for(schema));  // already current: nothing to do
    CHECK(db->schema_version() == schema::latest());
    db->connection().run("DROP TABLE daemons");
    CHECK(db->integrity_check() == "table daemons is missing");
    db->connection().query("UPDATE schema_version SET version = $1", {Param(schema::latest() + 1)});
  }
  auto r = PgDatabase::open(options_for(schema));
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == open_errors::kSchemaTooNew);
}

TEST_CASE("daemons opening a new schema together create and migrate it once") {
  if (!have_server()) return;
  const std::string schema = fresh_schema();
  std::vector<std::string> failures(4);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < failures.size(); ++i) {
    threads.emplace_back([&, i] {
      auto r = PgDatabase::open(options_for(schema, "d" + std::to_string(i)));
      if (!r.ok()) failures[i] = r.status().message();
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& f : failures) CHECK(f.empty());
  auto other = observer(schema);
  CHECK(count(*other, "schema_version") == 1);
  CHECK(other->query("SELECT version FROM schema_version").int64(0, 0) == schema::latest());
}

TEST_CASE("open of an unreachable server: kUnopenable naming the address") {
  Options o;
  // A port nothing listens on: with-pg's own port plus one is not guaranteed free, so use 1.
  o.conninfo = "host=127.0.0.1 port=1 dbname=bridge user=nobody connect_timeout=2";
  auto r = PgDatabase::open(o);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == open_errors::kUnopenable);
  CHECK(r.status().message().find("host=127.0.0.1 port=1") != std::string::npos);
  CHECK(r.status().message().find("the team store is unreachable (") != std::string::npos);
}

TEST_CASE("TLS: verify-full against the test CA reports its protocol") {
  if (!have_server() || env("CB_TEST_PG_TLS_URL").empty()) return;
  Connection c(env("CB_TEST_PG_TLS_URL"));
  c.connect();
  auto tls = c.tls();
  REQUIRE(tls);
  CHECK(tls->rfind("TLSv1", 0) == 0);
}

TEST_CASE("a timed-out statement is a storage failure telling to call again, not a bug") {
  if (!have_server()) return;
  auto db = open_db(options_for(fresh_schema()));
  Connection& c = db->connection();
  c.run("SET statement_timeout = 1");
  try {
    c.query("SELECT pg_sleep(5)");
    FAIL("expected the statement to time out");
  } catch (const QueryError& e) {
    CHECK(e.sqlstate() == "57014");
    const auto why = cb::store::storage_failure(e);
    REQUIRE(why);
    CHECK(why->find("call again") != std::string::npos);
    CHECK_FALSE(cb::store::lost_race(e));
  }
  c.run("SET statement_timeout = 0");
  try {
    c.run("CREATE TABLE dup (k TEXT PRIMARY KEY)");
    c.query("INSERT INTO dup VALUES ($1)", {Param("x")});
    c.query("INSERT INTO dup VALUES ($1)", {Param("x")});
    FAIL("expected a unique violation");
  } catch (const QueryError& e) {
    CHECK(cb::store::lost_race(e));
    CHECK_FALSE(cb::store::storage_failure(e));  // a refusal of this call, not of the store
  }
}

TEST_CASE("queries: parameters, NULL, bytea, server refusals as QueryError without values") {
  if (!have_server()) return;
  auto db = open_db(options_for(fresh_schema()));
  Connection& c = db->connection();
  c.run("CREATE TABLE scratch (k TEXT PRIMARY KEY, n BIGINT, b BYTEA)");
  const std::string raw("\x00\x01\xfe\xff", 4);
  c.query("INSERT INTO scratch VALUES ($1, $2, $3)",
          {Param("a"), Param(nullptr), Param::bytes(raw)});
  Rows r = c.query("SELECT k, n, b FROM scratch WHERE k = $1", {Param("a")});
  REQUIRE(r.size() == 1);
  CHECK(r.text(0, 0) == "a");
  CHECK(r.is_null(0, 1));
  CHECK_FALSE(r.opt_int64(0, 1));
  CHECK(r.bytea(0, 2) == raw);
  CHECK(c.query("UPDATE scratch SET n = $1", {Param(std::int64_t{7})}).affected() == 1);

  try {
    c.query("INSERT INTO scratch VALUES ($1, $2, $3)", {Param("a"), Param(1), Param(nullptr)});
    FAIL("expected a unique violation");
  } catch (const QueryError& e) {
    CHECK(e.sqlstate() == "23505");
  }
  const std::string value = "not-a-number-" + std::to_string(::getpid());
  try {
    c.query("SELECT $1::bigint", {Param(value)});
    FAIL("expected a data exception");
  } catch (const QueryError& e) {
    CHECK(e.sqlstate() == "22P02");
    CHECK(std::string(e.what()).find(value) == std::string::npos);
  }
  CHECK(c.up());  // a refusal is not an outage
}

TEST_CASE("without group commit each WriteTransaction commits alone; its ticket is empty") {
  if (!have_server()) return;
  const std::string schema = fresh_schema();
  auto db = open_db(options_for(schema));
  Connection& c = db->connection();
  c.run("CREATE TABLE scratch (v INT PRIMARY KEY)");
  int rollbacks = 0;
  db->on_rollback([&] { ++rollbacks; });
  {
    WriteTransaction tx(*db);
    c.query("INSERT INTO scratch VALUES ($1)", {Param(1)});
    CHECK(tx.commit().empty());
  }
  {
    WriteTransaction tx(*db);
    c.query("INSERT INTO scratch VALUES ($1)", {Param(2)});
  }  // rolled back
  CHECK(rollbacks == 1);
  {
    // A failed statement aborts a PostgreSQL transaction: its commit must not pretend.
    WriteTransaction tx(*db);
    c.query("INSERT INTO scratch VALUES ($1)", {Param(3)});
    CHECK_THROWS_AS(c.query("INSERT INTO scratch VALUES ($1)", {Param(1)}), QueryError);
    CHECK_THROWS_AS(tx.commit(), QueryError);
  }
  auto other = observer(schema);
  CHECK(count(*other, "scratch") == 1);
  CHECK(db->latest().empty());
}

TEST_CASE("group commit: one COMMIT per turn, tickets, one call rolled back, after_commit") {
  if (!have_server()) return;
  const std::string schema = fresh_schema();
  auto db = open_db(options_for(schema));
  Connection& c = db->connection();
  c.run("CREATE TABLE scratch (v INT PRIMARY KEY)");
  Loop loop;
  db->enable_group_commit(loop.defer());
  int rollbacks = 0;
  db->on_rollback([&] { ++rollbacks; });

  Ticket t1, t3;
  {
    WriteTransaction tx(*db);
    c.query("INSERT INTO scratch VALUES ($1)", {Param(1)});
    t1 = tx.commit();
  }
  {
    WriteTransaction tx(*db);
    c.query("INSERT INTO scratch VALUES ($1)", {Param(2)});
  }  // only this call is undone
  CHECK(rollbacks == 1);
  {
    // A call whose statement fails is rolled back to its savepoint; the group goes on.
    WriteTransaction tx(*db);
    CHECK_THROWS_AS(c.query("INSERT INTO scratch VALUES ($1)", {Param(1)}), QueryError);
  }
  CHECK(rollbacks == 2);
  {
    WriteTransaction tx(*db);
    c.query("INSERT INTO scratch VALUES ($1)", {Param(3)});
    t3 = tx.commit();
  }
  REQUIRE_FALSE(t1.empty());
  CHECK(t1.generation == t3.generation);
  CHECK(db->latest().generation == t1.generation);
  CHECK_FALSE(db->outcome(t1));
  std::vector<std::string> answers;
  db->when_durable(t1, [&](const std::string& why) { answers.push_back("1:" + why); });
  db->when_durable(t3, [&](const std::string& why) { answers.push_back("3:" + why); });
  bool after = false;
  db->after_commit([&] { after = true; });

  auto other = observer(schema);
  CHECK(count(*other, "scratch") == 0);  // nobody sees it, nobody is answered, before COMMIT
  CHECK(answers.empty());
  CHECK_FALSE(after);

  loop.run();
  CHECK(answers == std::vector<std::string>{"1:", "3:"});
  CHECK(after);
  CHECK(db->outcome(t1) == std::string());
  CHECK(db->latest().empty());
  CHECK(count(*other, "scratch") == 2);
  CHECK(other->query("SELECT count(*) FROM scratch WHERE v = 2").int64(0, 0) == 0);

  // Once no group is open, after_commit runs at once and when_durable answers at once.
  bool now = false;
  db->after_commit([&] { now = true; });
  CHECK(now);
  std::string late = "unset";
  db->when_durable(t1, [&](const std::string& why) { late = why; });
  CHECK(late.empty());
}

TEST_CASE("group commit: a statement refused between calls does not fail the group") {
  if (!have_server()) return;
  const std::string schema = fresh_schema();
  auto db = open_db(options_for(schema));
  Connection& c = db->connection();
  c.run("CREATE TABLE scratch (v INT PRIMARY KEY)");
  Loop loop;
  db->enable_group_commit(loop.defer());
  Ticket t1, t2;
  {
    WriteTransaction tx(*db);
    c.query("INSERT INTO scratch VALUES ($1)", {Param(1)});
    t1 = tx.commit();
  }
  // A read outside any call, inside the group's transaction, that the server refuses.
  CHECK_THROWS_AS(c.query("SELECT $1::bigint", {Param("x")}), QueryError);
  CHECK(c.query("SELECT count(*) FROM scratch").int64(0, 0) == 1);  // still usable
  {
    WriteTransaction tx(*db);
    c.query("INSERT INTO scratch VALUES ($1)", {Param(2)});
    t2 = tx.commit();
  }
  loop.run();
  CHECK(db->outcome(t1) == std::string());
  CHECK(db->outcome(t2) == std::string());
  auto other = observer(schema);
  CHECK(count(*other, "scratch") == 2);
}

TEST_CASE("a group whose connection is lost fails every caller; the next group starts clean") {
  if (!have_server()) return;
  const std::string schema = fresh_schema();
  auto db = open_db(options_for(schema));
  Connection& c = db->connection();
  c.run("CREATE TABLE scratch (v INT PRIMARY KEY)");
  Loop loop;
  db->enable_group_commit(loop.defer());
  int rollbacks = 0;
  db->on_rollback([&] { ++rollbacks; });
  const std::int64_t pid = c.query("SELECT pg_backend_pid()").int64(0, 0);

  Ticket t;
  {
    WriteTransaction tx(*db);
    c.query("INSERT INTO scratch VALUES ($1)", {Param(1)});
    t = tx.commit();
  }
  std::vector<std::string> answers;
  db->when_durable(t, [&](const std::string& why) { answers.push_back(why); });
  bool after = false;
  db->after_commit([&] { after = true; });

  auto other = observer(schema);
  other->query("SELECT pg_terminate_backend($1)", {Param(pid)});

  loop.run();  // COMMIT finds the connection gone
  REQUIRE(answers.size() == 1);
  CHECK(answers[0].find("the team store is unreachable (") == 0);
  CHECK(answers[0].find("retry in") != std::string::npos);
  CHECK(db->outcome(t) == answers[0]);
  CHECK_FALSE(after);
  CHECK(rollbacks == 1);
  CHECK_FALSE(c.up());

  // While the backoff runs, a write is refused at once; afterwards a new connection serves the
  // next group, with nothing of the lost one.
  Ticket t2;
  until_reachable([&] {
    WriteTransaction tx(*db);
    c.query("INSERT INTO scratch VALUES ($1)", {Param(2)});
    t2 = tx.commit();
  });
  CHECK(t2.generation > t.generation);
  loop.run();
  CHECK(db->outcome(t2) == std::string());
  CHECK(count(*other, "scratch") == 1);
  CHECK(other->query("SELECT v FROM scratch").int64(0, 0) == 2);
}

TEST_CASE("a call that finds the group's connection gone fails the calls before it too") {
  if (!have_server()) return;
  const std::string schema = fresh_schema();
  auto db = open_db(options_for(schema));
  Connection& c = db->connection();
  c.run("CREATE TABLE scratch (v INT PRIMARY KEY)");
  Loop loop;
  db->enable_group_commit(loop.defer());
  int rollbacks = 0;
  db->on_rollback([&] { ++rollbacks; });
  const std::int64_t pid = c.query("SELECT pg_backend_pid()").int64(0, 0);
  Ticket t1;
  {
    WriteTransaction tx(*db);
    c.query("INSERT INTO scratch VALUES ($1)", {Param(1)});
    t1 = tx.commit();
  }
  std::string answer = "unset";
  db->when_durable(t1, [&](const std::string& why) { answer = why; });
  auto other = observer(schema);
  other->query("SELECT pg_terminate_backend($1)", {Param(pid)});
  {
    WriteTransaction tx(*db);
    CHECK_THROWS_AS(c.query("INSERT INTO scratch VALUES ($1)", {Param(2)}), StoreUnavailable);
  }
  // The group is over: its first caller is told, before the loop's deferred COMMIT.
  CHECK(answer.find("the team store is unreachable (") == 0);
  CHECK(db->outcome(t1) == answer);
  CHECK(rollbacks == 1);
  CHECK(db->latest().empty());
  loop.run();  // the deferred flush finds no group
  CHECK(count(*other, "scratch") == 0);
}

TEST_CASE("a group broken mid-turn is never committed on a new connection") {
  if (!have_server()) return;
  const std::string schema = fresh_schema();
  auto db = open_db(options_for(schema));
  Connection& c = db->connection();
  c.run("CREATE TABLE scratch (v INT PRIMARY KEY)");
  Loop loop;
  db->enable_group_commit(loop.defer());
  const std::int64_t pid = c.query("SELECT pg_backend_pid()").int64(0, 0);
  Ticket t;
  {
    WriteTransaction tx(*db);
    c.query("INSERT INTO scratch VALUES ($1)", {Param(1)});
    t = tx.commit();
  }
  auto other = observer(schema);
  other->query("SELECT pg_terminate_backend($1)", {Param(pid)});
  // A read later in the same turn finds the connection gone.
  CHECK_THROWS_AS(c.query("SELECT 1"), StoreUnavailable);
  // Even once the backoff has passed (the loop turn was slow), the group's COMMIT must not
  // reconnect and "commit" an empty transaction on the new connection.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  CHECK_THROWS_AS(c.query("SELECT 1"), StoreUnavailable);  // no statement outside the group
  std::string answer = "unset";
  db->when_durable(t, [&](const std::string& why) { answer = why; });
  loop.run();
  CHECK(answer.find("the team store is unreachable (") == 0);
  CHECK(count(*other, "scratch") == 0);
  // The group over, the connection comes back.
  until_reachable([&] { c.query("SELECT 1"); });
}

TEST_CASE("team: heartbeat, daemons, key fingerprint") {
  if (!have_server()) return;
  const std::string schema = fresh_schema();
  auto db1 = open_db(options_for(schema, "d1"));
  auto db2 = open_db(options_for(schema, "d2"));
  REQUIRE(db1->team());
  CHECK(db1->team()->self().daemon_id == "d1");
  AgentRow a;
  a.name = "alice";
  a.project = "/p";
  a.created_ms = 1;
  AgentRow b = a;
  b.name = "bo\"b";
  {
    WriteTransaction tx(*db2);
    db2->agents().upsert(a);
    db2->agents().upsert(b);
    tx.commit();
  }
  {
    WriteTransaction tx(*db1);
    db1->team()->heartbeat(5000, {"alice", "bo\"b"});
    tx.commit();
  }
  {
    WriteTransaction tx(*db2);
    db2->team()->heartbeat(6000, {});
    tx.commit();
  }
  auto daemons = db1->team()->daemons();
  REQUIRE(daemons.size() == 2);
  CHECK(daemons[0].daemon_id == "d2");
  CHECK(daemons[0].heartbeat_ms == 6000);
  CHECK(daemons[1].daemon_id == "d1");
  CHECK(daemons[1].host == "host-d1");
  CHECK(daemons[1].started_ms == 1000);
  for (const auto& name : {"alice", "bo\"b"}) {
    auto found = db2->agents().find(name);
    REQUIRE(found);
    CHECK(found->heartbeat_ms == 5000);
    CHECK(found->daemon_id == "d1");
    CHECK(found->host == "host-d1");
  }
  CHECK(db1->team()->key_fingerprint("fp-one") == "fp-one");
  CHECK(db2->team()->key_fingerprint("fp-two") == "fp-one");
}

TEST_CASE("listener: another daemon's notices arrive, its own are dropped") {
  if (!have_server()) return;
  const std::string schema = fresh_schema();
  Mailbox box;  // before db: the listener may post until db is gone
  auto db = open_db(options_for(schema, "d1"));
  db->listen(box.post(), [&](const MailNotice& n) { box.got.push_back(n); });
  auto other = observer(schema);
  // The listener connects on its own thread: announce (own and other's, in one transaction so
  // both arrive together) until the other's arrives.
  REQUIRE(box.wait_for([&] {
    other->query("SELECT pg_notify('cb_mail', $1), pg_notify('cb_mail', $2)",
                 {Param("d1\tc-own\t4\tme\tyou"), Param("d2\tc-other\t7\tbob\talice")});
    return !box.got.empty();
  }));
  REQUIRE(!box.got.empty());
  for (const auto& n : box.got) {
    CHECK(n.daemon_id == "d2");
    CHECK(n.conversation_id == "c-other");
    CHECK(n.message_id == 7);
    CHECK(n.sender == "bob");
    CHECK(n.recipient == "alice");
  }
}

TEST_CASE(
    "server stopped: StoreUnavailable without the password, then reconnect; the listener "
    "posts a resync") {
  if (!have_server() || env("CB_TEST_PG_CTL").empty()) return;
  const std::string schema = fresh_schema();
  Mailbox box;  // before db: the listener may post until db is gone
  auto db = open_db(options_for(schema, "d1"));
  Connection& c = db->connection();
  c.run("CREATE TABLE scratch (v INT PRIMARY KEY)");
  db->listen(box.post(), [&](const MailNotice& n) { box.got.push_back(n); });
  // The listener is up once it hears another daemon.
  auto other = observer(schema);
  REQUIRE(box.wait_for([&] {
    other->query("SELECT pg_notify('cb_mail', $1)", {Param("d2\tc\t1\ts\tr")});
    return !box.got.empty();
  }));
  other.reset();
  box.got.clear();

  pg_ctl("stop immediate");
  const std::string password = test_password();
  std::string first;
  try {
    c.query("SELECT 1");
    FAIL("expected StoreUnavailable");
  } catch (const StoreUnavailable& e) {
    first = e.what();
  }
  CHECK(first.find("the team store is unreachable (") == 0);
  CHECK(first.find("); retry in 1 s") != std::string::npos);
  if (!password.empty()) CHECK(first.find(password) == std::string::npos);
  CHECK(first.find('\n') == std::string::npos);
  // Within the backoff, refused at once with the same reason.
  try {
    WriteTransaction tx(*db);
    FAIL("expected StoreUnavailable");
  } catch (const StoreUnavailable& e) {
    CHECK(std::string(e.what()).find("the team store is unreachable (") == 0);
  }
  CHECK(storage_failure(StoreUnavailable(first)) == first);

  pg_ctl("start");
  until_reachable([&] {
    WriteTransaction tx(*db);
    c.query("INSERT INTO scratch VALUES ($1)", {Param(1)});
    tx.commit();
  });
  CHECK(c.query("SELECT count(*) FROM scratch").int64(0, 0) == 1);
  CHECK(box.wait_for([&] {
    for (const auto& n : box.got) {
      if (n.message_id == 0 && n.conversation_id.empty()) return true;
    }
    return false;
  }));
}
