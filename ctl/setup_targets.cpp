// Where Claude Code, Codex and Gemini CLI keep their MCP servers (ctl/setup.h).
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "ctl/commands.h"
#include "ctl/setup.h"

namespace cb::ctl::setup {
namespace fs = std::filesystem;
namespace {

fs::path env_dir(const char* name, const fs::path& fallback) {
  if (const char* v = std::getenv(name); v && *v) return v;
  return fallback;
}

// Claude Code keys a project by its git work tree's root (a directory holding .git, a directory
// or a worktree's file), else by the directory itself: `claude mcp add -s local` run in a
// repository's subdirectory writes projects[ROOT].
fs::path claude_project_key(const fs::path& dir) {
  std::error_code ec;
  for (fs::path p = dir; !p.empty(); p = p.parent_path()) {
    if (fs::exists(p / ".git", ec)) return p;
    if (p == p.root_path()) break;
  }
  return dir;
}

}  // namespace

std::string client_name(ClientKind client) {
  switch (client) {
    case ClientKind::kClaudeCode:
      return "claude-code";
    case ClientKind::kCodex:
      return "codex";
    case ClientKind::kGemini:
      return "gemini";
  }
  return "?";
}

std::string client_program(ClientKind client) {
  return client == ClientKind::kClaudeCode ? "claude" : client_name(client);
}

std::optional<ClientKind> parse_client(const std::string& name) {
  for (ClientKind c : {ClientKind::kClaudeCode, ClientKind::kCodex, ClientKind::kGemini}) {
    if (name == client_name(c)) return c;
  }
  return std::nullopt;
}

Target target_for(ClientKind client, bool user, const fs::path& project) {
  Target t;
  t.client = client;
  t.user = user;
  t.project = project;
  const fs::path home = home_dir();
  switch (client) {
    case ClientKind::kClaudeCode:
      t.file = env_dir("CLAUDE_CONFIG_DIR", home) / ".claude.json";
      t.container = user ? std::vector<std::string>{"mcpServers"}
                         : std::vector<std::string>{
                               "projects", claude_project_key(project).string(), "mcpServers"};
      break;
    case ClientKind::kCodex:
      t.file = (user ? env_dir("CODEX_HOME", home / ".codex") : project / ".codex") / "config.toml";
      t.container = {"mcp_servers"};
      t.toml = true;
      break;
    case ClientKind::kGemini:
      t.file = (user ? home : project) / ".gemini" / "settings.json";
      t.container = {"mcpServers"};
      break;
  }
  return t;
}

std::string key_path(const std::vector<std::string>& keys) {
  std::string out;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const bool plain = keys[i].find_first_of("/.\" []") == std::string::npos;
    out += plain ? (i ? "." : "") + keys[i] : "[" + nlohmann::json(keys[i]).dump() + "]";
  }
  return out;
}

bool is_shim_command(const std::string& command) {
  return fs::path(command).filename() == kShimName;
}

}  // namespace cb::ctl::setup
