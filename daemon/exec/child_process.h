#pragma once

// Internal to the sandbox: starting a child process with pipes, and the pidfd calls glibc 2.36
// does not wrap. Include sandbox.h instead.

#include <sys/types.h>

#include <string>
#include <vector>

#include "common/fd.h"
#include "common/status.h"

namespace cb::exec {

// The parent's side of a started child. The child sees: fd 0 /dev/null, fd 1 `out`'s pipe,
// fd 2 `err`'s pipe, fd 3 `info`'s pipe, fd 4 the caller's `pass_fd` (if any); nothing else.
struct ChildProcess {
  pid_t pid = -1;
  UniqueFd pidfd;  // refers to the child until it is reaped; readable once it has exited
  UniqueFd out;    // read ends, close-on-exec
  UniqueFd err;
  UniqueFd info;
};

// Starts `argv` (argv[0] an absolute path; no PATH search) with exactly `env` as environment,
// via posix_spawn: a new process group led by the child, signal mask empty and every signal at
// its default disposition, every descriptor other than 0..4 closed. `pass_fd` (-1 for none)
// is given to the child as fd 4; the caller keeps its own copy. Fails with one line naming
// what failed (nothing is left running then): kNoPidfd before Linux 5.3, else kSpawnFailed.
inline constexpr const char* kSpawnFailed = "spawn_failed";
inline constexpr const char* kNoPidfd = "pidfd_unsupported";
Result<ChildProcess> spawn_child(const std::vector<std::string>& argv,
                                 const std::vector<std::string>& env, int pass_fd);

// pidfd_open(2) and pidfd_send_signal(2); -1 with errno on failure (ENOSYS before Linux 5.3).
int pidfd_open(pid_t pid);
int pidfd_send_signal(int pidfd, int sig);

}  // namespace cb::exec
