#include <CLI/CLI.hpp>
#include <cstdio>

#include "cb_config.h"
#include "common/exit_codes.h"
#include "common/paths.h"
#include "daemon/crypto/crypto.h"
#include "daemon/daemon.h"

int main(int argc, char** argv) {
  cb::crypto::init_library();
  CLI::App app{"claude-bridged — the Claude Bridge daemon: owns the database, keys and rate limits "
               "and serves MCP (mcp.sock) and administration (ctl.sock) on Unix sockets.",
               "claude-bridged"};
  std::string socket_dir, state_dir, config_file, log_level;
  app.add_option("--socket-dir", socket_dir,
                 "Directory for mcp.sock and ctl.sock (env CLAUDE_BRIDGE_SOCKET_DIR; default "
                 "$XDG_RUNTIME_DIR/claude-bridge, else /run/user/UID/claude-bridge, else "
                 "$TMPDIR/claude-bridge-UID)");
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
  if (check_only) return cb::check_config(options);
  return cb::run_daemon(options);
}
