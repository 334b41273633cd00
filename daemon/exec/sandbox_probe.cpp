// Whether the sandbox can run here: bwrap installed, user namespaces enabled, and a probe
// sandbox that actually starts; otherwise one line saying why and what to change.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "daemon/exec/sandbox.h"

namespace cb::exec {
namespace {

namespace fs = std::filesystem;

std::string read_sysctl(const char* path) {
  std::ifstream in(path);
  std::string value;
  std::getline(in, value);
  return value;
}

std::string first_line(const std::string& text) {
  const std::size_t end = text.find('\n');
  std::string line = text.substr(0, end);
  if (line.size() > 200) line.resize(200);
  return line;
}

}  // namespace

Status sandbox_available(const fs::path& bwrap_in) {
  const fs::path bwrap = bwrap_in.empty() ? find_bwrap() : bwrap_in;
  if (bwrap.empty() || ::access(bwrap.c_str(), X_OK) != 0) {
    return Status::error(sandbox_errors::kNoBwrap,
                         "bubblewrap (bwrap) is not installed: apt-get install bubblewrap");
  }
  if (read_sysctl("/proc/sys/user/max_user_namespaces") == "0") {
    return Status::error(sandbox_errors::kNoUserNamespaces,
                         "user namespaces are disabled (sysctl user.max_user_namespaces = 0); the "
                         "sandbox needs them: set it to a positive number");
  }
  if (::geteuid() != 0 && read_sysctl("/proc/sys/kernel/unprivileged_userns_clone") == "0") {
    return Status::error(sandbox_errors::kNoUserNamespaces,
                         "unprivileged user namespaces are disabled (sysctl "
                         "kernel.unprivileged_userns_clone = 0); the sandbox needs them: set it "
                         "to 1");
  }
  SandboxSpec probe;
  probe.argv = {"true"};
  probe.workspace = "/";
  probe.mode = Mode::kSafe;
  probe.timeout = std::chrono::seconds(20);
  probe.hidden_paths = {};
  probe.bwrap = bwrap;
  const SandboxResult r = run_sandboxed_blocking(std::move(probe));
  if (!r.started()) return Status::error(sandbox_errors::kProbeFailed, r.status.message());
  if (r.timed_out) {
    return Status::error(sandbox_errors::kProbeFailed,
                         "bubblewrap did not start a sandbox within 20 seconds");
  }
  if (r.exit_code == 0) return {};
  std::string why = first_line(r.stderr_data);
  if (why.empty()) why = "exit status " + std::to_string(r.exit_code);
  std::string hint;
  if (read_sysctl("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") == "1") {
    hint =
        " (AppArmor restricts unprivileged user namespaces: "
        "kernel.apparmor_restrict_unprivileged_userns = 1)";
  } else {
    hint =
        " (user namespaces may be blocked, e.g. by RestrictNamespaces= in the service unit; "
        "see systemd/claude-bridge-yolo.conf)";
  }
  return Status::error(sandbox_errors::kProbeFailed,
                       "bubblewrap cannot create a sandbox here: " + why + hint);
}

}  // namespace cb::exec
