#pragma once

#include <sys/types.h>

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/fd.h"

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
// the environment does not hand fds to `pid`; an error string when it does but they don't fit.
struct Inherited {
  std::map<Endpoint, int> fds;
  std::string error;
};
std::optional<Inherited> inherited_fds(const EnvLookup& env, pid_t pid,
                                       const std::function<std::string(int)>& bound_path);

// The path an AF_UNIX socket fd is bound to ("" when unknown).
std::string socket_path(int fd);

// Takes over systemd's sockets when activated, else creates the socket dir (0700, checked),
// takes the single-instance lock, replaces stale socket files and binds both sockets (0600).
// Returns an error line on failure (another daemon running, bad permissions, ...).
std::string acquire(const std::filesystem::path& socket_dir, ListenFds* out);

}  // namespace cb::net
