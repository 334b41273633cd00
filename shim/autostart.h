#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace cb::shim {

// Where claude-bridged is: next to this executable (installed layout), in ../daemon (build
// tree), else on PATH.
std::string find_daemon(const std::string& self_exe);

// Starts `daemon_argv` fully detached (double fork, new session, stdio on /dev/null except
// stderr appended to `log_path`). Fails with one line: kForkFailed when this process cannot
// fork, kNotStarted when the intermediate child reports failure. That the daemon then serves is
// the caller's to check (it may still exit, say on a bad configuration).
inline constexpr const char* kForkFailed = "fork_failed";
inline constexpr const char* kNotStarted = "not_started";
Status spawn_detached(const std::vector<std::string>& daemon_argv, const std::string& log_path);

}  // namespace cb::shim
