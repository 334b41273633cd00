#pragma once

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <exception>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/status.h"
#include "daemon/store/background_sync.h"
#include "daemon/store/database.h"
#include "daemon/store/ticket.h"

// The embedded SQLite store, the default (with its siblings in store/: tables.cpp,
// agent_tables.cpp, group_commit.cpp, checkpoints.cpp, wal_vfs.cpp): opening, pragmas,
// migrations and cached prepared statements.
namespace cb::store {

struct FileCopy;  // transfer.h
struct SqliteTableSet;  // sqlite_tables.h

class SqliteDatabase final : public Database {
 public:
  // Opens or creates the database: WAL, foreign keys, busy timeout, the requested synchronous
  // level, then runs every migration above PRAGMA user_version in one transaction.
  // Fails under one of open_errors, naming the file and what to do.
  static Result<std::unique_ptr<SqliteDatabase>> open(const std::filesystem::path& path,
                                                Synchronous sync);
  // An in-memory database with the same schema (tests).
  static std::unique_ptr<SqliteDatabase> open_memory();

  const char* backend() const override { return "sqlite"; }
  std::string location() const override { return path_.string(); }
  Conversations& conversations() override;
  Messages& messages() override;
  Inboxes& inboxes() override;
  Agents& agents() override;
  Members& members() override;
  Statuses& statuses() override;
  AuditTable& audit_table() override;

  SQLite::Database& db() { return db_; }
  const std::filesystem::path& path() const { return path_; }

  // A prepared statement for `sql`, compiled once and reset for reuse. The reference is valid
  // until the Database is destroyed; do not hold it across another call of stmt() with the
  // same text.
  SQLite::Statement& stmt(const std::string& sql);
  // Runs a statement without results through stmt() (transaction control: BEGIN, SAVEPOINT…).
  void run(const char* sql);

  int schema_version() override;
  int latest_schema() const override { return latest_schema_version(); }
  std::int64_t size_bytes() override;
  static int latest_schema_version();
  // The SQL that moves the schema from `from_version` to the next (tests build old databases).
  static const char* migration(int from_version);
  // PRAGMA integrity_check: "ok" or the first problem.
  std::string integrity_check() override;

  // ---- Group commit (daemon/store/group_commit.cpp) ----
  // Off until enable_group_commit() (the daemon turns it on; unit tests keep one transaction
  // per WriteTransaction). When on, the first WriteTransaction of a loop turn opens the group's
  // one transaction (BEGIN IMMEDIATE) and asks `defer` to run flush() later — after every
  // request already read in this turn has run; each WriteTransaction is a savepoint inside it.
  // One COMMIT (with synchronous=full, one fsync) then covers every call of the group, and
  // nobody may answer before it: a call that wrote waits for its ticket (store/ticket.h).
  using Defer = std::function<void(std::function<void()>)>;
  void enable_group_commit(Defer defer);
  // Runs done("") once `ticket` is durable, or done(reason) with a one-line reason when its
  // group was rolled back (disk full…). At once when its group has already ended.
  void when_durable(const Ticket& ticket, std::function<void(const std::string&)> done) override;
  // std::nullopt while `ticket`'s group is open or waiting for its sync; then "" when it is
  // durable, or why it was rolled back.
  std::optional<std::string> outcome(const Ticket& ticket) const override;
  // The ticket of everything written so far: the open group, else the newest committed group
  // waiting for its sync; empty when all of it is durable. With background sync a reader waits
  // on it, as what it read may not be on disk yet.
  Ticket latest() const override;
  // Runs fn after the open group commits (dropped if it rolls back); at once when none is open.
  void after_commit(std::function<void()> fn) override;
  // Commits the open group now, and with background sync also waits for the disk: before a
  // backup, an export or a restore, before an operator call is answered, and at shutdown.
  // Never throws; a failure fails the group's callers.
  void flush() override;

  // ---- Background sync (synchronous = "full"; daemon/store/group_commit.cpp) ----
  // Moves each group commit's fsync to a BackgroundSync thread: after its COMMIT a group
  // waits, its callers unanswered and its after_commit work not run, until a sync that covers
  // it is done, while the loop serves the next group. `post` runs a function on the loop's
  // thread and must be thread-safe. A failed sync is fatal: `fatal` gets a one-line reason
  // (the daemon logs it and exits, so that a restart recovers from what is really on disk).
  // A no-op with synchronous = "normal" or without a WAL file to sync.
  void enable_background_sync(BackgroundSync::Post post,
                              std::function<void(const std::string&)> fatal,
                              BackgroundSync::SyncFn sync = {});
  // Makes everything committed durable, completes the waiting groups and stops the threads
  // (also the checkpoints' WAL sync). The daemon calls it before its event loop is destroyed.
  void stop_background_sync();
  bool background_sync() const override { return static_cast<bool>(syncer_); }

  // ---- Checkpoints (daemon/store/checkpoints.cpp) ----
  // SQLite copies the WAL back into the database file once it holds kCheckpointFrames pages;
  // that checkpoint syncs both files and stalls the loop for milliseconds (4–9 ms here), most
  // of it the WAL's sync. Without a scheduler it runs inline, after the commit that crossed the
  // line. With one, it waits until a whole `idle` period has passed without a commit, so it
  // falls between bursts of traffic. Under sustained load, once the WAL reaches
  // kForcedCheckpointFrames, a thread syncs the WAL first (with `post`, which runs a function
  // on the loop's thread and must be thread-safe), and the checkpoint follows when that sync is
  // done, finding little left to sync; without `post`, or past twice that size, it runs inline.
  static constexpr int kCheckpointFrames = 1000;
  static constexpr int kForcedCheckpointFrames = 10000;
  using After = std::function<void(std::chrono::milliseconds, std::function<void()>)>;
  void enable_idle_checkpoint(After after, std::chrono::milliseconds idle,
                              BackgroundSync::Post post = {});

  ~SqliteDatabase() override;

 private:
  bool write_begin() override;
  Ticket write_commit(bool grouped) override;
  void write_rollback(bool grouped) override;
  // restore_database (transfer.cpp) resets the statements before SQLite's backup API writes.
  friend cb::Result<FileCopy> restore_database(SqliteDatabase& db, const std::filesystem::path& src);
  // Resets every statement still holding a result row (Conversations::find steps once and
  // leaves it; stmt() resets it only when it is next used). Each such statement keeps a read
  // transaction open, which makes SQLite refuse every checkpoint (SQLITE_LOCKED: the WAL would
  // grow by every commit's pages for as long as the daemon runs) and a restore. Call it only
  // when no caller is between two steps of a statement: before a group's COMMIT, from the loop.
  void reset_statements();

  struct Group {
    std::uint64_t generation = 0;
    std::vector<std::function<void(const std::string&)>> waiters;
    std::vector<std::function<void()>> after_commit;
    bool behind_queued = false;  // a waiter's ticket asked to be answered behind queued work
  };

  SqliteDatabase(const std::filesystem::path& path, int flags);
  void configure(Synchronous sync);
  Status migrate();  // ok, or kSchemaTooNew; SQLite faults throw
  void open_group_now();
  void commit_group();
  void end_group(const std::string& failure);
  void finish_committed(Group& g);
  void sync_all_now();
  static int wal_hook(void* self, sqlite3* db, const char* schema, int frames);
  int checkpoint();  // now; sqlite3's result code
  bool start_presync();
  void presynced(int err);
  void arm_idle_checkpoint();
  void idle_checkpoint_tick(std::uint64_t commits_then);
  void synced(std::uint64_t upto, int err);

  std::filesystem::path path_;
  SQLite::Database db_;
  std::map<std::string, std::unique_ptr<SQLite::Statement>, std::less<>> statements_;
  Defer defer_;
  std::optional<Group> group_;
  std::uint64_t next_generation_ = 1;
  std::deque<std::pair<std::uint64_t, std::string>> failed_;  // recent failed generations
  bool checkpoint_failing_ = false;  // the last checkpoint failed (logged once)
  bool checkpoint_due_ = false;      // the WAL has passed kCheckpointFrames
  bool checkpoint_armed_ = false;    // an idle check is scheduled
  std::uint64_t commits_ = 0;        // commits seen by the WAL hook
  After checkpoint_after_;
  std::chrono::milliseconds checkpoint_idle_{0};
  BackgroundSync::Post checkpoint_post_;
  bool presync_running_ = false;  // the WAL is being synced ahead of a forced checkpoint
  bool wal_presynced_ = false;    // it was: the forced checkpoint may run
  std::uint64_t presync_tickets_ = 0;
  std::shared_ptr<SqliteDatabase*> presync_alive_;  // what the presync thread's completions reach
  std::unique_ptr<BackgroundSync> presync_;   // started at the first forced checkpoint
  std::unique_ptr<SqliteTableSet> tables_;
  std::deque<Group> syncing_;  // committed, waiting for their sync; oldest first
  std::function<void(const std::string&)> fatal_;
  // BackgroundSync's completions reach the database through this; gone once it stops.
  std::shared_ptr<SqliteDatabase*> alive_;
  Synchronous sync_ = Synchronous::kNormal;
  std::unique_ptr<BackgroundSync> syncer_;  // last: its thread stops before the rest goes
};

}  // namespace cb::store
