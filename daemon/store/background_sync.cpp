#include "daemon/store/background_sync.h"

#include <unistd.h>

#include <cerrno>

namespace cb::store {

BackgroundSync::BackgroundSync(Post post, Done done, SyncFn sync)
    : post_(std::move(post)),
      done_(std::move(done)),
      sync_(sync ? std::move(sync)
                 : SyncFn([](int fd) { return ::fdatasync(fd) == 0 ? 0 : errno; })),
      thread_([this] { run(); }) {}

BackgroundSync::~BackgroundSync() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

void BackgroundSync::request(int fd, std::uint64_t ticket) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    fd_ = fd;
    if (ticket > asked_) asked_ = ticket;
  }
  cv_.notify_one();
}

void BackgroundSync::run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stop_ || asked_ > synced_; });
    if (asked_ <= synced_) return;  // stopping, and nothing is left to sync
    const std::uint64_t upto = asked_;
    const int fd = fd_;
    lock.unlock();
    // Everything asked for so far was written before it was asked for: one sync covers it all.
    const int err = sync_(fd);
    post_([done = done_, upto, err] { done(upto, err); });
    lock.lock();
    synced_ = upto;
  }
}

}  // namespace cb::store
