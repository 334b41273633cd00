#include "daemon/bridge/rate_limit.h"

namespace cb::bridge {

void SlidingWindow::trim(std::deque<std::int64_t>& log, std::int64_t now_ms) const {
  while (!log.empty() && log.front() <= now_ms - window_ms_) log.pop_front();
}

std::optional<std::int64_t> SlidingWindow::would_block(const std::string& key,
                                                       std::int64_t now_ms) {
  if (limit_ <= 0) return std::nullopt;
  auto it = logs_.find(key);
  if (it == logs_.end()) return std::nullopt;
  trim(it->second, now_ms);
  if (it->second.empty()) {
    logs_.erase(it);
    return std::nullopt;
  }
  if (static_cast<std::int64_t>(it->second.size()) < limit_) return std::nullopt;
  // Allowed again once enough of the oldest events have left the window.
  const std::size_t excess = it->second.size() - static_cast<std::size_t>(limit_);
  return it->second[excess] + window_ms_ - now_ms;
}

void SlidingWindow::record(const std::string& key, std::int64_t now_ms) {
  if (limit_ <= 0) return;
  auto& log = logs_[key];
  log.push_back(now_ms);
  while (static_cast<std::int64_t>(log.size()) > limit_ + 1) log.pop_front();
}

std::optional<std::int64_t> SlidingWindow::acquire(const std::string& key, std::int64_t now_ms) {
  if (auto wait = would_block(key, now_ms)) return wait;
  record(key, now_ms);
  return std::nullopt;
}

}  // namespace cb::bridge
