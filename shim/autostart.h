#pragma once

#include <string>
#include <vector>

namespace cb::shim {

// Where claude-bridged is: next to this executable (installed layout), in ../daemon (build
// tree), else on PATH.
std::string find_daemon(const std::string& self_exe);

// Starts `daemon_argv` fully detached (double fork, new session, stdio on /dev/null except
// stderr appended to `log_path`). Returns an error line or "".
std::string spawn_detached(const std::vector<std::string>& daemon_argv, const std::string& log_path);

}  // namespace cb::shim
