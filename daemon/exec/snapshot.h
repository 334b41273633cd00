#pragma once

#include <asio/awaitable.hpp>
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "common/status.h"

// A recovery point taken before a command that may write to the workspace.
namespace cb::exec {

inline constexpr const char* kSnapshotRefPrefix = "refs/claude-bridge/snapshots/";

// If `workspace` is a git work tree, records its current state — tracked files including
// uncommitted changes (`git stash create`), or HEAD when there are none — under
// refs/claude-bridge/snapshots/<UTC time, e.g. 20250102T030405.678Z> and returns that ref
// name; restore with `git stash apply <ref>` (or `git checkout <ref> -- .`). Fails, under one
// of the codes below, when there is nothing to record (not a repository, no commit yet) or git
// fails. Untracked and ignored files are not recorded (a limit of git stash create).
//
// git runs inside the sandbox (restricted mode, no network, via execve — never a shell), not in
// the daemon: a repository's own configuration can make git run programs (core.fsmonitor,
// filters), and the workspace is not trusted. This needs the repository's .git inside the
// workspace (the workspace is the top of the work tree), since only the workspace is writable.
// Synchronous: blocks for as long as git takes (bounded by a 30 s timeout per git call).
Result<std::string> git_snapshot(
    const std::filesystem::path& workspace,
    std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

namespace snapshot_errors {
inline constexpr const char* kNotRepository = "not_a_repository";
inline constexpr const char* kNoCommit = "no_commit";
inline constexpr const char* kGitFailed = "git_failed";  // the sandbox or a git command failed
inline constexpr const char* kUnexpected = "unexpected_object";  // git named no object id
inline constexpr const char* kFailed = "snapshot_failed";        // an exception on the way
}  // namespace snapshot_errors

// The same, asynchronously on the caller's executor (what the daemon uses: its loop keeps
// serving while git runs), with the sandbox's hidden paths given explicitly — the daemon passes
// default_hidden_paths() plus its own socket and state directories, because git inside the
// sandbox runs whatever the repository's configuration names. Fails under the same codes.
asio::awaitable<Result<std::string>> git_snapshot_async(
    std::filesystem::path workspace, std::vector<std::filesystem::path> hidden_paths,
    std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

}  // namespace cb::exec
