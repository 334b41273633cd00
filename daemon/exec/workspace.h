#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

// Where a command may run. An agent names a workspace directory; it is accepted only if its
// canonical path (every symlink resolved) lies inside one of the operator's allowed roots
// (canonicalised the same way). The canonical path is what the sandbox then mounts, so a
// symlink planted inside a root cannot lead the sandbox outside it.
namespace cb::exec {

// OK if `root` can serve as an allowed root: an absolute path to an existing directory whose
// canonical form is not "/" (a root of "/" would allow everything). Otherwise a
// kBadAllowedRoot failure whose one line is meant for the daemon's start-up check of its
// configuration.
inline constexpr const char* kBadAllowedRoot = "bad_allowed_root";
Status check_allowed_root(const std::filesystem::path& root);

// Resolves `requested` (absolute; NUL, newline and other control characters refused) with
// realpath semantics and accepts it if it equals or lies below one of `allowed_roots`. Roots
// that fail check_allowed_root() are ignored. A relative `requested` is refused rather than
// guessed at. The check is a snapshot: a path component renamed afterwards is caught again by
// the sandbox, which refuses a workspace that is no longer canonical.
// The path is canonical, absolute and an existing directory; a refusal is a kBadWorkspace
// failure whose message is one line ("refused: ...").
inline constexpr const char* kBadWorkspace = "bad_workspace";
Result<std::filesystem::path> resolve_workspace(
    std::string_view requested, const std::vector<std::filesystem::path>& allowed_roots);

// realpath(3): every symlink, "." and ".." resolved. Empty on failure, errno set.
std::filesystem::path real_path(const std::filesystem::path& p);

// `inner` equals `outer` or lies below it; both canonical.
bool inside(const std::filesystem::path& inner, const std::filesystem::path& outer);

}  // namespace cb::exec
