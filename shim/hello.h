#pragma once

#include <sys/types.h>

#include <functional>
#include <string>

// The identity line the shim writes first on every connection to mcp.sock (docs/protocol.md,
// "Identity"): a JSON-RPC notification naming the client session this shim serves. The daemon
// checks what it can against /proc and binds the connection to it; a connection without one
// (socat, --no-hello) stays unbound.
namespace cb::shim {

inline constexpr const char* kHelloMethod = "notifications/claude-bridge/hello";

struct Hello {
  pid_t client_pid = -1;    // the shim's parent: the client that launched it
  std::string session_id;   // CLAUDE_CODE_SESSION_ID; empty: omitted
  std::string project_dir;  // absolute
  std::string agent;        // --agent or CLAUDE_BRIDGE_AGENT; empty: omitted
  std::string client;       // "claude-code", "gemini-cli"; empty: omitted
};

// Reads an environment variable; nullptr when unset.
using Getenv = std::function<const char*(const char*)>;

// The nearest directory at or above `dir` (absolute) that holds a `.git` entry (a directory,
// or the file of a worktree or submodule); `dir` itself when there is none.
std::string git_root(const std::string& dir);

// CLAUDE_PROJECT_DIR (canonicalised when it resolves; as given when not, so the daemon's
// warning names it) when set and not empty, else `cwd`'s git root.
std::string project_dir(const Getenv& env, const std::string& cwd);

// The client named by its environment markers (CLAUDECODE=1, GEMINI_CLI=1); empty when none.
// Codex sets none (it passes a filtered environment); the daemon then uses the client's comm.
std::string client_from_env(const Getenv& env);

// Everything but client_pid, from the environment and working directory; `agent_flag`
// (--agent) wins over CLAUDE_BRIDGE_AGENT.
Hello hello_from(const Getenv& env, const std::string& cwd, const std::string& agent_flag);

// The notification line, newline-terminated; every string escaped (common/json_string.h).
std::string hello_line(const Hello& hello);

}  // namespace cb::shim
