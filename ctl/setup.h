#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

// `claude-bridgectl setup` and the wiring part of `doctor`: where each MCP client keeps its
// servers, and how to add or remove the bridge's entry there while keeping every other byte the
// person has wherever the format allows (docs/cli.md, "setup").
namespace cb::ctl::setup {

enum class ClientKind { kClaudeCode, kCodex, kGemini };

inline constexpr const char* kServerName = "bridge";
inline constexpr const char* kAgentEnv = "CLAUDE_BRIDGE_AGENT";
inline constexpr const char* kShimName = "claude-bridge-shim";

// Where one client keeps one scope's MCP servers.
struct Target {
  ClientKind client = ClientKind::kClaudeCode;
  bool user = true;                    // user scope, else the project's
  std::filesystem::path file;          // the settings file
  std::vector<std::string> container;  // keys from the document's root to the servers' table
  std::filesystem::path project;       // project scope: the project directory
  bool toml = false;                   // Codex's config.toml, else JSON
};

// `keys` for messages: projects["/p"].mcpServers.
std::string key_path(const std::vector<std::string>& keys);

std::string client_name(ClientKind client);     // "claude-code", "codex", "gemini"
std::string client_program(ClientKind client);  // "claude", "codex", "gemini"
std::optional<ClientKind> parse_client(const std::string& name);

// The file and table of `client` in user scope or for `project` (made absolute by the caller).
// Claude Code keeps both scopes in ~/.claude.json ($CLAUDE_CONFIG_DIR/.claude.json): the user's
// at mcpServers, a project's ("local" scope) at projects[ROOT].mcpServers, ROOT being the
// project's git work tree root as Claude Code keys it. Codex: $CODEX_HOME (~/.codex) or
// PROJECT/.codex, config.toml [mcp_servers]. Gemini CLI: ~/.gemini or PROJECT/.gemini,
// settings.json mcpServers.
Target target_for(ClientKind client, bool user, const std::filesystem::path& project);

// The entry setup writes: the shim, its arguments, and the agent's name (empty: none).
struct Spec {
  std::string command;
  std::vector<std::string> args;
  std::string agent;
};

// One hook of a hook plan: written (add, update, unchanged) or taken out (remove).
struct HookLine {
  std::string event;
  std::string command;
  bool async_rewake = false;
};

struct Plan {
  enum class Action { kUnchanged, kAdd, kUpdate, kRemove, kAbsent };
  Action action = Action::kUnchanged;
  std::string after;            // the file's new bytes, when it changes and is not deleted
  bool delete_file = false;     // --remove left nothing in a file setup would have created
  std::string entry_text;       // the entry as written (add/update/unchanged) or as removed
  std::string note;             // one line about the file's layout, when there is one to say
  std::vector<HookLine> hooks;  // plan_hooks: the hooks of entry_text, one per line
};

// The change that makes `before` (nullopt: no such file) hold `want`'s entry, or, without
// `want`, lose the bridge's entry. A failure is one line naming the file, and nothing changes.
Result<Plan> plan_json(const Target& target, const std::optional<std::string>& before,
                       const std::optional<Spec>& want);
Result<Plan> plan_toml(const Target& target, const std::optional<std::string>& before,
                       const std::optional<Spec>& want);

// An entry of a client's server table that runs claude-bridge-shim, under any name.
struct Found {
  std::string name;
  std::string command;
};
Result<std::vector<Found>> find_shim_entries(const Target& target, const std::string& bytes);
Result<std::vector<Found>> find_toml_shim_entries(const Target& target, const std::string& bytes);

// True when `command` names claude-bridge-shim (by any path): the entries setup may replace or
// remove. An entry called "bridge" that runs anything else is the person's, and is refused.
bool is_shim_command(const std::string& command);

// --- Hooks (issue 24): `claude-bridgectl hook EVENT` in each client's own hook settings. ---

// One hook setup registers: under the client's `event`, the command
// `claude-bridge-hook VERB [--client NAME] [--socket-dir DIR]` (HOOKS-CONTRACT.md).
struct HookSpec {
  std::string event;          // the client's event name: "SessionStart", "AfterTool"
  std::string verb;           // session-start, tell or wait
  bool async_rewake = false;  // Claude Code's waiter: "asyncRewake": true, "timeout": 600
};

// The hooks of `client`, in the order they are written (HOOKS-CONTRACT.md, "What setup
// registers"): Claude Code SessionStart (session-start, wait), UserPromptSubmit and PostToolUse
// (tell), Stop (wait); Codex SessionStart (session-start), UserPromptSubmit and PostToolUse
// (tell); Gemini CLI SessionStart (session-start), BeforeAgent and AfterTool (tell).
std::vector<HookSpec> hook_entries(ClientKind client);

inline constexpr int kWaitTimeoutSeconds = 600;

// Where one client keeps one scope's hooks: Claude Code $CLAUDE_CONFIG_DIR/settings.json
// (~/.claude/settings.json) or ROOT/.claude/settings.local.json (ROOT as for the server entry);
// Codex $CODEX_HOME/hooks.json or PROJECT/.codex/hooks.json; Gemini CLI the settings.json that
// holds its server entry. Each is a JSON object whose "hooks" maps an event to
// [{"matcher"?, "hooks": [{"type": "command", "command", …}]}].
struct HookTarget {
  ClientKind client = ClientKind::kClaudeCode;
  bool user = true;
  std::filesystem::path file;
  std::filesystem::path project;
};
HookTarget hook_target_for(ClientKind client, bool user, const std::filesystem::path& project);

// What the hook commands run: claude-bridge-hook by absolute path (the small binary that starts
// fast enough to run after every tool call; `claude-bridgectl hook` runs the same code), and the
// arguments that reach the daemon (--socket-dir DIR when it is not the default).
inline constexpr const char* kHookName = "claude-bridge-hook";
struct HookWant {
  std::string program;
  std::vector<std::string> socket_args;
};

// The shell command of one hook (each word quoted for sh when it needs it).
std::string hook_command(ClientKind client, const HookWant& want, const HookSpec& spec);

// True when the shell command `command` runs claude-bridge-hook, or claude-bridgectl with its
// `hook` subcommand (by any path): the hooks setup may replace or remove. Every other hook is
// the person's.
bool is_hook_command(const std::string& command);

// The change that makes `before` hold exactly the bridge's hooks of `want` (in place of any
// bridge hooks it had), or without `want` none. Other hooks, under the same event too, stay in
// their order. A failure is one line naming the file, and nothing changes.
Result<Plan> plan_hooks(const HookTarget& target, const std::optional<std::string>& before,
                        const std::optional<HookWant>& want);

// A bridge hook found in a client's hook settings.
struct FoundHook {
  std::string event;
  std::string command;
  std::string program;  // the command's program: the claude-bridge-hook it runs
};
Result<std::vector<FoundHook>> find_hook_entries(const HookTarget& target,
                                                 const std::string& bytes);

}  // namespace cb::ctl::setup
