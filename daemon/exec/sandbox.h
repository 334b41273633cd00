#pragma once

#include <asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "common/status.h"
#include "daemon/exec/policy.h"

// Runs one argv inside a bubblewrap sandbox, asynchronously on the caller's (single-threaded)
// Asio executor. This layer is policy-free: it runs whatever argv it is given; callers check
// the argv with policy.h and the workspace with workspace.h first.
//
// The sandbox: new user (required), pid, ipc, uts, cgroup and network namespaces (the network
// is shared only when allow_network), --die-with-parent, --new-session (no terminal injection),
// no new privileges; the whole file system read-only; fresh /tmp (tmpfs), minimal /dev, a /proc
// of its own; `hidden_paths` covered by empty tmpfs (home directories, /run with the bridge's
// own sockets, ...); then the workspace, read-only in safe mode and read-write otherwise, as the
// working directory; environment exactly PATH, HOME=workspace, LANG=C.UTF-8, TERM=dumb (and
// PWD, which bwrap sets); stdin /dev/null. Every path is a separate execve argument to bwrap,
// never shell text.
//
// Process contract: the daemon must not set SIGCHLD to SIG_IGN and must not reap children it
// did not spawn (waitpid(-1)); this module reaps its own bwrap with waitpid(pid).
namespace cb::exec {

inline constexpr std::size_t kDefaultOutputCap = 64 * 1024;
inline constexpr std::uint64_t kDefaultTmpSize = 256ull * 1024 * 1024;

// Paths the sandbox hides even though the rest of the file system is visible read-only:
// /home, /root, /run (every per-user runtime directory, D-Bus and Docker sockets), /var/tmp,
// and $HOME, $XDG_RUNTIME_DIR, $XDG_STATE_HOME, $XDG_CONFIG_HOME, $XDG_DATA_HOME and
// $XDG_CACHE_HOME when set. The daemon must add its own socket and state directories when they
// were moved by flag: the sandbox must never reach ctl.sock, mcp.sock or server.key.
std::vector<std::filesystem::path> default_hidden_paths();

struct SandboxSpec {
  std::vector<std::string> argv;    // argv[0] is looked up in the sandbox's PATH
  std::filesystem::path workspace;  // canonical (resolve_workspace()); must exist
  Mode mode = Mode::kSafe;          // safe: workspace read-only; otherwise read-write
  std::chrono::milliseconds timeout{30'000};
  bool allow_network = false;
  std::size_t output_cap = kDefaultOutputCap;  // bytes kept per stream
  std::uint64_t tmp_size = kDefaultTmpSize;    // size of the sandbox's /tmp
  // Directories are covered by an empty tmpfs, files by /dev/null; missing paths are skipped.
  // Those inside the workspace are applied after the workspace mount, so they stay hidden.
  std::vector<std::filesystem::path> hidden_paths = default_hidden_paths();
  std::filesystem::path bwrap;  // empty: find_bwrap()
};

struct SandboxResult {
  // Not ok when the command could not be started at all, or its run was cancelled; nothing
  // else is set then. Its code is one of sandbox_errors (below) or spawn_child's; its message
  // is one line.
  Status status;
  // The command's exit status as bwrap reports it: 0..255; a command killed by signal N shows
  // as 128+N (bash convention). -1 when the sandbox itself was killed (timeout).
  int exit_code = -1;
  // N when the command died of signal N — inferred from an exit status 128+N (1 <= N <= 64),
  // so a program that itself exits with 130 reads as SIGINT — or the signal that ended the
  // sandbox (SIGKILL on timeout). 0 otherwise.
  int term_signal = 0;
  bool timed_out = false;
  std::chrono::milliseconds duration{0};  // from spawn to the end of the sandbox
  std::string stdout_data;  // the first output_cap bytes, as produced (not necessarily UTF-8)
  std::string stderr_data;
  bool stdout_truncated = false;
  bool stderr_truncated = false;
  std::uint64_t stdout_bytes = 0;  // everything produced, kept or not
  std::uint64_t stderr_bytes = 0;
  bool started() const { return status.ok(); }
};

// The bwrap binary: the first executable of /usr/bin/bwrap, /bin/bwrap, /usr/local/bin/bwrap;
// empty if none. The daemon's PATH is deliberately not consulted.
std::filesystem::path find_bwrap();

// The complete bwrap command line for `spec` (argv[0] is `bwrap`). It expects bwrap to get
// the info pipe on fd 3 and the workspace directory open on fd 4. Exposed for tests and logs.
std::vector<std::string> build_bwrap_argv(const SandboxSpec& spec,
                                          const std::filesystem::path& bwrap);

// OK if bubblewrap is installed and can create this module's sandbox here (it runs a probe
// sandbox, synchronously, for a few milliseconds); otherwise one line saying what is missing,
// e.g. "bubblewrap (bwrap) is not installed: apt-get install bubblewrap", under one of the
// codes below. When it fails, execute_command must refuse to run anything. `bwrap` empty means
// find_bwrap().
Status sandbox_available(const std::filesystem::path& bwrap = {});

namespace sandbox_errors {
inline constexpr const char* kNoBwrap = "bwrap_missing";
inline constexpr const char* kNoUserNamespaces = "userns_disabled";  // a sysctl turns them off
inline constexpr const char* kProbeFailed = "probe_failed";          // bwrap could not run `true`
// run_sandboxed's own, before anything is started or when the run is abandoned:
inline constexpr const char* kBadSpec = "bad_spec";                      // an unusable SandboxSpec
inline constexpr const char* kWorkspaceUnusable = "workspace_unusable";  // moved or not canonical
inline constexpr const char* kCancelled = "cancelled";       // the caller cancelled; sandbox killed
inline constexpr const char* kRunFailed = "sandbox_failed";  // an exception (blocking form only)
}  // namespace sandbox_errors

// Runs spec.argv in the sandbox and completes when every process of the sandbox is gone. On
// timeout the whole sandbox is killed (SIGKILL to bwrap's process group and to the sandbox's
// pid 1; the kernel then kills everything in the pid namespace), including background
// children. If the awaiting coroutine is cancelled, the sandbox is killed too (the teardown then
// blocks the thread briefly, until the kernel has emptied the pid namespace) and the result
// carries an error.
// Output beyond output_cap is read and discarded so the command never blocks on a full pipe.
// Never throws for an expected failure; they come back in SandboxResult::status.
asio::awaitable<SandboxResult> run_sandboxed(SandboxSpec spec);

// The same, blocking the calling thread (runs a private io_context). For start-up probes and
// short helper commands only: on the daemon's loop it stalls every connection meanwhile.
SandboxResult run_sandboxed_blocking(SandboxSpec spec);

}  // namespace cb::exec
