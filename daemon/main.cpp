#include <CLI/CLI.hpp>
#include <cstdio>

#include "cb_config.h"
#include "common/exit_codes.h"
#include "common/paths.h"
#include "daemon/crypto/crypto.h"
#include "daemon/exec/workspace.h"
#include "daemon/redact/redactor.h"
#include "daemon/config.h"
#include "daemon/daemon.h"

namespace {

int config_error(const std::string& line) {
  std::fprintf(stderr, "claude-bridged: %s\n", line.c_str());
  return cb::exit_code::kConfig;
}

// --check-config: the checks start-up makes of the configuration, and nothing else — the same
// loader (unknown keys, types, ranges), the custom redaction rules compiled, every [yolo]
// workspace root checked (keep in step with build_exec_settings() in daemon.cpp). It touches
// no socket or state directory. One line on stdout (exit 0) or stderr (exit 78).
int check_config(const cb::DaemonOptions& options) {
  auto loaded = cb::load_config(options.config_file, options.config_required);
  if (auto* err = std::get_if<std::string>(&loaded)) return config_error(*err);
  const cb::Config& config = std::get<cb::Config>(loaded);
  const std::string where = config.source.empty() ? std::string("config") : config.source.string();
  std::string error;
  if (!cb::redact::Redactor::create(config.redaction_rules, &error)) {
    return config_error(where + ": " + error);
  }
  for (const auto& root : config.exec.workspaces) {
    if (auto err = cb::exec::check_allowed_root(root); !err.empty()) {
      return config_error(where + ": [yolo] workspaces: " + err);
    }
  }
  if (config.exec.enabled && config.exec.workspaces.empty()) {
    return config_error(
        where + ": [yolo] enabled = true needs at least one directory in [yolo] workspaces");
  }
  if (config.source.empty()) {
    std::printf("claude-bridged: no configuration file at %s; the defaults apply\n",
                options.config_file.c_str());
  } else {
    std::printf("claude-bridged: configuration OK: %s\n", config.source.c_str());
  }
  return cb::exit_code::kOk;
}

}  // namespace

int main(int argc, char** argv) {
  cb::crypto::init_library();
  CLI::App app{"claude-bridged — the Claude Bridge daemon: owns the database, keys and rate limits "
               "and serves MCP (mcp.sock) and administration (ctl.sock) on Unix sockets.",
               "claude-bridged"};
  std::string socket_dir, state_dir, config_file, log_level;
  app.add_option("--socket-dir", socket_dir,
                 "Directory for mcp.sock and ctl.sock (env CLAUDE_BRIDGE_SOCKET_DIR; default "
                 "$XDG_RUNTIME_DIR/claude-bridge)");
  app.add_option("--state-dir", state_dir,
                 "Directory for bridge.db and server.key (env CLAUDE_BRIDGE_STATE_DIR; default "
                 "$XDG_STATE_HOME/claude-bridge)");
  app.add_option("--config", config_file,
                 "TOML configuration file (env CLAUDE_BRIDGE_CONFIG; default "
                 "$XDG_CONFIG_HOME/claude-bridge/config.toml, optional)");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error, critical or off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  bool check_only = false;
  app.add_flag("--check-config", check_only,
               "Load and check the configuration file as start-up would, print one line and "
               "exit (0 valid, 78 invalid); starts nothing");
  app.set_version_flag("--version", std::string("claude-bridged ") + CB_VERSION);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : cb::exit_code::kUsage;
  }
  cb::DaemonOptions options;
  options.socket_dir = cb::paths::socket_dir(socket_dir);
  options.state_dir = cb::paths::resolve(state_dir, cb::paths::kStateDirEnv,
                                         cb::paths::default_state_dir());
  const char* config_env = std::getenv(cb::paths::kConfigEnv);
  options.config_required = !config_file.empty() || (config_env && *config_env);
  options.config_file = cb::paths::resolve(config_file, cb::paths::kConfigEnv,
                                           cb::paths::default_config_file());
  options.log_level = log_level;
  if (check_only) return check_config(options);
  return cb::run_daemon(options);
}
