// Background sync (synchronous = "full", daemon/store/background_sync.h): a group commit's
// callers are answered only once a sync on the sync thread covers it, while the loop commits
// the next group; flush() syncs in place; a failed sync is fatal. A file database in a temp
// dir, with a fake fdatasync the test holds and releases, and the loop played by hand.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "daemon/store/sqlite_database.h"
#include "tests/unit/temp_dir.h"

using namespace cb;
namespace fs = std::filesystem;

namespace {

// The fake disk: every sync is recorded; while `held`, a sync on the sync thread blocks until
// the test releases it.
struct FakeDisk {
  std::mutex mu;
  std::condition_variable cv;
  bool held = false;
  int fail_with = 0;
  std::vector<int> fds;
  std::vector<std::thread::id> threads;
  int running = 0;  // syncs blocked right now

  int sync(int fd) {
    std::unique_lock<std::mutex> lock(mu);
    fds.push_back(fd);
    threads.push_back(std::this_thread::get_id());
    ++running;
    cv.notify_all();
    cv.wait(lock, [this] { return !held || std::this_thread::get_id() == main; });
    --running;
    return fail_with;
  }
  void hold() {
    std::lock_guard<std::mutex> lock(mu);
    held = true;
  }
  void release() {
    {
      std::lock_guard<std::mutex> lock(mu);
      held = false;
    }
    cv.notify_all();
  }
  // Waits (bounded) until a sync is blocked on the sync thread.
  bool wait_blocked() {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, std::chrono::seconds(10), [this] { return running > 0; });
  }
  std::size_t count() {
    std::lock_guard<std::mutex> lock(mu);
    return fds.size();
  }
  std::thread::id main = std::this_thread::get_id();
};

// The loop, played by hand: the group commit's deferred flushes and BackgroundSync's posted
// completions (which arrive from the sync thread).
struct Loop {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::function<void()>> posted;
  std::vector<std::function<void()>> deferred;

  void post(std::function<void()> fn) {
    {
      std::lock_guard<std::mutex> lock(mu);
      posted.push_back(std::move(fn));
    }
    cv.notify_all();
  }
  // Ends the turn: the open group commits.
  void end_turn() {
    auto fns = std::move(deferred);
    deferred.clear();
    for (auto& fn : fns) fn();
  }
  // Runs the completions posted so far; with `wait`, first waits (bounded) for at least one.
  std::size_t run_posted(bool wait) {
    std::vector<std::function<void()>> fns;
    {
      std::unique_lock<std::mutex> lock(mu);
      if (wait) cv.wait_for(lock, std::chrono::seconds(10), [this] { return !posted.empty(); });
      fns = std::move(posted);
      posted.clear();
    }
    for (auto& fn : fns) fn();
    return fns.size();
  }
};

struct World {
  TempDir dir{"cb-bgsync"};
  FakeDisk disk;
  Loop loop;
  std::vector<std::string> fatal;
  std::unique_ptr<store::SqliteDatabase> db;

  explicit World(store::Synchronous sync = store::Synchronous::kFull) {
    db = store::SqliteDatabase::open(dir.path / "bridge.db", sync).value();
    db->db().exec("CREATE TABLE t (x TEXT NOT NULL)");
    db->enable_group_commit(
        [this](std::function<void()> fn) { loop.deferred.push_back(std::move(fn)); });
    db->enable_background_sync([this](std::function<void()> fn) { loop.post(std::move(fn)); },
                               [this](const std::string& why) { fatal.push_back(why); },
                               [this](int fd) { return disk.sync(fd); });
  }
  ~World() {
    disk.release();
    db.reset();
  }
  store::Ticket write(const std::string& x) {
    store::WriteTransaction tx(*db);
    auto& q = db->stmt("INSERT INTO t (x) VALUES (?)");
    q.bind(1, x);
    q.exec();
    return tx.commit();
  }
  int rows() { return db->db().execAndGet("SELECT COUNT(*) FROM t").getInt(); }
};

struct Told {
  std::vector<std::string> outcomes;
  bool delivered = false;
};

// Two calls' worth of a group: two writes, each caller waiting for the outcome (a lone call
// with the disk idle syncs in place), and one after_commit action.
store::Ticket two_calls(World& w, const std::string& x, Told& told) {
  const store::Ticket one = w.write(x);
  const store::Ticket two = w.write(x + " again");
  for (const store::Ticket& t : {one, two}) {
    w.db->when_durable(t,
                       [&told](const std::string& why) { told.outcomes.push_back("done:" + why); });
  }
  w.db->after_commit([&told] { told.delivered = true; });
  return two;
}

const std::vector<std::string> kTwiceDone{"done:", "done:"};

}  // namespace

TEST_CASE("full: a group is answered after its sync, while the loop fills the next group") {
  World w;
  REQUIRE(w.db->background_sync());
  w.disk.hold();

  Told one;
  const auto first = two_calls(w, "one", one);
  w.loop.end_turn();  // COMMIT: in the database, not yet on disk
  CHECK_FALSE(w.db->outcome(first).has_value());
  CHECK(w.db->latest().generation == first.generation);
  CHECK(one.outcomes.empty());  // nobody is answered before the sync
  CHECK_FALSE(one.delivered);   // nobody is woken or told either
  REQUIRE(w.disk.wait_blocked());

  // The disk is busy with the first group: the loop goes on, and the second group stays open,
  // taking more calls, until the disk is free (its sync could not start earlier anyway).
  Told two;
  const auto second = two_calls(w, "two", two);
  CHECK(second.generation > first.generation);
  w.loop.end_turn();
  CHECK(w.db->latest().generation == second.generation);  // still open
  CHECK(w.rows() == 4);
  CHECK(w.loop.run_posted(false) == 0);
  CHECK(one.outcomes.empty());

  w.disk.release();
  // The first sync's completion answers the first group and commits the second, whose own
  // sync follows.
  while (!two.delivered) REQUIRE(w.loop.run_posted(true) > 0);
  CHECK(one.outcomes == kTwiceDone);
  CHECK(one.delivered);
  CHECK(two.outcomes == kTwiceDone);
  CHECK(w.db->latest().empty());
  CHECK(w.db->outcome(first) == std::optional<std::string>(""));
  CHECK(w.fatal.empty());

  // Both syncs ran on the sync thread, on a descriptor of the WAL file itself.
  std::lock_guard<std::mutex> lock(w.disk.mu);
  REQUIRE(w.disk.fds.size() == 2);
  for (std::size_t i = 0; i < w.disk.fds.size(); ++i) {
    CHECK(w.disk.threads[i] != std::this_thread::get_id());
    struct stat by_fd = {};
    struct stat by_name = {};
    REQUIRE(::fstat(w.disk.fds[i], &by_fd) == 0);
    REQUIRE(::stat((w.dir.path / "bridge.db-wal").c_str(), &by_name) == 0);
    CHECK(by_fd.st_ino == by_name.st_ino);
  }
}

TEST_CASE("full: a lone call with the disk idle syncs in place and is answered at its commit") {
  World w;
  Told told;
  w.db->when_durable(w.write("alone"),
                     [&told](const std::string& why) { told.outcomes.push_back("done:" + why); });
  w.loop.end_turn();
  CHECK(told.outcomes == std::vector<std::string>{"done:"});
  CHECK(w.db->latest().empty());
  CHECK(w.disk.count() == 0);  // SQLite's own sync, inside the COMMIT
}

TEST_CASE("full: a group that wrote nothing waits for the groups before it") {
  World w;
  w.disk.hold();
  Told one;
  two_calls(w, "one", one);
  w.loop.end_turn();
  REQUIRE(w.disk.wait_blocked());
  // A call that opened a transaction and wrote nothing (an empty poll): what it read may be
  // the first group's, which is not on disk yet, so its group stays open behind that sync.
  store::Ticket empty;
  {
    store::WriteTransaction tx(*w.db);
    empty = tx.commit();
  }
  Told nothing;
  w.db->when_durable(
      empty, [&nothing](const std::string& why) { nothing.outcomes.push_back("done:" + why); });
  w.db->after_commit([&nothing] { nothing.delivered = true; });
  w.loop.end_turn();
  CHECK_FALSE(w.db->outcome(empty).has_value());
  CHECK(nothing.outcomes.empty());
  w.disk.release();
  while (!nothing.delivered) REQUIRE(w.loop.run_posted(true) > 0);
  CHECK(one.outcomes == kTwiceDone);
  CHECK(nothing.outcomes == std::vector<std::string>{"done:"});
}

TEST_CASE("full: flush() syncs in place and answers every waiting group") {
  World w;
  w.disk.hold();  // the sync thread is stuck: flush must not depend on it
  Told one, two;
  two_calls(w, "one", one);
  w.loop.end_turn();
  REQUIRE(w.disk.wait_blocked());
  two_calls(w, "two", two);
  w.db->flush();  // what an operator call does before it answers
  CHECK(one.outcomes == kTwiceDone);
  CHECK(two.outcomes == kTwiceDone);
  CHECK(w.db->latest().empty());
  std::lock_guard<std::mutex> lock(w.disk.mu);
  REQUIRE(w.disk.fds.size() == 2);
  CHECK(w.disk.threads.back() == std::this_thread::get_id());  // in place, on the loop
}

TEST_CASE("full: a failed sync is fatal and answers nobody") {
  World w;
  w.disk.fail_with = EIO;
  Told one;
  two_calls(w, "one", one);
  w.loop.end_turn();
  REQUIRE(w.loop.run_posted(true) > 0);
  REQUIRE(w.fatal.size() == 1);
  CHECK(w.fatal[0].find("could not be synced to disk") != std::string::npos);
  CHECK(w.fatal[0].find('\n') == std::string::npos);
  CHECK(one.outcomes.empty());
  CHECK_FALSE(one.delivered);
  w.disk.fail_with = 0;  // the destructor's last sync
}

TEST_CASE("normal: no background sync; a group is answered at its commit") {
  World w(store::Synchronous::kNormal);
  CHECK_FALSE(w.db->background_sync());
  Told one;
  two_calls(w, "one", one);
  w.loop.end_turn();
  CHECK(one.outcomes == kTwiceDone);
  CHECK(one.delivered);
  CHECK(w.disk.count() == 0);
}
