#include "daemon/exec/snapshot.h"

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <cstdio>
#include <ctime>
#include <exception>
#include <optional>
#include <vector>

#include "daemon/exec/sandbox.h"

// GCC 12 at -O1 reports a false -Wmismatched-new-delete inside Asio's awaitable frame
// allocator (operator new/delete are a matching pair of class members there).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace cb::exec {
namespace {

constexpr std::chrono::seconds kGitTimeout{30};

struct GitOutput {
  bool answered = false;  // git ran and finished in time (whatever its exit code)
  bool ok = false;
  std::string out;  // stdout without the trailing newline
  std::string problem;
};

SandboxSpec git_spec(const std::filesystem::path& workspace,
                     const std::vector<std::filesystem::path>& hidden,
                     const std::vector<std::string>& args) {
  SandboxSpec spec;
  spec.argv = {"git"};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.workspace = workspace;
  spec.mode = Mode::kRestricted;
  spec.timeout = kGitTimeout;
  spec.hidden_paths = hidden;
  return spec;
}

GitOutput git_output(const std::vector<std::string>& args, const SandboxResult& r) {
  GitOutput result;
  if (!r.started()) {
    result.problem = r.status.message();
    return result;
  }
  result.answered = !r.timed_out;
  if (r.timed_out || r.exit_code != 0) {
    std::string err = r.stderr_data.substr(0, r.stderr_data.find('\n'));
    result.problem = "git " + args[0] + (r.timed_out ? " timed out" : " failed") +
                     (err.empty() ? "" : ": " + err);
    return result;
  }
  result.ok = true;
  result.out = r.stdout_data;
  while (!result.out.empty() && (result.out.back() == '\n' || result.out.back() == '\r')) {
    result.out.pop_back();
  }
  return result;
}

// A coroutine keeps its state in parameters and locals, never in lambda captures (GCC 12).
asio::awaitable<GitOutput> run_git(std::filesystem::path workspace,
                                   std::vector<std::filesystem::path> hidden,
                                   std::vector<std::string> args) {
  SandboxResult r = co_await run_sandboxed(git_spec(workspace, hidden, args));
  co_return git_output(args, r);
}

// Argument lists are built here, outside the coroutine: GCC 12 miscompiles brace-initialised
// temporaries inside coroutine bodies.
std::vector<std::string> args_inside() { return {"rev-parse", "--is-inside-work-tree"}; }
std::vector<std::string> args_head() { return {"rev-parse", "--verify", "--quiet", "HEAD"}; }
std::vector<std::string> args_stash() { return {"stash", "create", "claude-bridge snapshot"}; }
std::vector<std::string> args_update(const std::string& ref, const std::string& sha) {
  // The empty old value makes update-ref fail instead of overwriting an existing snapshot.
  return {"update-ref", ref, sha, ""};
}

bool is_sha(const std::string& s) {
  if (s.size() != 40 && s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string timestamp(std::chrono::system_clock::time_point now) {
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  ::gmtime_r(&seconds, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y%m%dT%H%M%S", &tm);
  char millis[8];
  std::snprintf(millis, sizeof millis, ".%03dZ", static_cast<int>(ms % 1000));
  return std::string(text) + millis;
}

Result<std::string> failed(const char* code, std::string why) {
  return Status::error(code, std::move(why));
}

Result<std::string> recorded(std::string ref) { return ref; }

asio::awaitable<Result<std::string>> take_snapshot(std::filesystem::path workspace,
                                                   std::vector<std::filesystem::path> hidden,
                                                   std::chrono::system_clock::time_point now) {
  const GitOutput inside = co_await run_git(workspace, hidden, args_inside());
  if (!inside.ok || inside.out != "true") {
    co_return failed(
        inside.answered ? snapshot_errors::kNotRepository : snapshot_errors::kGitFailed,
        inside.problem.empty() ? "not a git work tree" : inside.problem);
  }
  const GitOutput head = co_await run_git(workspace, hidden, args_head());
  if (!head.ok) {
    co_return failed(snapshot_errors::kNoCommit,
                     "the repository has no commit yet; nothing to record");
  }
  const GitOutput stash = co_await run_git(workspace, hidden, args_stash());
  if (!stash.ok) co_return failed(snapshot_errors::kGitFailed, stash.problem);
  // No local changes: the state is HEAD.
  const std::string sha = stash.out.empty() ? head.out : stash.out;
  if (!is_sha(sha)) {
    co_return failed(snapshot_errors::kUnexpected, "git returned an unexpected object name");
  }
  const std::string base = kSnapshotRefPrefix + timestamp(now);
  std::string last_problem;
  for (int attempt = 1; attempt <= 5; ++attempt) {
    const std::string ref = attempt == 1 ? base : base + "-" + std::to_string(attempt);
    const GitOutput update = co_await run_git(workspace, hidden, args_update(ref, sha));
    if (update.ok) co_return recorded(ref);
    last_problem = update.problem;
  }
  co_return failed(snapshot_errors::kGitFailed, last_problem);
}

// co_spawn needs a default-constructible result; Result has none, so it is stored through `out`.
asio::awaitable<void> snapshot_into(std::filesystem::path workspace,
                                    std::vector<std::filesystem::path> hidden,
                                    std::chrono::system_clock::time_point now,
                                    std::optional<Result<std::string>>* out) {
  out->emplace(co_await take_snapshot(std::move(workspace), std::move(hidden), now));
}

}  // namespace

asio::awaitable<Result<std::string>> git_snapshot_async(std::filesystem::path workspace,
                                                        std::vector<std::filesystem::path> hidden,
                                                        std::chrono::system_clock::time_point now) {
  co_return co_await take_snapshot(std::move(workspace), std::move(hidden), now);
}

Result<std::string> git_snapshot(const std::filesystem::path& workspace,
                                 std::chrono::system_clock::time_point now) {
  asio::io_context io;
  std::optional<Result<std::string>> result;
  asio::co_spawn(io, snapshot_into(workspace, default_hidden_paths(), now, &result),
                 [&result](std::exception_ptr error) {
                   if (!error) return;
                   try {
                     std::rethrow_exception(error);
                   } catch (const std::exception& e) {
                     result.emplace(failed(snapshot_errors::kFailed,
                                           std::string("the snapshot failed: ") + e.what()));
                   }
                 });
  io.run();
  return std::move(result).value();
}

}  // namespace cb::exec
