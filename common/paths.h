#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "common/status.h"

// Where the programs find their sockets, state and configuration. Every path can be set by a
// flag or an environment variable so that tests run in temp dirs and never touch a real home.
namespace cb::paths {

inline constexpr const char* kSocketDirEnv = "CLAUDE_BRIDGE_SOCKET_DIR";
inline constexpr const char* kStateDirEnv = "CLAUDE_BRIDGE_STATE_DIR";
inline constexpr const char* kConfigEnv = "CLAUDE_BRIDGE_CONFIG";
inline constexpr const char* kMcpSocket = "mcp.sock";
inline constexpr const char* kCtlSocket = "ctl.sock";

// $XDG_RUNTIME_DIR/claude-bridge, else /run/user/UID/claude-bridge when that exists, else
// $TMPDIR/claude-bridge-UID.
std::filesystem::path default_socket_dir();
// $XDG_STATE_HOME/claude-bridge, else ~/.local/state/claude-bridge.
std::filesystem::path default_state_dir();
// $XDG_CONFIG_HOME/claude-bridge/config.toml, else ~/.config/claude-bridge/config.toml.
std::filesystem::path default_config_file();

// The flag value when non-empty, else the environment variable when set and non-empty, else
// the fallback. Relative paths are made absolute against the current directory.
std::filesystem::path resolve(std::string_view flag_value, const char* env_name,
                              const std::filesystem::path& fallback);

inline std::filesystem::path socket_dir(std::string_view flag_value) {
  return resolve(flag_value, kSocketDirEnv, default_socket_dir());
}

// What a private directory is for, so that its errors point at the right option and say what
// a wider mode would expose.
struct DirUse {
  const char* flag;      // the option that chooses another directory
  const char* exposure;  // what others could do were it open to them
};
inline constexpr DirUse kSocketDirUse{"--socket-dir", "others could reach the bridge"};
inline constexpr DirUse kStateDirUse{"--state-dir",
                                     "others could read the database and the server key"};

// Creates `dir` (and missing parents) with mode 0700 when absent, then checks that it is a real
// directory (not a symlink) owned by this user and not accessible to group or others.
// Fails with one line saying what is wrong and what to run, under one of the codes below. A
// directory someone else created first (say /tmp/claude-bridge-UID, when XDG_RUNTIME_DIR is
// unset) is never used: it is refused as not owned by this user.
Status ensure_private_dir(const std::filesystem::path& dir, const DirUse& use = kSocketDirUse);
// The same checks without creating anything.
Status check_private_dir(const std::filesystem::path& dir, const DirUse& use = kSocketDirUse);

// The codes of their failures.
namespace dir_errors {
inline constexpr const char* kCannotCreate = "cannot_create";  // mkdir failed
inline constexpr const char* kUnreadable = "unreadable";       // lstat failed (missing, EACCES…)
inline constexpr const char* kSymlink = "symlink";
inline constexpr const char* kNotDirectory = "not_directory";
inline constexpr const char* kNotOwned = "not_owned";  // owned by another uid
inline constexpr const char* kOpenMode = "open_mode";  // group or others have access
}  // namespace dir_errors

}  // namespace cb::paths
