#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>

namespace cb::bridge {

// A sliding-log limiter: at most `limit` events per key in any window of `window_ms`. Exact
// (no double burst at a boundary); memory is O(limit) per active key, and keys whose log has
// emptied are dropped on the next sweep. limit 0 means unlimited.
class SlidingWindow {
 public:
  SlidingWindow(std::int64_t limit, std::int64_t window_ms) : limit_(limit), window_ms_(window_ms) {}

  // When the event is allowed, records it and returns nullopt; otherwise returns how many
  // milliseconds until it would be.
  std::optional<std::int64_t> acquire(const std::string& key, std::int64_t now_ms);
  // Like acquire but never records.
  std::optional<std::int64_t> would_block(const std::string& key, std::int64_t now_ms);
  void record(const std::string& key, std::int64_t now_ms);
  void forget(const std::string& key) { logs_.erase(key); }
  void set_limit(std::int64_t limit) { limit_ = limit; }
  std::size_t keys() const { return logs_.size(); }

 private:
  void trim(std::deque<std::int64_t>& log, std::int64_t now_ms) const;

  std::int64_t limit_;
  std::int64_t window_ms_;
  std::map<std::string, std::deque<std::int64_t>> logs_;
};

}  // namespace cb::bridge
