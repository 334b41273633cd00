// Write transactions and group commit: many tool calls' writes share one COMMIT (one fsync with
// synchronous=full), and each call is answered only after the commit that holds its writes.
#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <cstring>

#include "common/status.h"
#include "daemon/store/sqlite_database.h"
#include "daemon/store/sqlite_tables.h"
#include "daemon/store/wal_vfs.h"

namespace cb::store {
namespace {

constexpr std::size_t kRememberedFailures = 64;

// Runs `sql` through a cached prepared statement and returns (not throws) a failure, its
// message the storage_failure reason: used on paths that must not throw.
Status try_run(SqliteDatabase& db, const char* sql) {
  try {
    db.run(sql);
    return Status();
  } catch (const std::exception& e) {
    return Status::error("storage", storage_failure(e).value_or("the database refused the write"));
  }
}

}  // namespace

std::optional<std::string> storage_failure(const std::exception& e) {
  if (const auto* u = dynamic_cast<const StoreUnavailable*>(&e)) return std::string(u->what());
  if (auto t = transient_refusal(e)) return t;
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

SqliteDatabase::~SqliteDatabase() {
  // Whatever is pending is committed and made durable; its callers are gone, so nobody is told.
  if (group_) {
    group_->waiters.clear();
    group_->after_commit.clear();
    forget_rollback_listeners();
  }
  for (auto& g : syncing_) {
    g.waiters.clear();
    g.after_commit.clear();
  }
  flush();
  stop_background_sync();
}

void SqliteDatabase::enable_group_commit(Defer defer) { defer_ = std::move(defer); }

void SqliteDatabase::run(const char* sql) { stmt(sql).exec(); }

void SqliteDatabase::open_group_now() {
  run("BEGIN IMMEDIATE");
  Group g;
  g.generation = next_generation_++;
  group_ = std::move(g);
  // The flush runs after every handler already queued on the loop: the requests read in this
  // turn join the group before it commits. With background sync, while a sync is running the
  // group stays open and goes on taking requests until that sync is done (synced() commits
  // it): its own sync could not start any earlier, and one commit then covers them all.
  defer_([this, generation = group_->generation] {
    if (group_ && group_->generation == generation && syncing_.empty()) commit_group();
  });
}

void SqliteDatabase::flush() {
  commit_group();
  if (!syncing_.empty()) sync_all_now();
}

void SqliteDatabase::commit_group() {
  if (!group_) return;
  sqlite3* handle = db_.getHandle();
  reset_statements();  // else the checkpoint in the WAL hook would be refused
  // A lone call with the disk idle syncs in place: handing the sync to the thread and the
  // answer back costs two thread wake-ups, more than the loop would lose by waiting (nobody
  // else is in the group). Once calls share groups, or a sync is already running, the loop
  // must not wait.
  const bool deferred = syncer_ && (group_->waiters.size() > 1 || !syncing_.empty()) &&
                        wal_vfs::begin_deferred_commit(handle);
  const Status commit = try_run(*this, "COMMIT");
  const bool committed = commit.ok();
  const int sync_fd = deferred ? wal_vfs::end_deferred_commit(handle) : -1;
  if (committed && (sync_fd >= 0 || !syncing_.empty())) {
    // Committed, not yet durable: answered when BackgroundSync reports the sync done. A group
    // that wrote no frames of its own (only flush() commits one while others wait for their
    // sync, and it syncs them all at once) still waits behind them: what it read may be theirs.
    syncing_.push_back(std::move(*group_));
    group_.reset();
    if (sync_fd >= 0) syncer_->request(sync_fd, syncing_.back().generation);
    return;
  }
  if (committed) {
    end_group("");
    return;
  }
  spdlog::error("group commit failed: {}; {} waiting call(s) get an error", commit.message(),
                group_->waiters.size());
  if (!db_.getHandle() || sqlite3_get_autocommit(db_.getHandle()) == 0) try_run(*this, "ROLLBACK");
  end_group(commit.message());
}

void SqliteDatabase::end_group(const std::string& failure) {
  Group g = std::move(*group_);
  group_.reset();
  if (!failure.empty()) {
    failed_.emplace_back(g.generation, failure);
    if (failed_.size() > kRememberedFailures) failed_.pop_front();
    rolled_back();
    for (auto& w : g.waiters) w(failure);
    return;
  }
  finish_committed(g);
}

void SqliteDatabase::finish_committed(Group& g) {
  for (auto& fn : g.after_commit) fn();
  if (g.behind_queued && defer_) {
    // Queued behind the wake-ups the work above posted: the woken reader's answer leaves first
    // (it has waited longest, and its answer is the wake-up).
    defer_([waiters = std::move(g.waiters)] {
      for (auto& w : waiters) w("");
    });
    return;
  }
  for (auto& w : g.waiters) w("");
}

void SqliteDatabase::enable_background_sync(BackgroundSync::Post post,
                                      std::function<void(const std::string&)> fatal,
                                      BackgroundSync::SyncFn sync) {
  if (sync_ != Synchronous::kFull || syncer_) return;
  // One sync in place first: it also makes the WAL's directory entry durable (SQLite syncs the
  // directory on a new file's first sync), which the background syncs would not.
  if (wal_vfs::sync_fd(db_.getHandle()) < 0 ||
      wal_vfs::sync_in_place(db_.getHandle()) != SQLITE_OK) {
    spdlog::warn("the WAL cannot be synced in the background; every commit syncs in place");
    return;
  }
  fatal_ = std::move(fatal);
  alive_ = std::make_shared<SqliteDatabase*>(this);
  BackgroundSync::Done done = [alive = std::weak_ptr<SqliteDatabase*>(alive_)](std::uint64_t upto,
                                                                         int err) {
    if (auto d = alive.lock()) (*d)->synced(upto, err);
  };
  syncer_ = std::make_unique<BackgroundSync>(std::move(post), std::move(done), std::move(sync));
}

void SqliteDatabase::stop_background_sync() {
  presync_.reset();  // joins; a checkpoint it was syncing for is left to the next start
  presync_alive_.reset();
  if (!syncer_) return;
  // On the way out: whoever waits is gone (the daemon's last flush() told them); what was
  // committed still reaches the disk.
  for (auto& g : syncing_) {
    g.waiters.clear();
    g.after_commit.clear();
  }
  sync_all_now();
  syncer_.reset();  // joins; what it posts from here on finds the database gone
  alive_.reset();
}

void SqliteDatabase::sync_all_now() {
  if (syncing_.empty()) return;
  const int fd = wal_vfs::sync_fd(db_.getHandle());
  const int err = fd < 0 ? EBADF : syncer_->sync_now(fd);
  synced(syncing_.back().generation, err);
}

void SqliteDatabase::synced(std::uint64_t upto, int err) {
  if (err != 0) {
    // The kernel may have dropped the pages it failed to write: what SQLite holds in memory no
    // longer matches the disk, and only a restart that recovers from the disk is safe.
    const std::string why =
        std::string("the bridge database could not be synced to disk (") + std::strerror(err) + ")";
    if (fatal_) fatal_(why);
    return;
  }
  // Each group is taken off the queue before it is told: its callers may commit and sync again.
  while (!syncing_.empty() && syncing_.front().generation <= upto) {
    Group g = std::move(syncing_.front());
    syncing_.pop_front();
    finish_committed(g);
  }
  // The group that filled up while the disk was busy commits now and starts the next sync.
  if (syncing_.empty()) commit_group();
}

Ticket SqliteDatabase::latest() const {
  if (group_) return Ticket{group_->generation};
  return syncing_.empty() ? Ticket{} : Ticket{syncing_.back().generation};
}

std::optional<std::string> SqliteDatabase::outcome(const Ticket& ticket) const {
  if (ticket.empty()) return std::string();
  if (group_ && group_->generation == ticket.generation) return std::nullopt;
  for (const auto& g : syncing_) {
    if (g.generation == ticket.generation) return std::nullopt;
  }
  for (const auto& [g, why] : failed_) {
    if (g == ticket.generation) return why;
  }
  return std::string();
}

void SqliteDatabase::when_durable(const Ticket& ticket, std::function<void(const std::string&)> done) {
  Group* waiting = nullptr;
  if (group_ && group_->generation == ticket.generation) waiting = &*group_;
  for (auto& g : syncing_) {
    if (g.generation == ticket.generation) waiting = &g;
  }
  if (!waiting || ticket.empty()) {
    done(outcome(ticket).value_or(std::string()));
    return;
  }
  waiting->behind_queued = waiting->behind_queued || ticket.behind_queued;
  waiting->waiters.push_back(std::move(done));
}

void SqliteDatabase::after_commit(std::function<void()> fn) {
  if (group_) {
    group_->after_commit.push_back(std::move(fn));
  } else if (!syncing_.empty()) {
    syncing_.back().after_commit.push_back(std::move(fn));  // not before it is durable
  } else {
    fn();
  }
}

bool SqliteDatabase::write_begin() {
  if (!defer_) {
    run("BEGIN IMMEDIATE");
    return false;
  }
  if (!group_) open_group_now();
  run("SAVEPOINT call");
  return true;
}

void SqliteDatabase::write_rollback(bool grouped) {
  if (!grouped) {
    try_run(*this, "ROLLBACK");
    rolled_back();
    return;
  }
  // Undo only this call's part of the group. SQLite rolls a whole transaction back on its own
  // after some failures (disk full, I/O error); then the group is gone and every call in it
  // fails.
  const bool group_alive = sqlite3_get_autocommit(db_.getHandle()) == 0;
  if (group_alive && try_run(*this, "ROLLBACK TO call").ok() && try_run(*this, "RELEASE call").ok()) {
    rolled_back();
    return;
  }
  if (group_) {
    if (sqlite3_get_autocommit(db_.getHandle()) == 0) try_run(*this, "ROLLBACK");
    end_group("the bridge database rolled back a failed write");
  }
}

Ticket SqliteDatabase::write_commit(bool grouped) {
  run(grouped ? "RELEASE call" : "COMMIT");
  // Without group commit the COMMIT itself made the writes durable.
  return grouped && group_ ? Ticket{group_->generation} : Ticket{};
}

}  // namespace cb::store
