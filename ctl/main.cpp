// claude-bridgectl: the operator's CLI. Talks to the daemon on ctl.sock only; never opens the
// database or any state file, and `--help` creates nothing.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>

#include "cb_config.h"
#include "common/exit_codes.h"
#include "common/paths.h"
#include "common/visible.h"
#include "ctl/commands.h"

namespace cb::ctl {

std::filesystem::path Context::socket_dir() const { return paths::socket_dir(socket_dir_flag); }

Client& Context::client() {
  if (!client_) client_.emplace(Client::connect(socket_dir()));
  return *client_;
}

Json Context::call(const std::string& method, Json params, int timeout_seconds) {
  return client().call(method, std::move(params), timeout_seconds);
}

void Context::warn(const std::string& line) const {
  std::fprintf(stderr, "claude-bridgectl: %s\n",
               paint(err, sgr::kYellow, "warning: " + visible(line)).c_str());
}

}  // namespace cb::ctl

int main(int argc, char** argv) {
  using namespace cb::ctl;
  namespace exit_code = cb::exit_code;
  CLI::App app{
      "claude-bridgectl — manage the Claude Bridge daemon: conversations, audit trail, "
      "export/import, backup/restore, health checks.\nIt talks to claude-bridged on ctl.sock and "
      "never opens the database itself.",
      "claude-bridgectl"};
  // Global options are accepted before or after the subcommand.
  app.fallthrough();
  app.require_subcommand(1);
  app.footer(
      "Exit status: 0 ok, 1 the operation failed, 2 usage, 65 bad input file, 69 daemon "
      "unavailable.\nRun `claude-bridgectl COMMAND --help` for a command's options.");

  Context ctx;
  app.add_option("--socket-dir", ctx.socket_dir_flag,
                 "Directory of ctl.sock (env CLAUDE_BRIDGE_SOCKET_DIR; default "
                 "$XDG_RUNTIME_DIR/claude-bridge)")
      ->type_name("DIR");
  app.add_flag("--json", ctx.json, "Print one JSON document instead of a table");
  app.set_version_flag("--version", std::string("claude-bridgectl ") + CB_VERSION);

  std::vector<Command> commands;
  add_conversation_commands(app, ctx, commands);
  add_audit_commands(app, ctx, commands);
  add_transfer_commands(app, ctx, commands);
  add_system_commands(app, ctx, commands);
  add_approval_commands(app, ctx, commands);
  add_setup_commands(app, ctx, commands);
  add_ui_commands(app, ctx, commands);
  add_hook_command(app, ctx, commands);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string what = e.what();
    if (what.find("subcommand is required") != std::string::npos ||
        what.find("A subcommand") != std::string::npos) {
      what =
          "which command? (agents, list, show, tokens, audit, cleanup, post, end, watch, export, "
          "import, "
          "backup, restore, stats, doctor, mcp-config, setup, redact, approvals, approve, deny, "
          "ui, hook)";
    }
    std::fprintf(stderr, "claude-bridgectl: %s — see: claude-bridgectl --help\n", what.c_str());
    return exit_code::kUsage;
  }

  try {
    for (const auto& c : commands) {
      if (c.app->parsed()) {
        const int rc = c.run();
        std::fflush(stdout);
        return rc;
      }
    }
    std::fprintf(stderr, "claude-bridgectl: no command given — see: claude-bridgectl --help\n");
    return exit_code::kUsage;
  } catch (const CtlError& e) {
    std::fflush(stdout);
    // The daemon's error texts may quote what an agent or a file held: one line, escaped.
    std::fprintf(stderr, "claude-bridgectl: %s\n",
                 paint(ctx.err, sgr::kRed, cb::visible(e.what())).c_str());
    return e.exit_code();
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "claude-bridgectl: internal error: %s\n", e.what());
    return exit_code::kSoftware;
  }
}
