#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "ctl/client.h"
#include "ctl/output.h"

// claude-bridgectl's subcommands. Each add_*_commands() declares its subcommands on the CLI11
// app and registers what runs when one was chosen; main() parses, then runs exactly one.
namespace cb::ctl {

// What every command may use: the global options and a connection made on first use (commands
// that need no daemon, like mcp-config, never connect).
class Context {
 public:
  std::string socket_dir_flag;  // --socket-dir, resolved with the environment by socket_dir()
  bool json = false;            // --json: one JSON document on stdout
  Style out = detect_style(stdout);
  Style err = detect_style(stderr);

  std::filesystem::path socket_dir() const;
  Client& client();
  // Calls `method`; see Client::call for the exit statuses of failures.
  Json call(const std::string& method, Json params = Json::object(), int timeout_seconds = 60);

  // A one-line note on stderr ("claude-bridgectl: warning: ...").
  void warn(const std::string& line) const;

 private:
  std::optional<Client> client_;
};

// The action of a subcommand; returns the exit status.
using Action = std::function<int()>;
struct Command {
  CLI::App* app;
  Action run;
};

void add_conversation_commands(CLI::App& app, Context& ctx, std::vector<Command>& out);
void add_audit_commands(CLI::App& app, Context& ctx, std::vector<Command>& out);
void add_transfer_commands(CLI::App& app, Context& ctx, std::vector<Command>& out);
void add_system_commands(CLI::App& app, Context& ctx, std::vector<Command>& out);
void add_approval_commands(CLI::App& app, Context& ctx, std::vector<Command>& out);
void add_setup_commands(CLI::App& app, Context& ctx, std::vector<Command>& out);
// `hook`: the client hooks of issue 24 (ctl/hook/).
void add_hook_command(CLI::App& app, Context& ctx, std::vector<Command>& out);
// `ui`: the web console (ctl/ui/).
void add_ui_commands(CLI::App& app, Context& ctx, std::vector<Command>& out);

// The checks of `doctor` (doctor.cpp): one line each, exit 0 when all pass.
int run_doctor(Context& ctx);

// The first executable called `program` in $PATH.
std::optional<std::filesystem::path> find_on_path(const std::string& program);

// True when `p` is a regular file this user may execute.
bool executable_file(const std::filesystem::path& p);

// The shim of this installation: beside this binary (installed layout), ../shim/ (build tree),
// else the first on PATH.
std::optional<std::filesystem::path> find_shim();

// The shim's arguments that make it reach the daemon this claude-bridgectl talks to, and start
// one with the same directories when none runs: --socket-dir when it is not the default, and
// --state-dir / --config when the daemon there (asked briefly; none may run) or the environment
// (CLAUDE_BRIDGE_STATE_DIR, CLAUDE_BRIDGE_CONFIG) name others than the defaults. Without them
// the entry would autostart a second daemon on the default directories. (system_commands.cpp)
std::vector<std::string> shim_args(Context& ctx);

struct Captured {
  int status = -1;     // exit status, -1 when it did not run or was killed
  std::string output;  // stdout and stderr together
};

// Runs argv without a shell, stdin from /dev/null, in `cwd` (empty: this one), for at most
// `timeout_ms` (doctor.cpp).
Captured run_capture(const std::vector<std::string>& argv, int timeout_ms,
                     const std::filesystem::path& cwd = {});

// $HOME, else the password database's home directory.
std::filesystem::path home_dir();

// Renders an export document (the `export` method's result) as a Markdown transcript.
std::string export_markdown(const Json& doc);

}  // namespace cb::ctl
