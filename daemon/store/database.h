#pragma once

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>

#include <filesystem>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>

// The only place with SQL (with its siblings in store/): opening, pragmas, migrations and
// cached prepared statements.
namespace cb::store {

enum class Synchronous { kNormal, kFull };

// A start-up or run-time storage failure, with a one-line message fit for the operator.
class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Database {
 public:
  // Opens or creates the database: WAL, foreign keys, busy timeout, the requested synchronous
  // level, then runs every migration above PRAGMA user_version in one transaction.
  // Throws StoreError naming the file and what to do.
  static std::unique_ptr<Database> open(const std::filesystem::path& path, Synchronous sync);
  // An in-memory database with the same schema (tests).
  static std::unique_ptr<Database> open_memory();

  SQLite::Database& db() { return db_; }
  const std::filesystem::path& path() const { return path_; }

  // A prepared statement for `sql`, compiled once and reset for reuse. The reference is valid
  // until the Database is destroyed; do not hold it across another call of stmt() with the
  // same text.
  SQLite::Statement& stmt(const std::string& sql);

  int schema_version();
  static int latest_schema_version();
  // PRAGMA integrity_check: "ok" or the first problem.
  std::string integrity_check();

 private:
  Database(const std::filesystem::path& path, int flags);
  void configure(Synchronous sync);
  void migrate();

  std::filesystem::path path_;
  SQLite::Database db_;
  std::map<std::string, std::unique_ptr<SQLite::Statement>, std::less<>> statements_;
};

// BEGIN IMMEDIATE ... COMMIT, rolled back when destroyed uncommitted. One per tool call.
class WriteTransaction {
 public:
  explicit WriteTransaction(Database& db);
  ~WriteTransaction();
  WriteTransaction(const WriteTransaction&) = delete;
  WriteTransaction& operator=(const WriteTransaction&) = delete;
  void commit();

 private:
  Database& db_;
  bool done_ = false;
};

}  // namespace cb::store
