#include "daemon/exec/snapshot.h"

#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include "daemon/exec/sandbox.h"
#include "tests/exec/exec_test_util.h"

namespace fs = std::filesystem;
using cb::exec::git_snapshot;
using cb::exec::kSnapshotRefPrefix;
using cb::exec::testing::run_host;
using cb::exec::testing::TempDir;
using cb::exec::testing::write_file;

namespace {

int git(const fs::path& repo, std::vector<std::string> args, std::string* out = nullptr) {
  std::vector<std::string> argv = {"git", "-c", "user.name=t", "-c", "user.email=t@example.com"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_host(argv, repo, out);
}

// 2025-01-02T03:04:05.678Z
std::chrono::system_clock::time_point fixed_time() {
  return std::chrono::system_clock::time_point(std::chrono::milliseconds(1735787045678));
}

}  // namespace

TEST_CASE("git_snapshot: records uncommitted changes under refs/claude-bridge/snapshots/") {
  const std::string reason = cb::exec::sandbox_available().message();
  if (!reason.empty()) {
    MESSAGE("skipped, the sandbox is unavailable here: " << reason);
    return;
  }
  TempDir dir;
  const fs::path repo = fs::canonical(dir.path());
  REQUIRE(git(repo, {"init", "-q"}) == 0);

  // No commit yet: nothing to record, and the reason says so.
  const cb::Result<std::string> none = git_snapshot(repo, fixed_time());
  REQUIRE_FALSE(none.ok());
  CHECK(none.status().code() == cb::exec::snapshot_errors::kNoCommit);
  CHECK(none.status().message().find("no commit") != std::string::npos);

  write_file(repo / "a.txt", "committed\n");
  REQUIRE(git(repo, {"add", "a.txt"}) == 0);
  REQUIRE(git(repo, {"commit", "-qm", "init"}) == 0);
  write_file(repo / "a.txt", "work in progress\n");

  const cb::Result<std::string> first = git_snapshot(repo, fixed_time());
  REQUIRE_MESSAGE(first.ok(), first.status().message());
  const std::string ref = first.value();
  CHECK(ref == std::string(kSnapshotRefPrefix) + "20250102T030405.678Z");
  std::string content;
  REQUIRE(git(repo, {"show", ref + ":a.txt"}, &content) == 0);
  CHECK(content == "work in progress\n");
  // The work tree is untouched (stash create does not reset anything).
  CHECK(cb::exec::testing::read_file(repo / "a.txt") == "work in progress\n");

  // The same instant again does not overwrite the first snapshot.
  write_file(repo / "a.txt", "later\n");
  const cb::Result<std::string> again = git_snapshot(repo, fixed_time());
  REQUIRE_MESSAGE(again.ok(), again.status().message());
  const std::string second = again.value();
  CHECK(second == ref + "-2");
  REQUIRE(git(repo, {"show", ref + ":a.txt"}, &content) == 0);
  CHECK(content == "work in progress\n");
  REQUIRE(git(repo, {"show", second + ":a.txt"}, &content) == 0);
  CHECK(content == "later\n");

  // A clean tree records HEAD.
  REQUIRE(git(repo, {"checkout", "-q", "--", "a.txt"}) == 0);
  const cb::Result<std::string> at_head = git_snapshot(repo);
  REQUIRE_MESSAGE(at_head.ok(), at_head.status().message());
  const std::string clean = at_head.value();
  std::string head;
  std::string snap;
  REQUIRE(git(repo, {"rev-parse", "HEAD"}, &head) == 0);
  REQUIRE(git(repo, {"rev-parse", clean}, &snap) == 0);
  CHECK(head == snap);
}

TEST_CASE("git_snapshot: a directory that is not a repository is refused with a reason") {
  const std::string reason = cb::exec::sandbox_available().message();
  if (!reason.empty()) {
    MESSAGE("skipped, the sandbox is unavailable here: " << reason);
    return;
  }
  TempDir dir;
  const cb::Result<std::string> r = git_snapshot(fs::canonical(dir.path()));
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == cb::exec::snapshot_errors::kNotRepository);
  CHECK_FALSE(r.status().message().empty());
}
