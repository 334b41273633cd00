#include "daemon/exec/sandbox.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <asio/co_spawn.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/io_context.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <string_view>

#include "common/fd.h"
#include "daemon/exec/child_process.h"

// GCC 12 at -O1 reports a false -Wmismatched-new-delete inside Asio's awaitable frame
// allocator (operator new/delete are a matching pair of class members there).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace cb::exec {
namespace {

namespace fs = std::filesystem;
using asio::posix::stream_descriptor;
using Clock = std::chrono::steady_clock;

// After the sandbox is gone every writer of the pipes is gone, so they reach EOF at once; this
// bound only guards against the impossible.
constexpr std::chrono::seconds kDrainGrace{5};

// One output stream: keeps the first `cap` bytes, counts the rest.
struct Capture {
  std::string data;
  std::size_t cap = 0;
  bool truncated = false;
  std::uint64_t total = 0;

  void append(const char* bytes, std::size_t n) {
    total += n;
    const std::size_t room = cap > data.size() ? cap - data.size() : 0;
    if (n > room) truncated = true;
    data.append(bytes, std::min(n, room));
  }
};

// Everything one run owns. Shared by the coroutines and the timer handlers of the run; the
// last owner to let go makes sure nothing of the sandbox survives.
struct RunState {
  RunState(const asio::any_io_executor& ex, ChildProcess child, std::size_t cap)
      : pid(child.pid),
        bwrap(ex, child.pidfd.release()),
        out(ex, child.out.release()),
        err(ex, child.err.release()),
        info(ex, child.info.release()),
        deadline(ex),
        grace(ex) {
    out_capture.cap = cap;
    err_capture.cap = cap;
  }
  RunState(const RunState&) = delete;
  RunState& operator=(const RunState&) = delete;

  ~RunState() { abandon(); }

  // Cancellation path, synchronous: kills the sandbox, reaps bwrap, and waits (bounded) until
  // the pid namespace is empty. Idempotent.
  void abandon();

  // SIGKILL to bwrap (through its pidfd and its process group, while it is unreaped so the
  // ids cannot have been reused) and to the sandbox's pid 1, whose death makes the kernel kill
  // every process in the pid namespace. The command itself runs in a session of its own
  // (--new-session), so the process group alone would not reach it.
  void kill_sandbox() {
    if (!reaped) {
      pidfd_send_signal(bwrap.native_handle(), SIGKILL);
      ::kill(-pid, SIGKILL);
    }
    if (ns_init) pidfd_send_signal(ns_init->native_handle(), SIGKILL);
  }

  pid_t pid;
  stream_descriptor bwrap;                   // pidfd of bwrap
  stream_descriptor out, err, info;          // read ends of the pipes
  std::optional<stream_descriptor> ns_init;  // pidfd of the sandbox's pid 1, once known
  asio::steady_timer deadline;
  asio::steady_timer grace;
  std::string info_text;  // bwrap's --info-fd JSON, as far as read
  Capture out_capture, err_capture;
  bool reaped = false;
  bool timed_out = false;
  int wait_status = 0;
  Clock::time_point ended{};
  bool ended_seen = false;     // the pid namespace is known to be empty
  bool cancelled = false;      // the caller cancelled the run
  bool drain_expired = false;  // the grace timer cut the pipes off
};

// The number after `"key":` in bwrap's --info-fd JSON; -1 if absent.
long long json_number(const std::string& json, const std::string& key) {
  const std::size_t at = json.find("\"" + key + "\"");
  if (at == std::string::npos) return -1;
  const std::size_t colon = json.find(':', at);
  if (colon == std::string::npos) return -1;
  char* end = nullptr;
  const long long value = std::strtoll(json.c_str() + colon + 1, &end, 10);
  return end == json.c_str() + colon + 1 ? -1 : value;
}

// Opens a pidfd for the sandbox's pid 1, after making sure the pid still names it (the init of
// the pid namespace bwrap reported), not a recycled pid.
std::optional<int> open_ns_init(pid_t pid, long long pid_ns) {
  const int fd = pidfd_open(pid);
  if (fd < 0) return std::nullopt;  // already gone: nothing left to wait for
  std::array<char, 64> link{};
  const std::string ns_path = "/proc/" + std::to_string(pid) + "/ns/pid";
  const ssize_t n = ::readlink(ns_path.c_str(), link.data(), link.size() - 1);
  if (n > 0 && pid_ns > 0) {
    if (std::string(link.data(), static_cast<std::size_t>(n)) !=
        "pid:[" + std::to_string(pid_ns) + "]") {
      ::close(fd);
      return std::nullopt;
    }
  } else {
    // No access to the namespace link: fall back to "is the init of some pid namespace".
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    bool is_init = false;
    while (std::getline(status, line)) {
      if (line.starts_with("NSpid:")) is_init = line.ends_with("\t1") || line.ends_with(" 1");
    }
    if (!is_init) {
      ::close(fd);
      return std::nullopt;
    }
  }
  return fd;
}

// `state` owns `pipe` and `capture` and is kept alive by this frame.
asio::awaitable<void> drain(std::shared_ptr<RunState> state, stream_descriptor& pipe,
                            Capture& capture) {
  // Cancellation shows up as an error code from the read, never as an exception.
  co_await asio::this_coro::throw_if_cancelled(false);
  std::array<char, 16 * 1024> buffer;
  for (;;) {
    std::error_code ec;
    const std::size_t n = co_await pipe.async_read_some(
        asio::buffer(buffer), asio::redirect_error(asio::use_awaitable, ec));
    capture.append(buffer.data(), n);
    if (ec == asio::error::operation_aborted && !state->drain_expired) state->cancelled = true;
    if (ec) co_return;  // EOF, an error, or cancelled (by the caller or the grace timer)
  }
}

bool info_complete(const std::string& info) {
  return info.find('}') != std::string::npos || info.size() >= 8192;
}

// Once bwrap's info is complete: the pidfd of the sandbox's pid 1.
// The info pipe stays open until the end: closing it early could kill a bwrap still writing
// to it (SIGPIPE).
void adopt_ns_init(RunState& state) {
  const long long init_pid = json_number(state.info_text, "child-pid");
  if (state.ns_init || init_pid <= 0 || init_pid > INT_MAX) return;
  if (auto fd = open_ns_init(static_cast<pid_t>(init_pid),
                             json_number(state.info_text, "pid-namespace"))) {
    state.ns_init.emplace(state.bwrap.get_executor(), *fd);
  }
}

// Blocks until `fd` is readable or `timeout_ms` passed.
void wait_readable(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  while (::poll(&p, 1, timeout_ms) < 0 && errno == EINTR) {
  }
}

void RunState::abandon() {
  if (!reaped) {
    kill_sandbox();
    // bwrap is dead now, so the info pipe ends soon; pid 1 is needed to wait for the teardown.
    if (info.is_open() && !ns_init) {
      std::array<char, 512> buffer;
      while (!info_complete(info_text)) {
        wait_readable(info.native_handle(), 1000);
        const ssize_t n = ::read(info.native_handle(), buffer.data(), buffer.size());
        if (n <= 0) break;
        info_text.append(buffer.data(), static_cast<std::size_t>(n));
      }
      adopt_ns_init(*this);
      kill_sandbox();
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    reaped = true;
    wait_status = status;
  }
  if (ns_init && ns_init->is_open()) {
    pidfd_send_signal(ns_init->native_handle(), SIGKILL);
    wait_readable(ns_init->native_handle(), 5000);
    std::error_code ignored;
    ns_init->close(ignored);
  }
}

// Learns the sandbox's pid 1, waits for bwrap to exit and reaps it, then waits until the pid
// namespace is empty.
asio::awaitable<void> supervise(std::shared_ptr<RunState> state) {
  co_await asio::this_coro::throw_if_cancelled(false);
  std::array<char, 512> buffer;
  while (!info_complete(state->info_text)) {
    std::error_code ec;
    const std::size_t n = co_await state->info.async_read_some(
        asio::buffer(buffer), asio::redirect_error(asio::use_awaitable, ec));
    state->info_text.append(buffer.data(), n);
    if (ec == asio::error::operation_aborted) {
      state->cancelled = true;
      co_return;
    }
    if (ec) break;
  }
  adopt_ns_init(*state);
  if (state->timed_out) state->kill_sandbox();  // the deadline passed before pid 1 was known

  std::error_code ec;
  co_await state->bwrap.async_wait(stream_descriptor::wait_read,
                                   asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    state->cancelled = true;  // run_sandboxed abandons the sandbox
    co_return;
  }
  int status = 0;
  while (::waitpid(state->pid, &status, 0) < 0 && errno == EINTR) {
  }
  state->reaped = true;
  state->wait_status = status;

  // bwrap leaves when the command does; whatever the command left behind dies with pid 1.
  if (state->ns_init) {
    pidfd_send_signal(state->ns_init->native_handle(), SIGKILL);
    co_await state->ns_init->async_wait(stream_descriptor::wait_read,
                                        asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      state->cancelled = true;
      co_return;
    }
  }
  state->ended = Clock::now();
  state->ended_seen = true;

  state->grace.expires_after(kDrainGrace);
  state->grace.async_wait([state](std::error_code grace_ec) {
    if (grace_ec) return;
    state->drain_expired = true;
    std::error_code ignored;
    state->out.cancel(ignored);
    state->err.cancel(ignored);
  });
}

using sandbox_errors::kBadSpec;
using sandbox_errors::kWorkspaceUnusable;

// bwrap's whole environment. Built here, outside the coroutine: GCC 12 miscompiles
// brace-initialised temporaries inside coroutine bodies.
std::vector<std::string> bwrap_env() { return {"PATH=/usr/bin:/bin"}; }

Status bad_spec(std::string message) { return Status::error(kBadSpec, std::move(message)); }

Status validate(const SandboxSpec& spec, const fs::path& bwrap) {
  if (bwrap.empty()) {
    return Status::error(sandbox_errors::kNoBwrap,
                         "bubblewrap (bwrap) is not installed: apt-get install bubblewrap");
  }
  if (spec.argv.empty() || spec.argv[0].empty()) {
    return bad_spec("nothing to run: the argv is empty");
  }
  for (const std::string& arg : spec.argv) {
    if (arg.find('\0') != std::string::npos) return bad_spec("an argument contains a NUL byte");
  }
  if (spec.timeout <= std::chrono::milliseconds::zero()) {
    return bad_spec("the timeout must be positive");
  }
  if (spec.workspace.empty() || !spec.workspace.is_absolute()) {
    return bad_spec("the workspace must be an absolute path");
  }
  return {};
}

// Opens the workspace directory and checks that it is exactly spec.workspace (no symlink on
// the way, nothing renamed since resolve_workspace): from then on the sandbox mounts this
// directory, whatever happens to the path.
Result<UniqueFd> open_workspace(const fs::path& workspace) {
  UniqueFd fd(::open(workspace.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!fd) {
    return Status::error(kWorkspaceUnusable,
                         "the workspace '" + workspace.string() +
                             "' cannot be opened as a directory: " + std::strerror(errno));
  }
  std::array<char, PATH_MAX> opened{};
  const std::string link = "/proc/self/fd/" + std::to_string(fd.get());
  const ssize_t n = ::readlink(link.c_str(), opened.data(), opened.size() - 1);
  if (n <= 0 ||
      workspace.native() != std::string_view(opened.data(), static_cast<std::size_t>(n))) {
    return Status::error(
        kWorkspaceUnusable,
        "the workspace '" + workspace.string() +
            "' is not canonical (it contains a symlink, or changed since it was checked); "
            "resolve it again with resolve_workspace");
  }
  return fd;
}

}  // namespace

asio::awaitable<SandboxResult> run_sandboxed(SandboxSpec spec) {
  SandboxResult result;
  const fs::path bwrap = spec.bwrap.empty() ? find_bwrap() : spec.bwrap;
  if (const Status invalid = validate(spec, bwrap); !invalid.ok()) {
    result.status = invalid;
    co_return result;
  }
  Result<UniqueFd> workspace_fd = open_workspace(spec.workspace);
  if (!workspace_fd) {
    result.status = workspace_fd.status();
    co_return result;
  }
  const Clock::time_point start = Clock::now();
  Result<ChildProcess> child =
      spawn_child(build_bwrap_argv(spec, bwrap), bwrap_env(), workspace_fd->get());
  if (!child) {
    result.status = child.status();
    co_return result;
  }
  const asio::any_io_executor ex = co_await asio::this_coro::executor;
  auto state = std::make_shared<RunState>(ex, std::move(child).value(), spec.output_cap);

  state->deadline.expires_after(spec.timeout);
  state->deadline.async_wait([state](std::error_code ec) {
    if (ec || state->reaped) return;
    pollfd exited{state->bwrap.native_handle(), POLLIN, 0};
    if (::poll(&exited, 1, 0) == 1) return;  // finished just in time, not yet reaped
    state->timed_out = true;
    state->kill_sandbox();
  });

  // A cancellation of the caller must end in abandon() below, not in an exception thrown out of
  // the co_await; the caller's setting is restored afterwards.
  const bool caller_throws = co_await asio::this_coro::throw_if_cancelled();
  co_await asio::this_coro::throw_if_cancelled(false);
  using namespace asio::experimental::awaitable_operators;
  co_await (drain(state, state->out, state->out_capture) &&
            drain(state, state->err, state->err_capture) && supervise(state));
  co_await asio::this_coro::throw_if_cancelled(caller_throws);
  state->deadline.cancel();
  state->grace.cancel();

  if (state->cancelled || !state->ended_seen) {
    state->abandon();
    result.status = Status::error(sandbox_errors::kCancelled,
                                  "the command was cancelled; its sandbox was killed");
    co_return result;
  }
  const int status = state->wait_status;
  result.duration = std::chrono::duration_cast<std::chrono::milliseconds>(state->ended - start);
  result.timed_out = state->timed_out;
  if (state->timed_out) {
    result.exit_code = -1;
    result.term_signal = SIGKILL;
  } else if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
    if (result.exit_code > 128 && result.exit_code <= 128 + 64) {
      result.term_signal = result.exit_code - 128;
    }
  } else if (WIFSIGNALED(status)) {
    result.exit_code = -1;
    result.term_signal = WTERMSIG(status);
  }
  result.stdout_data = std::move(state->out_capture.data);
  result.stderr_data = std::move(state->err_capture.data);
  result.stdout_truncated = state->out_capture.truncated;
  result.stderr_truncated = state->err_capture.truncated;
  result.stdout_bytes = state->out_capture.total;
  result.stderr_bytes = state->err_capture.total;
  co_return result;
}

SandboxResult run_sandboxed_blocking(SandboxSpec spec) {
  asio::io_context io;
  SandboxResult result;
  asio::co_spawn(
      io, run_sandboxed(std::move(spec)), [&result](std::exception_ptr error, SandboxResult r) {
        if (!error) {
          result = std::move(r);
          return;
        }
        try {
          std::rethrow_exception(error);
        } catch (const std::exception& e) {
          result.status = Status::error(sandbox_errors::kRunFailed,
                                        std::string("the sandbox run failed: ") + e.what());
        }
      });
  io.run();
  return result;
}

}  // namespace cb::exec
