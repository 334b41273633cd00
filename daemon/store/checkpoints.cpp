// WAL checkpoints: when SQLite copies the write-ahead log back into the database file.
#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <cstring>

#include "daemon/store/sqlite_database.h"
#include "daemon/store/wal_vfs.h"

namespace cb::store {

// Runs after every commit, before sqlite3_step returns: the commit's WAL frames are handed to
// the file (wal_vfs.h), then the WAL is checkpointed when it has grown, or the checkpoint is
// left for the loop's next idle moment, or for when a thread has synced the WAL
// (enable_idle_checkpoint).
int SqliteDatabase::wal_hook(void* self, sqlite3* db, const char* schema, int frames) {
  if (const int rc = wal_vfs::flush_wal(db, schema); rc != SQLITE_OK) return rc;
  wal_vfs::end_sync_window(db);  // a checkpoint's syncs are never deferred
  auto& d = *static_cast<SqliteDatabase*>(self);
  ++d.commits_;
  if (frames < kCheckpointFrames) return SQLITE_OK;
  if (!d.checkpoint_after_) {
    d.checkpoint();
    return SQLITE_OK;
  }
  d.checkpoint_due_ = true;
  if (frames >= kForcedCheckpointFrames) {
    if (d.wal_presynced_ || frames >= 2 * kForcedCheckpointFrames || !d.start_presync()) {
      d.checkpoint();
      return SQLITE_OK;
    }
  }
  d.arm_idle_checkpoint();
  return SQLITE_OK;
}

int SqliteDatabase::checkpoint() {
  checkpoint_due_ = false;
  wal_presynced_ = false;
  int frames = 0;
  const int rc = sqlite3_wal_checkpoint_v2(db_.getHandle(), "main", SQLITE_CHECKPOINT_PASSIVE,
                                           &frames, nullptr);
  // Refused (SQLITE_LOCKED while a statement still holds a read transaction: reset_statements)
  // it is tried again after the next commit. Said once per run of failures: the WAL grows
  // until one succeeds.
  if (rc != SQLITE_OK && !checkpoint_failing_) {
    spdlog::warn(
        "the database's write-ahead log could not be copied into the database file: "
        "{}; trying again after the next commit",
        sqlite3_errstr(rc));
  }
  checkpoint_failing_ = rc != SQLITE_OK;
  return rc;
}

void SqliteDatabase::enable_idle_checkpoint(After after, std::chrono::milliseconds idle,
                                      BackgroundSync::Post post) {
  checkpoint_after_ = std::move(after);
  checkpoint_idle_ = idle;
  checkpoint_post_ = std::move(post);
}

// Syncs the WAL on a thread; presynced() runs the checkpoint when that is done. False when
// that cannot be done (no `post`, no descriptor to sync through): the caller checkpoints inline.
bool SqliteDatabase::start_presync() {
  if (presync_running_) return true;
  const int fd = wal_vfs::sync_fd(db_.getHandle());
  if (!checkpoint_post_ || fd < 0) return false;
  if (!presync_) {
    presync_alive_ = std::make_shared<SqliteDatabase*>(this);
    presync_ = std::make_unique<BackgroundSync>(
        checkpoint_post_,
        [alive = std::weak_ptr<SqliteDatabase*>(presync_alive_)](std::uint64_t, int err) {
          if (auto d = alive.lock()) (*d)->presynced(err);
        });
  }
  presync_running_ = true;
  presync_->request(fd, ++presync_tickets_);
  return true;
}

void SqliteDatabase::presynced(int err) {
  presync_running_ = false;
  if (err != 0) {
    // As for a group's sync: the kernel may have dropped the pages it failed to write.
    const std::string why = std::string(
                                "the bridge database's write-ahead log could not be "
                                "synced to disk (") +
                            std::strerror(err) + ")";
    if (fatal_) {
      fatal_(why);
      return;
    }
    spdlog::error("{}; the checkpoint syncs it again", why);
  }
  wal_presynced_ = true;
  // With a group open the checkpoint would be refused: the group's commit runs it instead.
  if (checkpoint_due_ && !group_) {
    reset_statements();
    checkpoint();
  }
}

void SqliteDatabase::arm_idle_checkpoint() {
  if (checkpoint_armed_) return;
  checkpoint_armed_ = true;
  checkpoint_after_(checkpoint_idle_, [this, then = commits_] { idle_checkpoint_tick(then); });
}

void SqliteDatabase::idle_checkpoint_tick(std::uint64_t commits_then) {
  checkpoint_armed_ = false;
  if (!checkpoint_due_) return;
  if (group_ || commits_ != commits_then) {  // still busy: look again one period later
    arm_idle_checkpoint();
    return;
  }
  reset_statements();  // a read since the last commit may still hold its transaction
  checkpoint();
}

void SqliteDatabase::reset_statements() {
  sqlite3* handle = db_.getHandle();
  for (sqlite3_stmt* s = sqlite3_next_stmt(handle, nullptr); s; s = sqlite3_next_stmt(handle, s)) {
    if (sqlite3_stmt_busy(s)) sqlite3_reset(s);
  }
}

}  // namespace cb::store
