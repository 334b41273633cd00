// The bubblewrap command line: what the sandbox contains, in one place.

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <string>

#include "daemon/exec/sandbox.h"
#include "daemon/exec/workspace.h"

namespace cb::exec {
namespace {

namespace fs = std::filesystem;

// The sandbox's PATH; policy.cpp accepts programs by path from exactly these directories.
constexpr const char* kSandboxPath = "/usr/local/bin:/usr/bin:/bin";

struct Hidden {
  fs::path path;
  bool directory;
};

// Canonical, existing, de-duplicated hidden paths, split into those mounted before the
// workspace and those strictly inside it (mounted after, so the workspace mount cannot
// uncover them). Paths under the fresh /tmp, /dev or /proc are hidden already.
void plan_hidden(const SandboxSpec& spec, std::vector<Hidden>* before, std::vector<Hidden>* after) {
  std::vector<Hidden> all;
  for (const fs::path& p : spec.hidden_paths) {
    if (p.empty() || !p.is_absolute()) continue;
    const fs::path real = real_path(p);
    struct stat st {};
    if (real.empty() || real == fs::path("/") || ::stat(real.c_str(), &st) != 0) continue;
    all.push_back(Hidden{real, S_ISDIR(st.st_mode)});
  }
  std::sort(all.begin(), all.end(), [](const Hidden& a, const Hidden& b) {
    return a.path.native().size() < b.path.native().size() ||
           (a.path.native().size() == b.path.native().size() && a.path < b.path);
  });
  const fs::path& ws = spec.workspace;
  for (const Hidden& h : all) {
    const bool in_ws = inside(h.path, ws) && h.path != ws;
    if (!in_ws && (inside(h.path, "/tmp") || inside(h.path, "/dev") || inside(h.path, "/proc"))) {
      continue;
    }
    std::vector<Hidden>* list = in_ws ? after : before;
    const bool covered = std::any_of(list->begin(), list->end(), [&](const Hidden& other) {
      return other.directory && inside(h.path, other.path);
    });
    if (!covered) list->push_back(h);
  }
}

void add_hidden(const std::vector<Hidden>& hidden, std::vector<std::string>* args) {
  for (const Hidden& h : hidden) {
    if (h.directory) {
      args->insert(args->end(), {"--tmpfs", h.path.string()});
    } else {
      args->insert(args->end(), {"--ro-bind", "/dev/null", h.path.string()});
    }
  }
}

}  // namespace

std::vector<fs::path> default_hidden_paths() {
  std::vector<fs::path> paths = {"/home", "/root", "/run", "/var/tmp"};
  for (const char* var : {"HOME", "XDG_RUNTIME_DIR", "XDG_STATE_HOME", "XDG_CONFIG_HOME",
                          "XDG_DATA_HOME", "XDG_CACHE_HOME"}) {
    const char* value = std::getenv(var);
    if (value != nullptr && value[0] == '/') paths.emplace_back(value);
  }
  return paths;
}

fs::path find_bwrap() {
  for (const char* candidate : {"/usr/bin/bwrap", "/bin/bwrap", "/usr/local/bin/bwrap"}) {
    if (::access(candidate, X_OK) == 0) return candidate;
  }
  return {};
}

std::vector<std::string> build_bwrap_argv(const SandboxSpec& spec, const fs::path& bwrap) {
  const std::string ws = spec.workspace.string();
  std::vector<std::string> args = {
      bwrap.string(),
      // Namespaces: user (required, so that --disable-userns and --cap-drop hold), pid, ipc,
      // uts, cgroup, net.
      "--unshare-all", "--unshare-user", "--disable-userns", "--cap-drop", "ALL",
      "--die-with-parent", "--new-session", "--hostname", "claude-bridge-sandbox",
      // File system: everything read-only, then fresh /dev, /proc, /tmp.
      "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--size",
      std::to_string(spec.tmp_size), "--tmpfs", "/tmp"};
  if (spec.allow_network) args.push_back("--share-net");

  std::vector<Hidden> before;
  std::vector<Hidden> after;
  plan_hidden(spec, &before, &after);
  add_hidden(before, &args);
  if (spec.allow_network) {
    // /etc/resolv.conf often points into /run, which is hidden; name resolution needs it.
    const fs::path resolved = real_path("/run/systemd/resolve");
    if (!resolved.empty()) {
      args.insert(args.end(), {"--ro-bind", resolved.string(), resolved.string()});
    }
  }
  // The workspace comes in as the directory open on fd 4 (see run_sandboxed), not by path:
  // renaming or replacing a path component after the check cannot change what is mounted.
  args.insert(args.end(), {spec.mode == Mode::kSafe ? "--ro-bind-fd" : "--bind-fd", "4", ws});
  add_hidden(after, &args);

  args.insert(args.end(), {"--chdir", ws, "--clearenv", "--setenv", "PATH", kSandboxPath,
                           "--setenv", "HOME", ws, "--setenv", "LANG", "C.UTF-8", "--setenv",
                           "TERM", "dumb", "--info-fd", "3", "--"});
  args.insert(args.end(), spec.argv.begin(), spec.argv.end());
  return args;
}

}  // namespace cb::exec
