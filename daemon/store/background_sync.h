#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

// With synchronous = "full", the fdatasync that makes a group commit durable runs on this
// thread instead of the event loop's: the loop goes on reading requests and filling the next
// group while the disk works, and the calls of the committed group are answered when their
// sync is done (Database, group_commit.cpp). One sync covers every commit asked for before it
// started, so a slow disk makes the groups larger, not the loop slower.
namespace cb::store {

class BackgroundSync {
 public:
  // Runs a function on the event loop's thread. Called from the sync thread, so it must be
  // thread-safe (asio::post is).
  using Post = std::function<void(std::function<void()>)>;
  // Makes the file's data durable: 0, or an errno. ::fdatasync unless a test fakes it.
  using SyncFn = std::function<int(int fd)>;
  // Told on the loop's thread, through Post: every ticket up to `upto` is durable (err 0), or
  // the sync that would have made them so failed with errno `err`.
  using Done = std::function<void(std::uint64_t upto, int err)>;

  BackgroundSync(Post post, Done done, SyncFn sync = {});
  // Syncs whatever was asked for, then joins the thread; completions it posts after this
  // starts may never run (the owner completes them itself).
  ~BackgroundSync();
  BackgroundSync(const BackgroundSync&) = delete;
  BackgroundSync& operator=(const BackgroundSync&) = delete;

  // Asks for `fd` to be synced for `ticket` (tickets increase). Never blocks on the disk.
  void request(int fd, std::uint64_t ticket);
  // Syncs `fd` on the calling thread (the loop's): for callers that must not return before
  // everything is durable (operator calls, shutdown). 0 or an errno.
  int sync_now(int fd) { return sync_(fd); }

 private:
  void run();

  Post post_;
  Done done_;
  SyncFn sync_;
  std::mutex mu_;
  std::condition_variable cv_;
  int fd_ = -1;
  std::uint64_t asked_ = 0;   // the newest ticket requested
  std::uint64_t synced_ = 0;  // the newest ticket a finished sync covered
  bool stop_ = false;
  std::thread thread_;  // last: starts once everything above is initialised
};

}  // namespace cb::store
