#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "daemon/exec/command_line.h"

// What a command may be, per execution mode. The policy is the second of three layers: the
// splitter (command_line.h) has already refused everything that needs a shell, the policy
// refuses programs and arguments that do not fit the mode, and the sandbox (sandbox.h) bounds
// what an allowed program can actually touch. The policy reasons about argv only; it never
// looks at the file system, so it cannot see through symlinks or into scripts — the sandbox is
// what makes those safe.
namespace cb::exec {

// safe:       read-only inspection programs; the workspace is mounted read-only.
// restricted: an allowlist of developer tools (build, test, version control) with their
//             destructive or code-injecting forms refused; the workspace is writable.
// yolo:       any program, still no shell, no privilege escalation, no deleting /, ~ or
//             anything outside the workspace; the workspace is writable.
enum class Mode { kSafe, kRestricted, kYolo };

// "safe" | "restricted" | "yolo" (exact, lowercase); nullopt otherwise.
std::optional<Mode> parse_mode(std::string_view name);
std::string_view mode_name(Mode mode);

struct PolicyContext {
  // Canonical workspace (see workspace.h); relative paths in argv are judged against it.
  std::filesystem::path workspace;
  // The daemon user's home directory; deleting it or anything above it is refused in every
  // mode. May be empty.
  std::filesystem::path home;
  // Whether the sandbox will share the host network (see SandboxSpec::allow_network).
  bool allow_network = false;
};

// The verdict on `argv` in `mode`: ok if it may run; otherwise a Status with code
// kCommandRefused (command_line.h) whose message is one line: what was refused, why, and what to do
// instead. argv[0] is compared by its last path component; in safe and restricted mode a program
// given by path must live in /usr/bin, /bin or /usr/local/bin.
Status check_argv(Mode mode, const std::vector<std::string>& argv, const PolicyContext& ctx);

// split_command_line() then check_argv(): the one call execute_command needs before running.
// The split argv, or the refusal of either (code kCommandRefused).
Result<std::vector<std::string>> check_command(std::string_view command, Mode mode,
                                               const PolicyContext& ctx);

}  // namespace cb::exec
