// claude-bridge-shim: what .mcp.json runs. Pumps bytes between stdin/stdout and the daemon's
// mcp.sock, unchanged, and outlives a daemon restart (shim/relay.h); never parses JSON, and
// writes to stdout only the daemon's bytes and its own answers to requests a lost connection
// left unanswered. To the daemon it first writes one line of its own on every connection: the
// hello naming the client session it serves (shim/hello.h).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "cb_config.h"
#include "common/exit_codes.h"
#include "common/fd.h"
#include "common/paths.h"
#include "common/unix_socket.h"
#include "shim/autostart.h"
#include "shim/hello.h"
#include "shim/relay.h"

namespace {

constexpr const char* kUsage =
    "Usage: claude-bridge-shim [--socket-dir DIR] [--state-dir DIR] [--config FILE]\n"
    "                          [--no-autostart] [--daemon PATH] [--agent NAME] [--no-hello]\n"
    "\n"
    "Connects an MCP client on stdin/stdout to the claude-bridged daemon (mcp.sock).\n"
    "Put it in .mcp.json or run: claude mcp add bridge -- claude-bridge-shim\n"
    "When no daemon answers it starts one (same socket, state and config settings).\n"
    "\n"
    "  --socket-dir DIR  socket directory (env CLAUDE_BRIDGE_SOCKET_DIR;\n"
    "                    default $XDG_RUNTIME_DIR/claude-bridge)\n"
    "  --state-dir DIR   passed to a daemon this shim starts (env CLAUDE_BRIDGE_STATE_DIR)\n"
    "  --config FILE     passed to a daemon this shim starts (env CLAUDE_BRIDGE_CONFIG)\n"
    "  --no-autostart    fail instead of starting the daemon\n"
    "  --daemon PATH     the claude-bridged to start (default: next to this program, or PATH)\n"
    "  --agent NAME      the agent name to ask for (env CLAUDE_BRIDGE_AGENT; default: the\n"
    "                    project directory's name)\n"
    "  --no-hello        do not tell the daemon which client session this is: the connection\n"
    "                    stays unbound (tokens only), as socat's would\n"
    "  --help            this text\n"
    "  --version         print the version\n";

void say(const std::string& line) {
  std::string out = "claude-bridge-shim: " + line + "\n";
  (void)!::write(2, out.data(), out.size());
}

std::string self_exe() {
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

// Connects, starting the daemon once if nothing listens. Two shims racing to start it are
// serialised by a lock file in the socket directory; the loser finds the winner's daemon.
cb::UniqueFd connect_or_start(const std::string& dir, const std::string& socket, bool autostart,
                              const std::vector<std::string>& daemon_args, std::string daemon) {
  int err = 0;
  cb::UniqueFd fd = cb::unix_socket::connect(socket, &err);
  if (fd || !autostart || (err != ENOENT && err != ECONNREFUSED)) {
    if (!fd) {
      say("cannot connect to " + socket + ": " + std::strerror(err) +
          (autostart ? "" : " — start the daemon: claude-bridged --socket-dir " + dir));
    }
    return fd;
  }
  if (const cb::Status problem = cb::paths::ensure_private_dir(dir); !problem.ok()) {
    say(problem.message());
    return {};
  }
  cb::UniqueFd lock(::open((dir + "/start.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (lock) ::flock(lock.get(), LOCK_EX);
  fd = cb::unix_socket::connect(socket, &err);
  if (fd) return fd;
  if (daemon.empty()) daemon = cb::shim::find_daemon(self_exe());
  if (daemon.empty()) {
    say("no daemon at " + socket + " and claude-bridged was not found next to this program or "
        "on PATH — install it or pass --daemon PATH");
    return {};
  }
  std::vector<std::string> argv{daemon, "--socket-dir", dir};
  argv.insert(argv.end(), daemon_args.begin(), daemon_args.end());
  if (const cb::Status started = cb::shim::spawn_detached(argv, dir + "/daemon.log");
      !started.ok()) {
    say(started.message());
    return {};
  }
  for (int i = 0; i < 250; ++i) {  // up to 5 s
    fd = cb::unix_socket::connect(socket, &err);
    if (fd) return fd;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  say("started " + daemon + " but " + socket + " did not answer within 5 s — see " + dir +
      "/daemon.log, or run: " + daemon + " --socket-dir " + dir);
  return {};
}

// After the daemon went away: a daemon being restarted (by systemd, a person, an upgrade) is
// given a moment to come back; then, when allowed, this shim starts one (connect_or_start: two
// shims racing start one). Gives up after kReconnectSeconds, or when the client hangs up.
constexpr int kReconnectSeconds = 15;
constexpr int kAutostartAfterMs = 1000;

cb::UniqueFd reconnect(const std::string& dir, const std::string& socket, bool autostart,
                       const std::vector<std::string>& daemon_args, const std::string& daemon) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  for (;;) {
    int err = 0;
    if (cb::UniqueFd fd = cb::unix_socket::connect(socket, &err)) return fd;
    const auto waited = Clock::now() - start;
    if (autostart && waited >= std::chrono::milliseconds(kAutostartAfterMs)) {
      if (cb::UniqueFd fd = connect_or_start(dir, socket, true, daemon_args, daemon)) return fd;
    }
    if (Clock::now() - start >= std::chrono::seconds(kReconnectSeconds)) {
      say("the daemon did not come back within " + std::to_string(kReconnectSeconds) +
          " s (" + socket + ": " + std::strerror(err) + ")" +
          (autostart ? " — see " + dir + "/daemon.log" : " — start it: claude-bridged --socket-dir " + dir));
      return {};
    }
    // Waits 20 ms, unless the client hangs up meanwhile: then there is nobody to reconnect for.
    pollfd in{0, 0, 0};
    if (::poll(&in, 1, 20) > 0 && (in.revents & (POLLHUP | POLLERR | POLLNVAL))) {
      say("the client closed stdin while the daemon was away; exiting");
      return {};
    }
  }
}

// Who launched this shim, read once: the parent now is the client (a shim orphaned later would
// name init). The daemon checks client_pid against its own view of this process's parent.
std::string hello_line(const std::string& agent_flag) {
  std::string cwd;
  if (char* c = ::getcwd(nullptr, 0)) {
    cwd = c;
    std::free(c);
  }
  cb::shim::Hello h = cb::shim::hello_from([](const char* name) { return std::getenv(name); },
                                           cwd, agent_flag);
  h.client_pid = ::getppid();
  return cb::shim::hello_line(h);
}

}  // namespace

int main(int argc, char** argv) {
  std::string socket_dir_flag, daemon;
  std::vector<std::string> daemon_args;
  std::string agent;
  bool autostart = true;
  bool hello = true;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](const char* name) -> std::string {
      if (i + 1 >= argc) {
        say(std::string(name) + " needs a value (see --help)");
        std::exit(cb::exit_code::kUsage);
      }
      return argv[++i];
    };
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (a == "--version") {
      std::printf("claude-bridge-shim %s\n", CB_VERSION);
      return 0;
    } else if (a == "--socket-dir") {
      socket_dir_flag = value("--socket-dir");
    } else if (a == "--state-dir" || a == "--config") {
      daemon_args.push_back(a);
      daemon_args.push_back(value(a.c_str()));
    } else if (a == "--no-autostart") {
      autostart = false;
    } else if (a == "--daemon") {
      daemon = value("--daemon");
    } else if (a == "--agent") {
      agent = value("--agent");
    } else if (a == "--no-hello") {
      hello = false;
    } else {
      say("unknown option " + a + " (see --help)");
      return cb::exit_code::kUsage;
    }
  }
  ::signal(SIGPIPE, SIG_IGN);
  const std::string dir = cb::paths::socket_dir(socket_dir_flag).string();
  const std::string socket = dir + "/" + cb::paths::kMcpSocket;
  cb::UniqueFd sock = connect_or_start(dir, socket, autostart, daemon_args, daemon);
  if (!sock) return cb::exit_code::kUnavailable;
  cb::shim::Relay relay([&] { return reconnect(dir, socket, autostart, daemon_args, daemon); });
  if (hello) relay.set_hello(hello_line(agent));
  return relay.run(std::move(sock));
}
