// WAL checkpoints (daemon/store/checkpoints.cpp) on real files in a temp dir: the WAL is copied
// back into the database file and stays bounded, even when a statement was left holding a row;
// with an idle scheduler the copy waits for a quiet period, unless the WAL grows too long.
#include <doctest/doctest.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "daemon/store/sqlite_database.h"
#include "tests/unit/temp_dir.h"

using namespace cb;
namespace fs = std::filesystem;

namespace {

using BackgroundSyncPost = store::BackgroundSync::Post;

struct FileDb {
  TempDir dir{"cb-checkpoint"};
  fs::path file = dir.path / "bridge.db";
  std::unique_ptr<store::SqliteDatabase> db =
      store::SqliteDatabase::open(file, store::Synchronous::kNormal).value();
  std::vector<std::function<void()>> deferred;  // the loop's posted work (group flushes)
  std::vector<std::function<void()>> timers;    // the idle scheduler's pending checks
  std::mutex mu;                                // posted from the WAL-sync thread:
  std::condition_variable cv;
  std::vector<std::function<void()>> posted;
  int next = 0;

  FileDb() {
    db->db().exec("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)");
    db->enable_group_commit(
        [this](std::function<void()> fn) { deferred.push_back(std::move(fn)); });
  }
  void with_idle_scheduler(bool sync_thread = false) {
    BackgroundSyncPost post;
    if (sync_thread) {
      post = [this](std::function<void()> fn) {
        std::lock_guard<std::mutex> lock(mu);
        posted.push_back(std::move(fn));
        cv.notify_all();
      };
    }
    db->enable_idle_checkpoint(
        [this](std::chrono::milliseconds, std::function<void()> fn) {
          timers.push_back(std::move(fn));
        },
        std::chrono::milliseconds(100), std::move(post));
  }
  // Waits (no sleeping: a condition variable, a generous bound) for what the thread posts,
  // and runs it as the loop would.
  bool run_posted() {
    std::vector<std::function<void()>> fns;
    {
      std::unique_lock<std::mutex> lock(mu);
      if (!cv.wait_for(lock, std::chrono::seconds(30), [this] { return !posted.empty(); }))
        return false;
      fns.swap(posted);
    }
    for (auto& fn : fns) fn();
    return true;
  }
  // One loop turn: a call that writes a row of `kb` thousand bytes, then reads the way
  // Conversations::find does (one step, the statement left holding its row), then the turn's
  // group commits.
  void turn(int kb = 1) {
    {
      store::WriteTransaction tx(*db);
      auto& q = db->stmt("INSERT INTO t (k, v) VALUES (?, ?)");
      q.bind(1, ++next);
      q.bind(2,
             std::string(static_cast<std::size_t>(kb) * 1000, static_cast<char>('a' + next % 26)));
      q.exec();
      tx.commit();
    }
    auto& read = db->stmt("SELECT k FROM t WHERE k = ?");
    read.bind(1, next);
    REQUIRE(read.executeStep());
    auto fns = std::move(deferred);
    deferred.clear();
    for (auto& fn : fns) fn();
  }
  void fire_timers() {
    auto fns = std::move(timers);
    timers.clear();
    for (auto& fn : fns) fn();
  }
  std::uintmax_t page_size() {
    return static_cast<std::uintmax_t>(db->db().execAndGet("PRAGMA page_size").getInt());
  }
  std::uintmax_t wal_frames() {  // a frame is a page and a 24-byte header
    const fs::path wal = file.string() + "-wal";
    return fs::exists(wal) ? fs::file_size(wal) / (page_size() + 24) : 0;
  }
  std::uintmax_t db_pages() { return fs::file_size(file) / page_size(); }
};

}  // namespace

TEST_CASE("the WAL is checkpointed and reused although a statement was left holding a row") {
  FileDb f;
  // ~5,000 frames: without checkpoints the WAL would hold them all, and the rows would exist
  // only there.
  for (int i = 0; i < 1300; ++i) f.turn(3);
  CHECK(f.wal_frames() <= store::SqliteDatabase::kCheckpointFrames + 10);  // + one commit's frames
  CHECK(f.db_pages() > 1000);  // the rows reached the database file
  CHECK(f.db->db().execAndGet("SELECT COUNT(*) FROM t").getInt() == 1300);
}

TEST_CASE("with an idle scheduler the checkpoint waits for a period without commits") {
  FileDb f;
  f.with_idle_scheduler();
  for (int i = 0; i < 400; ++i) f.turn(3);  // past kCheckpointFrames
  REQUIRE(f.wal_frames() >= store::SqliteDatabase::kCheckpointFrames);
  const auto pages_before = f.db_pages();
  CHECK(f.timers.size() == 1);  // one check scheduled, not one per commit
  f.turn();
  f.fire_timers();  // a commit since it was armed: not idle, look again later
  CHECK(f.db_pages() == pages_before);
  REQUIRE(f.timers.size() == 1);
  f.fire_timers();  // a whole period without a commit: checkpoint now
  CHECK(f.timers.empty());
  CHECK(f.db_pages() > pages_before + 1000);
  const auto wal_after = f.wal_frames();
  f.turn();  // the WAL starts again from its beginning instead of growing
  CHECK(f.wal_frames() == wal_after);
  CHECK(f.db->db().execAndGet("SELECT COUNT(*) FROM t").getInt() == 402);
}

TEST_CASE("under sustained load the checkpoint runs inline once the WAL reaches its limit") {
  FileDb f;
  f.with_idle_scheduler();
  // Never idle: the scheduler's checks are never run; no thread to sync the WAL on first.
  // ~12,000 frames in 1,000 commits.
  for (int i = 0; i < 1000; ++i) f.turn(11);
  CHECK(f.wal_frames() <= store::SqliteDatabase::kForcedCheckpointFrames + 20);
  CHECK(f.db_pages() > 5000);
}

TEST_CASE("under sustained load a thread syncs the WAL, then the checkpoint runs on the loop") {
  FileDb f;
  f.with_idle_scheduler(true);
  int turns = 0;
  while (f.wal_frames() < store::SqliteDatabase::kForcedCheckpointFrames && turns < 2000) {
    f.turn(11);
    ++turns;
  }
  REQUIRE(f.wal_frames() >= store::SqliteDatabase::kForcedCheckpointFrames);
  const auto pages_before = f.db_pages();
  f.turn(11);  // the thread is still syncing or has posted: nothing was checkpointed inline
  CHECK(f.db_pages() == pages_before);
  REQUIRE(f.run_posted());  // the sync is done: the checkpoint runs now
  CHECK(f.db_pages() > pages_before + 5000);
  const auto wal_after = f.wal_frames();
  f.turn();  // the WAL starts again from its beginning
  CHECK(f.wal_frames() == wal_after);
  CHECK(f.db->db().execAndGet("SELECT COUNT(*) FROM t").getInt() == turns + 2);
  f.db->stop_background_sync();  // joins the thread
}
