#pragma once

#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>

#include "common/clock.h"
#include "daemon/store/database.h"
#include "daemon/store/pg/pg_connection.h"
#include "daemon/store/pg/pg_database.h"
#include "daemon/store/sqlite_database.h"

// The store the product unit tests run on (issue 27: every product test that touches storage
// runs against both backends). Plain runs use SQLite in memory; the `-pg` variants of
// tests/unit/meson.build run the same binary under tests/pg/with-pg, which sets
// CB_TEST_PG_URL, and get a PgDatabase on a schema of their own in that throw-away cluster.
// Tests of what only SQLite has (its file, WAL, backup files, raw SQLite handles) open a
// SqliteDatabase themselves.
namespace cb::test {

// The PostgreSQL conninfo of this run, or nullptr on SQLite.
inline const char* test_pg_url() {
  const char* url = std::getenv("CB_TEST_PG_URL");
  return url && *url ? url : nullptr;
}

inline bool testing_postgresql() { return test_pg_url() != nullptr; }

// A new, empty store: with CB_TEST_PG_URL a PgDatabase on a fresh schema `t_<pid>_<n>`
// (created and migrated by open), else SqliteDatabase::open_memory(). Throws when the cluster
// cannot be used: a test run against PostgreSQL must not quietly fall back to SQLite.
inline std::unique_ptr<store::Database> open_test_store() {
  const char* url = test_pg_url();
  if (!url) return store::SqliteDatabase::open_memory();
  static int opened = 0;
  store::pg::Options options;
  options.conninfo = url;
  options.schema = "t_" + std::to_string(::getpid()) + "_" + std::to_string(++opened);
  options.self.daemon_id = "unit-" + options.schema;
  options.self.host = "unit-test";
  options.self.started_ms = SystemClock().now_ms();
  auto db = store::pg::PgDatabase::open(options);
  if (!db.ok()) {
    throw std::runtime_error("open_test_store: " + db.status().code() + ": " +
                             db.status().message());
  }
  return std::move(db).value();
}

// Group commit as the daemon turns it on (a flush deferred to the loop), on either backend.
inline void enable_group_commit(store::Database& db,
                                std::function<void(std::function<void()>)> defer) {
  if (auto* sqlite = dynamic_cast<store::SqliteDatabase*>(&db)) {
    sqlite->enable_group_commit(std::move(defer));
  } else if (auto* pg = dynamic_cast<store::pg::PgDatabase*>(&db)) {
    pg->enable_group_commit(std::move(defer));
  } else {
    throw std::logic_error("enable_group_commit: unknown store backend");
  }
}

// Runs SQL that both backends understand (tests that tamper with stored rows); outside any
// group's transaction.
inline void exec_sql(store::Database& db, const std::string& sql) {
  if (auto* sqlite = dynamic_cast<store::SqliteDatabase*>(&db)) {
    sqlite->db().exec(sql);
  } else if (auto* pg = dynamic_cast<store::pg::PgDatabase*>(&db)) {
    pg->connection().run(sql);
  } else {
    throw std::logic_error("exec_sql: unknown store backend");
  }
}

}  // namespace cb::test
