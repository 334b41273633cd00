#pragma once

#include <sys/types.h>

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/fd.h"
#include "common/status.h"

// Getting the two listening sockets: inherited from systemd socket activation, or bound here.
namespace cb::net {

enum class Endpoint { kMcp, kCtl };

struct ListenFds {
  UniqueFd mcp;
  UniqueFd ctl;
  UniqueFd lock;  // held for the daemon's lifetime when we bound the sockets ourselves
  bool from_systemd = false;
};

using EnvLookup = std::function<std::optional<std::string>(const char*)>;

// Parses LISTEN_PID / LISTEN_FDS / LISTEN_FDNAMES (sd_listen_fds(3)). Returns the inherited
// fds (starting at 3) keyed by endpoint, told apart by their name ("mcp"/"ctl", or a name
// ending in mcp.sock / ctl.sock) or else by the path they are bound to. Returns nullopt when
// the environment does not hand fds to `pid`; a listen_errors::kSystemdSockets failure when it
// does but they don't fit.
using InheritedFds = std::map<Endpoint, int>;
std::optional<Result<InheritedFds>> inherited_fds(
    const EnvLookup& env, pid_t pid, const std::function<std::string(int)>& bound_path);

// The path an AF_UNIX socket fd is bound to ("" when unknown).
std::string socket_path(int fd);

// Takes over systemd's sockets when activated, else creates the socket dir (0700, checked),
// takes the single-instance lock, replaces stale socket files and binds both sockets (0600).
// Fails with one line under one of the codes below, or paths::ensure_private_dir's.
Result<ListenFds> acquire(const std::filesystem::path& socket_dir);

namespace listen_errors {
inline constexpr const char* kSystemdSockets = "systemd_sockets";  // LISTEN_FDS don't fit
inline constexpr const char* kAlreadyRunning = "already_running";  // lock held or socket live
inline constexpr const char* kCannotLock = "cannot_lock";          // daemon.lock cannot be opened
inline constexpr const char* kPathTooLong = "path_too_long";       // longer than sun_path
inline constexpr const char* kCannotBind = "cannot_bind";          // socket, bind or listen
}  // namespace listen_errors

}  // namespace cb::net
