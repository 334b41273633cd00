#include "daemon/mcp/metrics.h"

#include <algorithm>
#include <limits>

namespace cb::mcp {

void Metrics::record(const std::string& key, std::chrono::steady_clock::duration elapsed) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count();
  const auto clamped = static_cast<std::uint32_t>(
      std::clamp<long long>(us, 0, std::numeric_limits<std::uint32_t>::max()));
  auto it = series_.find(key);
  if (it == series_.end()) {
    // Method and tool names come from clients: past kMaxKeys distinct names, the rest share
    // one series, so inventing names cannot grow the daemon.
    it = series_.size() < kMaxKeys ? series_.emplace(key, Series{}).first
                                   : series_.try_emplace(std::string(kOtherKey)).first;
  }
  Series& s = it->second;
  if (s.samples_us.size() < kSamplesPerKey) {
    s.samples_us.push_back(clamped);
  } else {
    s.samples_us[s.next] = clamped;
  }
  s.next = (s.next + 1) % kSamplesPerKey;
  ++s.count;
}

nlohmann::json Metrics::summary() const {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [key, s] : series_) {
    std::vector<std::uint32_t> sorted = s.samples_us;
    std::sort(sorted.begin(), sorted.end());
    auto pct = [&](double p) -> std::uint32_t {
      if (sorted.empty()) return 0;
      const auto rank = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
      return sorted[std::min(rank, sorted.size() - 1)];
    };
    out[key] = {{"count", s.count},
                {"p50_us", pct(0.50)},
                {"p90_us", pct(0.90)},
                {"p99_us", pct(0.99)},
                {"max_us", sorted.empty() ? 0 : sorted.back()}};
  }
  return out;
}

}  // namespace cb::mcp
