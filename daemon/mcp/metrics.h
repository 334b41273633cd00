#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace cb::mcp {

// Request latencies per method (tools/call counted per tool), kept in a fixed ring of the most
// recent samples so memory stays flat however long the daemon runs. Single-threaded.
class Metrics {
 public:
  static constexpr std::size_t kSamplesPerKey = 4096;
  static constexpr std::size_t kMaxKeys = 64;
  static constexpr const char* kOtherKey = "(other)";

  void record(const std::string& key, std::chrono::steady_clock::duration elapsed);
  // {key: {count, p50_us, p90_us, p99_us, max_us}} over the retained samples; count is total.
  nlohmann::json summary() const;

 private:
  struct Series {
    std::vector<std::uint32_t> samples_us;  // ring
    std::size_t next = 0;
    std::uint64_t count = 0;
  };
  std::map<std::string, Series> series_;
};

}  // namespace cb::mcp
