#pragma once

#include <filesystem>
#include <string>

#include "common/status.h"

// Reading the config file, which is the gate a person alone opens ([yolo] enabled = true): a
// file someone else could write would let them turn command execution on.
namespace cb {

// The text of `path`, when only this user (or root) can change what it holds:
// - the file (symbolic links followed) is a regular file owned by this user or root and not
//   writable by group or others;
// - the directory holding it, and the one holding the link when `path` is a symbolic link (whose
//   owner must also be this user or root), is owned by this user or root and not writable by
//   group or others, unless it is sticky (as /tmp is): there nobody can rename, replace or
//   remove another user's file.
// Failures: code "not_found" when nothing is at `path`, "config" otherwise; one line that
// names the path, the problem and the command that fixes it.
Result<std::string> read_trusted_file(const std::filesystem::path& path);

}  // namespace cb
