#pragma once

#include <chrono>
#include <cstdint>
#include <string>

// Wall-clock time enters the product only through Clock, so expiry, heartbeats and rate
// windows are tested with a fake clock and no sleeping.
namespace cb {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::int64_t now_ms() const = 0;  // Unix milliseconds
};

class SystemClock final : public Clock {
 public:
  std::int64_t now_ms() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

class FakeClock final : public Clock {
 public:
  explicit FakeClock(std::int64_t start_ms = 1'790'000'000'000) : now_(start_ms) {}
  std::int64_t now_ms() const override { return now_; }
  void advance_ms(std::int64_t ms) { now_ += ms; }
  void advance_s(std::int64_t s) { now_ += s * 1000; }

 private:
  std::int64_t now_;
};

// "2026-11-24T08:00:00.123Z"
std::string iso8601(std::int64_t unix_ms);

}  // namespace cb
