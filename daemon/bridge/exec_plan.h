#pragma once

#include "daemon/bridge/exec_service.h"

// One execute_command call, from its checks to its result (exec_service.cpp, exec_command.cpp).
namespace cb::bridge {

struct ExecService::ExecPlan {
  Authed auth;
  exec::Mode mode = exec::Mode::kSafe;
  std::filesystem::path workspace;  // canonical
  std::int64_t timeout_seconds = 30;
  bool allow_network = false;
  std::vector<std::string> argv;
  std::string shown;  // the argv as one command line, redacted: audit rows, progress, messages
  std::string id;     // apr_ + 8 hex
  std::string client_confirmation = "not_asked";
};

constexpr std::size_t kMaxPendingPerSession = 3;
constexpr std::int64_t kDefaultTimeoutSeconds = 30;  // the original's default

}  // namespace cb::bridge
