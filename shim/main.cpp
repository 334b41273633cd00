// claude-bridge-shim: what .mcp.json runs. Pumps bytes between stdin/stdout and the daemon's
// mcp.sock, unchanged; never parses JSON and never writes anything but daemon bytes to stdout.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
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

namespace {

constexpr const char* kUsage =
    "Usage: claude-bridge-shim [--socket-dir DIR] [--state-dir DIR] [--config FILE]\n"
    "                          [--no-autostart] [--daemon PATH]\n"
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
    "  --help            this text\n"
    "  --version         print the version\n";

void say(const std::string& line) {
  std::string out = "claude-bridge-shim: " + line + "\n";
  (void)!::write(2, out.data(), out.size());
}

bool write_all(int fd, const char* data, std::size_t len) {
  while (len > 0) {
    const ssize_t n = ::write(fd, data, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += n;
    len -= static_cast<std::size_t>(n);
  }
  return true;
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
  if (auto problem = cb::paths::ensure_private_dir(dir); !problem.empty()) {
    say(problem);
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
  if (auto e = cb::shim::spawn_detached(argv, dir + "/daemon.log"); !e.empty()) {
    say(e);
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

// What the shim holds for the daemon before it stops reading stdin (the daemon is not reading).
constexpr std::size_t kMaxPendingToDaemon = 1 << 20;

// Writes what the socket takes now, without blocking; false when the daemon is gone.
bool send_some(int sock, std::string& pending) {
  while (!pending.empty()) {
    const ssize_t n = ::send(sock, pending.data(), pending.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno == EAGAIN || errno == EWOULDBLOCK;
    }
    pending.erase(0, static_cast<std::size_t>(n));
  }
  return true;
}

// Copies bytes both ways until the daemon closes. Full duplex: while the daemon is not taking
// requests (it stops reading a client whose replies pile up), replies keep flowing to stdout,
// so neither side waits for the other forever. On stdin EOF the socket's write side is shut
// once everything read from stdin is sent, so the daemon flushes its last replies and closes.
int pump(int sock) {
  std::vector<char> buf(65536);
  std::string to_daemon;  // read from stdin, not yet taken by the socket
  bool stdin_open = true;
  bool shut = false;
  for (;;) {
    if (!stdin_open && to_daemon.empty() && !shut) {
      ::shutdown(sock, SHUT_WR);
      shut = true;
    }
    const bool take_stdin = stdin_open && to_daemon.size() < kMaxPendingToDaemon;
    pollfd fds[2] = {{sock, static_cast<short>(POLLIN | (to_daemon.empty() ? 0 : POLLOUT)), 0},
                     {0, static_cast<short>(take_stdin ? POLLIN : 0), 0}};
    const int n = ::poll(fds, take_stdin ? 2 : 1, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      say(std::string("poll: ") + std::strerror(errno));
      return cb::exit_code::kFailure;
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      const ssize_t r = ::read(sock, buf.data(), buf.size());
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) {
        if (stdin_open) say("the daemon closed the connection");
        return stdin_open ? cb::exit_code::kUnavailable : cb::exit_code::kOk;
      }
      if (!write_all(1, buf.data(), static_cast<std::size_t>(r))) return cb::exit_code::kOk;
    }
    if ((fds[0].revents & POLLOUT) && !send_some(sock, to_daemon)) {
      say("the daemon stopped reading");
      return cb::exit_code::kUnavailable;
    }
    if (take_stdin && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      const ssize_t r = ::read(0, buf.data(), buf.size());
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) {
        stdin_open = false;
        continue;
      }
      to_daemon.append(buf.data(), static_cast<std::size_t>(r));
      if (!send_some(sock, to_daemon)) {  // usually all of it, at once
        say("the daemon stopped reading");
        return cb::exit_code::kUnavailable;
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string socket_dir_flag, daemon;
  std::vector<std::string> daemon_args;
  bool autostart = true;
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
  return pump(sock.get());
}
