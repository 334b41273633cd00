// `claude-bridgectl hook EVENT`: the client hooks (ctl/hook/hook.h) as a ctl command, for
// people and scripts; setup registers the faster claude-bridge-hook, which runs the same code.
#include <memory>

#include "ctl/commands.h"
#include "ctl/hook/hook.h"

namespace cb::ctl {

void add_hook_command(CLI::App& app, Context& ctx, std::vector<Command>& out) {
  auto opts = std::make_shared<hook::Options>();
  auto* cmd = app.add_subcommand(
      "hook",
      "Run a client hook (session-start, tell, wait) with the event's JSON on stdin; exits 0 "
      "with no output whenever it cannot help (the same as claude-bridge-hook)");
  // Any text is taken and checked by the hook itself: a client hook must not fail on a usage
  // error (Claude Code reads exit status 2 as "block this prompt").
  cmd->add_option("event", opts->event, "session-start, tell or wait")->required();
  cmd->add_option("--client", opts->client, "claude-code (default), codex or gemini");
  cmd->add_option("--timeout", opts->timeout_seconds,
                  "wait: give up quietly after SECONDS (default 590)")
      ->type_name("SECONDS");
  out.push_back({cmd, [&ctx, opts] {
                   opts->socket_dir_flag = ctx.socket_dir_flag;
                   return hook::run(*opts, stdin, stdout, stderr);
                 }});
}

}  // namespace cb::ctl
