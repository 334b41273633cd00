#include "common/unix_socket.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>

namespace cb::unix_socket {

std::size_t max_path_length() { return sizeof(sockaddr_un{}.sun_path) - 1; }

UniqueFd connect(const std::string& path, int* err) {
  if (path.size() > max_path_length()) {
    if (err) *err = ENAMETOOLONG;
    return {};
  }
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) {
    if (err) *err = errno;
    return {};
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  int rc;
  do {
    rc = ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    if (err) *err = errno;
    return {};
  }
  if (err) *err = 0;
  return fd;
}

bool is_live(const std::string& path) {
  int err = 0;
  return connect(path, &err).valid();
}

bool peer_cred(int fd, PeerCred* out) {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return false;
  out->pid = cred.pid;
  out->uid = cred.uid;
  out->gid = cred.gid;
  return true;
}

}  // namespace cb::unix_socket
