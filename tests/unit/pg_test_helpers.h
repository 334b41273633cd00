#pragma once
// What the tests of the PostgreSQL store (pg_database_test.cpp, pg_pipeline_test.cpp) share:
// the throw-away server of tests/pg/with-pg (CB_TEST_PG_URL, PGPASSFILE, CB_TEST_PG_CTL), a
// schema per case, and the loop played by hand.
#include <doctest/doctest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "daemon/store/pg/pg_connection.h"
#include "daemon/store/pg/pg_database.h"

namespace cb::store::pg::testing {

inline std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

inline bool have_server() {
  if (!env("CB_TEST_PG_URL").empty()) return true;
  MESSAGE("CB_TEST_PG_URL is not set: run this test under tests/pg/with-pg");
  return false;
}

inline std::string fresh_schema() {
  static int n = 0;
  return "t_pgdb_" + std::to_string(::getpid()) + "_" + std::to_string(++n);
}

inline Options options_for(const std::string& schema, const std::string& daemon_id = "d1") {
  Options o;
  o.conninfo = env("CB_TEST_PG_URL");
  o.schema = schema;
  o.self = DaemonRow{daemon_id, "host-" + daemon_id, 1000, 0};
  return o;
}

inline std::unique_ptr<PgDatabase> open_db(const Options& o) {
  auto r = PgDatabase::open(o);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.status().message()));
  return std::move(r).value();
}

// A second client of the same schema: what other daemons see.
inline std::unique_ptr<Connection> observer(const std::string& schema) {
  return std::make_unique<Connection>(env("CB_TEST_PG_URL"),
                                      "SET search_path TO \"" + schema + "\"");
}

inline std::int64_t count(Connection& c, const std::string& table) {
  return c.query("SELECT count(*) FROM " + table).int64(0, 0);
}

// The loop's deferred work, run by the test.
struct Loop {
  std::vector<std::function<void()>> queued;
  PgDatabase::Defer defer() {
    return [this](std::function<void()> fn) { queued.push_back(std::move(fn)); };
  }
  void run() {
    while (!queued.empty()) {
      auto fns = std::move(queued);
      queued.clear();
      for (auto& fn : fns) fn();
    }
  }
};

// What the listener thread posts, run on the test's thread.
struct Mailbox {
  std::mutex mu;
  std::vector<std::function<void()>> posted;
  std::vector<MailNotice> got;
  PgDatabase::Post post() {
    return [this](std::function<void()> fn) {
      std::lock_guard<std::mutex> lock(mu);
      posted.push_back(std::move(fn));
    };
  }
  void drain() {
    std::vector<std::function<void()>> fns;
    {
      std::lock_guard<std::mutex> lock(mu);
      fns.swap(posted);
    }
    for (auto& fn : fns) fn();
  }
  // Polls until `pred` holds over what arrived (true), or gives up after a generous while.
  template <class Pred>
  bool wait_for(Pred pred) {
    for (int i = 0; i < 6000; ++i) {
      drain();
      if (pred()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }
};

inline void pg_ctl(const std::string& args) {
  const std::string ctl = env("CB_TEST_PG_CTL");
  REQUIRE(!ctl.empty());
  const std::string cmd = ctl + " " + args + " >/dev/null 2>&1";
  REQUIRE(std::system(cmd.c_str()) == 0);
}

// The password with-pg generated (host:port:db:user:password), to check that no message
// carries it.
inline std::string test_password() {
  std::ifstream f(env("PGPASSFILE"));
  std::string line;
  std::getline(f, line);
  const auto colon = line.rfind(':');
  return colon == std::string::npos ? "" : line.substr(colon + 1);
}

// Calls `fn` until it stops throwing StoreUnavailable (the backoff has passed and the server
// is back); every failure on the way must be the one-line StoreUnavailable text.
template <class Fn>
inline void until_reachable(Fn fn) {
  for (int i = 0; i < 6000; ++i) {
    try {
      fn();
      return;
    } catch (const StoreUnavailable& e) {
      REQUIRE(std::string(e.what()).find("the team store is unreachable (") == 0);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  FAIL("the store never came back");
}

}  // namespace cb::store::pg::testing
