#pragma once

#include <sys/types.h>

#include <string>

#include "common/fd.h"

// Thin POSIX helpers for AF_UNIX stream sockets. All return values instead of throwing.
namespace cb::unix_socket {

struct PeerCred {
  pid_t pid = -1;
  uid_t uid = static_cast<uid_t>(-1);
  gid_t gid = static_cast<gid_t>(-1);
};

// Connects to `path` (blocking connect, then the fd stays blocking; CLOEXEC). On failure
// returns an invalid fd and sets *err to errno (ENAMETOOLONG for an over-long path).
UniqueFd connect(const std::string& path, int* err);

// True when something accepts connections at `path` right now.
bool is_live(const std::string& path);

// SO_PEERCRED of a connected socket; false when the kernel will not say.
bool peer_cred(int fd, PeerCred* out);

// Largest path a sockaddr_un can hold (107 bytes on Linux).
std::size_t max_path_length();

}  // namespace cb::unix_socket
