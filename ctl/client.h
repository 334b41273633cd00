#pragma once

#include <atomic>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>

#include "common/fd.h"
#include "common/framing.h"

// claude-bridgectl's side of ctl.sock: newline-delimited JSON-RPC 2.0, one request at a time.
// It never opens the database; everything goes through the daemon.
namespace cb::ctl {

using Json = nlohmann::json;

// A failure the operator reads: one line (without the program name) and the exit status.
class CtlError : public std::runtime_error {
 public:
  CtlError(int exit_code, const std::string& line)
      : std::runtime_error(line), exit_code_(exit_code) {}
  int exit_code() const { return exit_code_; }

 private:
  int exit_code_;
};

// Set by the SIGINT / SIGTERM handler of `watch`; blocking reads return when it turns true.
extern std::atomic<bool> g_interrupted;

class Client {
 public:
  // Connects to <socket_dir>/ctl.sock. Throws CtlError(69) naming the socket and how to start
  // the daemon when nothing answers.
  static Client connect(const std::filesystem::path& socket_dir);

  // Sends one request and returns its result. A JSON-RPC error becomes a CtlError whose exit
  // status follows the code: not found / failed 1, bad params 2, bad input file 65. A closed
  // connection or no answer within `timeout_seconds` is 69. Notifications read meanwhile are
  // queued for next_event().
  Json call(const std::string& method, Json params = Json::object(), int timeout_seconds = 60);
  // call() that gives up, returning std::nullopt, when `timeout_ms` pass or `also` (a pidfd;
  // -1: none) turns readable first. Failures as call().
  std::optional<Json> call_until(const std::string& method, Json params, int timeout_ms,
                                 int also = -1);

  // The params of the next `event` notification; std::nullopt once g_interrupted is set.
  // Throws CtlError(69) when the daemon closes the connection.
  std::optional<Json> next_event();

 private:
  Client(UniqueFd fd, std::filesystem::path socket_path)
      : fd_(std::move(fd)), socket_path_(std::move(socket_path)) {}
  // Next frame as JSON; std::nullopt on timeout, interruption, or `also` readable.
  std::optional<Json> read_message(int timeout_ms, bool stop_on_interrupt, int also = -1);
  void write_all(const std::string& bytes);

  UniqueFd fd_;
  std::filesystem::path socket_path_;
  LineFramer framer_{std::size_t{1} << 30};
  std::int64_t next_id_ = 1;
  std::vector<Json> events_;
};

// The one line printed when no daemon answers at `socket_path` (errno `err`).
std::string unavailable_line(const std::filesystem::path& socket_path, int err);

}  // namespace cb::ctl
