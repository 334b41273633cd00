#include "daemon/exec/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace cb::exec {
namespace {

// Owns the posix_spawn bookkeeping objects for one call.
class SpawnSetup {
 public:
  SpawnSetup() {
    ok_ = ::posix_spawn_file_actions_init(&actions_) == 0;
    ok_ = ::posix_spawnattr_init(&attr_) == 0 && ok_;
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
  ~SpawnSetup() {
    ::posix_spawn_file_actions_destroy(&actions_);
    ::posix_spawnattr_destroy(&attr_);
  }
  bool ok() const { return ok_; }
  posix_spawn_file_actions_t* actions() { return &actions_; }
  posix_spawnattr_t* attr() { return &attr_; }

 private:
  posix_spawn_file_actions_t actions_{};
  posix_spawnattr_t attr_{};
  bool ok_ = false;
};

Status errno_line(const char* what, int err) {
  return Status::error(
      kSpawnFailed, std::string("cannot start the sandbox: ") + what + ": " + std::strerror(err));
}

// A pipe whose write end has been moved to fd >= 10, so that dup2 onto 1..3 in the child
// never meets the same number (where dup2 would leave close-on-exec set).
bool make_pipe(UniqueFd* read_end, UniqueFd* write_end) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return false;
  read_end->reset(fds[0]);
  UniqueFd raw_write(fds[1]);
  const int moved = ::fcntl(raw_write.get(), F_DUPFD_CLOEXEC, 10);
  if (moved < 0) return false;
  write_end->reset(moved);
  return true;
}

}  // namespace

int pidfd_open(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

int pidfd_send_signal(int pidfd, int sig) {
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0));
}

Result<ChildProcess> spawn_child(const std::vector<std::string>& argv,
                                 const std::vector<std::string>& env, int pass_fd) {
  if (argv.empty() || argv[0].empty() || argv[0][0] != '/') {
    return Status::error(kSpawnFailed,
                         "cannot start the sandbox: the program path must be absolute");
  }
  UniqueFd out_read, out_write, err_read, err_write, info_read, info_write;
  if (!make_pipe(&out_read, &out_write) || !make_pipe(&err_read, &err_write) ||
      !make_pipe(&info_read, &info_write)) {
    return errno_line("pipe", errno);
  }
  // A high-numbered copy, for the same reason as the pipes' write ends.
  UniqueFd passed;
  if (pass_fd >= 0) {
    passed.reset(::fcntl(pass_fd, F_DUPFD_CLOEXEC, 10));
    if (!passed) return errno_line("dup", errno);
  }

  SpawnSetup setup;
  if (!setup.ok()) return errno_line("posix_spawn setup", ENOMEM);
  posix_spawn_file_actions_t* fa = setup.actions();
  int rc = ::posix_spawn_file_actions_addopen(fa, 0, "/dev/null", O_RDONLY, 0);
  if (rc == 0) rc = ::posix_spawn_file_actions_adddup2(fa, out_write.get(), 1);
  if (rc == 0) rc = ::posix_spawn_file_actions_adddup2(fa, err_write.get(), 2);
  if (rc == 0) rc = ::posix_spawn_file_actions_adddup2(fa, info_write.get(), 3);
  if (rc == 0 && passed) rc = ::posix_spawn_file_actions_adddup2(fa, passed.get(), 4);
  // Belt and braces: the daemon opens everything close-on-exec, but a descriptor leaked into
  // the sandbox would be a way out of it.
  if (rc == 0) rc = ::posix_spawn_file_actions_addclosefrom_np(fa, passed ? 5 : 4);
  if (rc != 0) return errno_line("posix_spawn file actions", rc);

  posix_spawnattr_t* attr = setup.attr();
  sigset_t none;
  sigset_t all;
  sigemptyset(&none);
  sigfillset(&all);
  rc = ::posix_spawnattr_setflags(
      attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  if (rc == 0) rc = ::posix_spawnattr_setpgroup(attr, 0);
  if (rc == 0) rc = ::posix_spawnattr_setsigmask(attr, &none);
  if (rc == 0) rc = ::posix_spawnattr_setsigdefault(attr, &all);
  if (rc != 0) return errno_line("posix_spawn attributes", rc);

  std::vector<char*> c_argv;
  for (const std::string& a : argv) c_argv.push_back(const_cast<char*>(a.c_str()));
  c_argv.push_back(nullptr);
  std::vector<char*> c_env;
  for (const std::string& e : env) c_env.push_back(const_cast<char*>(e.c_str()));
  c_env.push_back(nullptr);

  pid_t pid = -1;
  rc = ::posix_spawn(&pid, argv[0].c_str(), fa, attr, c_argv.data(), c_env.data());
  if (rc != 0) return errno_line(argv[0].c_str(), rc);

  UniqueFd pidfd(pidfd_open(pid));
  if (!pidfd) {
    const int err = errno;
    ::kill(-pid, SIGKILL);
    ::kill(pid, SIGKILL);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (err == ENOSYS) {
      return Status::error(kNoPidfd,
                           "cannot start the sandbox: pidfd_open is not supported (Linux 5.3 or "
                           "newer is required)");
    }
    return errno_line("pidfd_open", err);
  }
  ChildProcess child;
  child.pid = pid;
  child.pidfd = std::move(pidfd);
  child.out = std::move(out_read);
  child.err = std::move(err_read);
  child.info = std::move(info_read);
  return child;
}

}  // namespace cb::exec
