#include "shim/autostart.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace cb::shim {
namespace {

bool executable(const std::string& path) { return ::access(path.c_str(), X_OK) == 0; }

std::string dir_of(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

}  // namespace

std::string find_daemon(const std::string& self_exe) {
  const std::string dir = dir_of(self_exe);
  for (const std::string& candidate : {dir + "/claude-bridged", dir + "/../daemon/claude-bridged"}) {
    if (executable(candidate)) return candidate;
  }
  if (const char* path = std::getenv("PATH")) {
    std::string p = path;
    std::size_t start = 0;
    while (start <= p.size()) {
      const std::size_t end = p.find(':', start);
      const std::string entry = p.substr(start, end == std::string::npos ? std::string::npos : end - start);
      if (!entry.empty() && executable(entry + "/claude-bridged")) return entry + "/claude-bridged";
      if (end == std::string::npos) break;
      start = end + 1;
    }
  }
  return {};
}

Status spawn_detached(const std::vector<std::string>& daemon_argv, const std::string& log_path) {
  std::vector<char*> argv;
  for (const auto& a : daemon_argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t child = ::fork();
  if (child < 0) return Status::error(kForkFailed, std::string("fork: ") + std::strerror(errno));
  if (child == 0) {
    ::setsid();
    const pid_t grandchild = ::fork();
    if (grandchild != 0) ::_exit(grandchild < 0 ? 1 : 0);
    const int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    const int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (null_fd >= 0) {
      ::dup2(null_fd, 0);
      ::dup2(null_fd, 1);
    }
    ::dup2(log_fd >= 0 ? log_fd : null_fd, 2);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Status::error(kNotStarted, "could not start the daemon process");
  }
  return {};
}

}  // namespace cb::shim
