#include "daemon/net/listeners.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "common/paths.h"
#include "common/unix_socket.h"

namespace cb::net {
namespace {

std::optional<Endpoint> endpoint_from_name(const std::string& name) {
  auto ends_with = [&](const char* suffix) {
    const std::size_t n = std::strlen(suffix);
    return name.size() >= n && name.compare(name.size() - n, n, suffix) == 0;
  };
  if (name == "mcp" || ends_with("mcp.sock")) return Endpoint::kMcp;
  if (name == "ctl" || ends_with("ctl.sock")) return Endpoint::kCtl;
  return std::nullopt;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t pos = s.find(sep, start);
    out.push_back(s.substr(start, pos - start));
    if (pos == std::string::npos) break;
    start = pos + 1;
  }
  return out;
}

Status bind_failure(std::string message) {
  return Status::error(listen_errors::kCannotBind, std::move(message));
}

Result<UniqueFd> bind_one(const std::string& path) {
  if (path.size() > unix_socket::max_path_length()) {
    return Status::error(listen_errors::kPathTooLong,
                         "socket path " + path + " is longer than " +
                             std::to_string(unix_socket::max_path_length()) +
                             " bytes — use a shorter --socket-dir");
  }
  if (unix_socket::is_live(path)) {
    return Status::error(listen_errors::kAlreadyRunning,
                         "another claude-bridged is already serving " + path + " — stop it first");
  }
  ::unlink(path.c_str());  // stale file of a dead daemon (we hold the lock, so it is ours)
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) return bind_failure(std::string("socket(): ") + std::strerror(errno));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  const mode_t old = ::umask(077);
  const int rc = ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  const int err = errno;
  ::umask(old);
  if (rc != 0) return bind_failure("cannot bind " + path + ": " + std::strerror(err));
  if (::chmod(path.c_str(), 0600) != 0 || ::listen(fd.get(), 512) != 0) {
    return bind_failure("cannot listen on " + path + ": " + std::strerror(errno));
  }
  return fd;
}

Status systemd_failure(std::string message) {
  return Status::error(listen_errors::kSystemdSockets, std::move(message));
}

}  // namespace

std::string socket_path(int fd) {
  sockaddr_un addr{};
  socklen_t len = sizeof addr;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0 || addr.sun_family != AF_UNIX) {
    return {};
  }
  const std::size_t max = len > offsetof(sockaddr_un, sun_path) ? len - offsetof(sockaddr_un, sun_path) : 0;
  return std::string(addr.sun_path, strnlen(addr.sun_path, max));
}

std::optional<Result<InheritedFds>> inherited_fds(
    const EnvLookup& env, pid_t pid, const std::function<std::string(int)>& bound_path) {
  auto listen_pid = env("LISTEN_PID");
  auto listen_fds = env("LISTEN_FDS");
  if (!listen_pid || !listen_fds) return std::nullopt;
  char* end = nullptr;
  const long p = std::strtol(listen_pid->c_str(), &end, 10);
  if (*end != '\0' || p != pid) return std::nullopt;  // meant for another process
  const long n = std::strtol(listen_fds->c_str(), &end, 10);
  if (*end != '\0' || n <= 0 || n > 16) {
    return systemd_failure("LISTEN_FDS=" + *listen_fds + " is not a small positive number");
  }
  std::vector<std::string> names;
  if (auto fdnames = env("LISTEN_FDNAMES")) names = split(*fdnames, ':');
  InheritedFds fds;
  for (int i = 0; i < n; ++i) {
    const int fd = 3 + i;
    std::optional<Endpoint> which;
    if (static_cast<std::size_t>(i) < names.size()) which = endpoint_from_name(names[static_cast<std::size_t>(i)]);
    if (!which) which = endpoint_from_name(bound_path(fd));
    if (!which) {
      return systemd_failure(
          "inherited socket fd " + std::to_string(fd) +
          " is neither mcp nor ctl — set FileDescriptorName=mcp / ctl in the .socket unit");
    }
    if (fds.count(*which))
      return systemd_failure("systemd passed two sockets for the same endpoint");
    fds[*which] = fd;
  }
  if (!fds.count(Endpoint::kMcp)) {
    return systemd_failure("systemd passed no mcp socket — check claude-bridge.socket");
  }
  return fds;
}

Result<ListenFds> acquire(const std::filesystem::path& socket_dir) {
  auto inherited = inherited_fds(
      [](const char* name) -> std::optional<std::string> {
        const char* v = std::getenv(name);
        return v ? std::optional<std::string>(v) : std::nullopt;
      },
      ::getpid(), socket_path);
  ::unsetenv("LISTEN_PID");
  ::unsetenv("LISTEN_FDS");
  ::unsetenv("LISTEN_FDNAMES");
  ListenFds out;
  if (inherited) {
    if (!inherited->ok()) return inherited->status();
    for (auto [endpoint, fd] : inherited->value()) {
      ::fcntl(fd, F_SETFD, FD_CLOEXEC);
      (endpoint == Endpoint::kMcp ? out.mcp : out.ctl).reset(fd);
    }
    out.from_systemd = true;
    return out;
  }
  if (Status dir = paths::ensure_private_dir(socket_dir); !dir.ok()) return dir;
  const std::string lock_path = (socket_dir / "daemon.lock").string();
  UniqueFd lock(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!lock) {
    return Status::error(listen_errors::kCannotLock,
                         "cannot open " + lock_path + ": " + std::strerror(errno));
  }
  if (::flock(lock.get(), LOCK_EX | LOCK_NB) != 0) {
    return Status::error(listen_errors::kAlreadyRunning,
                         "another claude-bridged is already running on " + socket_dir.string() +
                             " — stop it first (or use another --socket-dir)");
  }
  Result<UniqueFd> mcp = bind_one((socket_dir / paths::kMcpSocket).string());
  if (!mcp) return mcp.status();
  out.mcp = std::move(mcp).value();
  Result<UniqueFd> ctl = bind_one((socket_dir / paths::kCtlSocket).string());
  if (!ctl) return ctl.status();
  out.ctl = std::move(ctl).value();
  out.lock = std::move(lock);
  return out;
}

}  // namespace cb::net
