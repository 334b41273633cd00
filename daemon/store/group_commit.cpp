// Write transactions and group commit: many tool calls' writes share one COMMIT (one fsync with
// synchronous=full), and each call is answered only after the commit that holds its writes.
#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include "daemon/store/database.h"

namespace cb::store {
namespace {

constexpr std::size_t kRememberedFailures = 64;

// Runs `sql` through a cached prepared statement and reports (not throws) a failure: used on
// paths that must not throw.
bool try_run(Database& db, const char* sql, std::string* why = nullptr) {
  try {
    db.run(sql);
    return true;
  } catch (const std::exception& e) {
    if (why) *why = storage_failure(e).value_or("the database refused the write");
    return false;
  }
}

}  // namespace

std::optional<std::string> storage_failure(const std::exception& e) {
  const auto* s = dynamic_cast<const SQLite::Exception*>(&e);
  if (!s) return std::nullopt;
  switch (s->getErrorCode() & 0xff) {
    case SQLITE_FULL:
      return "the disk holding the bridge database is full";
    case SQLITE_IOERR:
      return "the bridge database could not be written (I/O error)";
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
      return "the bridge database is not writable";
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return "the bridge database file is damaged";
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return "the bridge database is locked by another process";
    case SQLITE_NOMEM:
      return "the daemon ran out of memory";
    default:
      return std::nullopt;
  }
}

Database::~Database() {
  // Whatever the open group holds is committed; its callers are gone, so nobody is told.
  if (group_) {
    group_->waiters.clear();
    group_->after_commit.clear();
    rollback_listeners_.clear();
    flush();
  }
}

void Database::enable_group_commit(Defer defer) { defer_ = std::move(defer); }

void Database::run(const char* sql) { stmt(sql).exec(); }

void Database::open_group_now() {
  run("BEGIN IMMEDIATE");
  Group g;
  g.generation = next_generation_++;
  group_ = std::move(g);
  // The flush runs after every handler already queued on the loop: the requests read in this
  // turn join the group before it commits.
  defer_([this, generation = group_->generation] {
    if (group_ && group_->generation == generation) flush();
  });
}

void Database::flush() {
  if (!group_) return;
  std::string why;
  if (try_run(*this, "COMMIT", &why)) {
    end_group("");
    return;
  }
  spdlog::error("group commit failed: {}; {} waiting call(s) get an error", why,
                group_->waiters.size());
  if (!db_.getHandle() || sqlite3_get_autocommit(db_.getHandle()) == 0) try_run(*this, "ROLLBACK");
  end_group(why);
}

void Database::end_group(const std::string& failure) {
  Group g = std::move(*group_);
  group_.reset();
  if (!failure.empty()) {
    failed_.emplace_back(g.generation, failure);
    if (failed_.size() > kRememberedFailures) failed_.pop_front();
    rolled_back();
  } else {
    for (auto& fn : g.after_commit) fn();
  }
  for (auto& w : g.waiters) w(failure);
}

void Database::when_done(std::uint64_t generation, std::function<void(const std::string&)> done) {
  if (group_ && group_->generation == generation) {
    group_->waiters.push_back(std::move(done));
    return;
  }
  for (const auto& [g, why] : failed_) {
    if (g == generation) {
      done(why);
      return;
    }
  }
  done("");
}

void Database::after_commit(std::function<void()> fn) {
  if (group_) {
    group_->after_commit.push_back(std::move(fn));
  } else {
    fn();
  }
}

void Database::rolled_back() {
  for (auto& fn : rollback_listeners_) fn();
}

WriteTransaction::WriteTransaction(Database& db) : db_(db) {
  if (!db_.group_commit_enabled()) {
    db_.run("BEGIN IMMEDIATE");
    return;
  }
  if (!db_.group_) db_.open_group_now();
  db_.run("SAVEPOINT call");
  grouped_ = true;
}

WriteTransaction::~WriteTransaction() {
  if (done_) return;
  if (!grouped_) {
    try_run(db_, "ROLLBACK");
    db_.rolled_back();
    return;
  }
  // Undo only this call's part of the group. SQLite rolls a whole transaction back on its own
  // after some failures (disk full, I/O error); then the group is gone and every call in it
  // fails.
  const bool group_alive = sqlite3_get_autocommit(db_.db().getHandle()) == 0;
  if (group_alive && try_run(db_, "ROLLBACK TO call") && try_run(db_, "RELEASE call")) {
    db_.rolled_back();
    return;
  }
  if (db_.group_) {
    if (sqlite3_get_autocommit(db_.db().getHandle()) == 0) try_run(db_, "ROLLBACK");
    db_.end_group("the bridge database rolled back a failed write");
  }
}

void WriteTransaction::commit() {
  db_.run(grouped_ ? "RELEASE call" : "COMMIT");
  done_ = true;
  ++db_.write_seq_;
}

}  // namespace cb::store
