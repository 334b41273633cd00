#pragma once

#include <cassert>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>

// The one vocabulary for expected failures (LevelDB's Status): a refused argument, a bad
// token, an expired conversation, a config file that does not parse. Such a failure is a
// value, returned and tested; exceptions are kept for bugs and storage faults, caught at the
// documented edges (docs/architecture.md, "Errors").
namespace cb {

class Status {
 public:
  // OK.
  Status() = default;

  // A failure: `code` is a stable machine name (snake_case: bad_token, expired, config, …)
  // that clients and tests may match; `message` is one line saying what happened and what to
  // do next, never holding a secret; `retry_after_seconds` when waiting helps.
  static Status error(std::string code, std::string message,
                      std::optional<std::int64_t> retry_after_seconds = std::nullopt) {
    assert(!code.empty());
    Status s;
    s.code_ = std::move(code);
    s.message_ = std::move(message);
    s.retry_after_seconds_ = retry_after_seconds;
    return s;
  }
  // A failure whose code does not matter to anyone but a person (start-up, config checks).
  static Status invalid(std::string message) { return error("invalid", std::move(message)); }

  bool ok() const { return code_.empty(); }
  const std::string& code() const { return code_; }
  const std::string& message() const { return message_; }
  std::optional<std::int64_t> retry_after_seconds() const { return retry_after_seconds_; }

 private:
  std::string code_;
  std::string message_;
  std::optional<std::int64_t> retry_after_seconds_;
};

// A value or the Status that explains its absence.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit, as a return value
  Result(Status failure) : v_(std::move(failure)) {  // NOLINT: implicit, as a return value
    assert(!std::get<Status>(v_).ok());
  }

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  // Only when ok().
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  // Only when !ok().
  const Status& status() const& { return std::get<Status>(v_); }
  Status&& status() && { return std::get<Status>(std::move(v_)); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace cb
