#include "daemon/bridge/exec/snapshot.h"

#include <cstdio>
#include <ctime>
#include <vector>

#include "daemon/bridge/exec/sandbox.h"

namespace cb::bridge::exec {
namespace {

constexpr std::chrono::seconds kGitTimeout{30};

struct GitOutput {
  bool ok = false;
  std::string out;  // stdout without the trailing newline
  std::string problem;
};

GitOutput run_git(const std::filesystem::path& workspace, std::vector<std::string> args) {
  SandboxSpec spec;
  spec.argv = {"git"};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.workspace = workspace;
  spec.mode = Mode::kRestricted;
  spec.timeout = kGitTimeout;
  const SandboxResult r = run_sandboxed_blocking(std::move(spec));
  GitOutput result;
  if (!r.started()) {
    result.problem = r.error;
    return result;
  }
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

std::string fail(std::string* why, std::string message) {
  if (why != nullptr) *why = std::move(message);
  return {};
}

}  // namespace

std::string git_snapshot(const std::filesystem::path& workspace, std::string* why,
                         std::chrono::system_clock::time_point now) {
  if (why != nullptr) why->clear();
  const GitOutput inside = run_git(workspace, {"rev-parse", "--is-inside-work-tree"});
  if (!inside.ok || inside.out != "true") {
    return fail(why, inside.problem.empty() ? "not a git work tree" : inside.problem);
  }
  const GitOutput head = run_git(workspace, {"rev-parse", "--verify", "--quiet", "HEAD"});
  if (!head.ok) return fail(why, "the repository has no commit yet; nothing to record");
  const GitOutput stash = run_git(workspace, {"stash", "create", "claude-bridge snapshot"});
  if (!stash.ok) return fail(why, stash.problem);
  // No local changes: the state is HEAD.
  const std::string sha = stash.out.empty() ? head.out : stash.out;
  if (!is_sha(sha)) return fail(why, "git returned an unexpected object name");
  const std::string base = kSnapshotRefPrefix + timestamp(now);
  std::string last_problem;
  for (int attempt = 1; attempt <= 5; ++attempt) {
    const std::string ref = attempt == 1 ? base : base + "-" + std::to_string(attempt);
    // The empty old value makes update-ref fail instead of overwriting an existing snapshot.
    const GitOutput update = run_git(workspace, {"update-ref", ref, sha, ""});
    if (update.ok) return ref;
    last_problem = update.problem;
  }
  return fail(why, last_problem);
}

}  // namespace cb::bridge::exec
