#pragma once

#include <cstdio>
#include <string>
#include <vector>

// The client hooks of issue 24 (docs/cli.md "hook", docs/protocol.md "Hooks"): run by Claude
// Code, Codex CLI and Gemini CLI with the event's JSON on stdin, they tell the calling
// session's agent of its mail and wake it. Served by the small binary claude-bridge-hook (fast
// to start: it runs after every tool call) and by `claude-bridgectl hook`.
//
// A hook never breaks or stalls the person's session: whenever it cannot help (no daemon, no
// agent, bad input, bad arguments) it exits 0 with nothing on stdout. Only `wait` exits 2,
// with the notice on stderr (Claude Code's asyncRewake wakes the idle session with it).
namespace cb::hook {

struct Options {
  std::string event;                   // session-start, tell, wait
  std::string client = "claude-code";  // claude-code, codex, gemini
  std::string socket_dir_flag;         // --socket-dir (else CLAUDE_BRIDGE_SOCKET_DIR, default)
  int timeout_seconds = 590;           // wait: under the 600 s Claude Code kills it at
};

// Runs one hook event; never throws. Returns the exit status (0, or 2 when `wait` wakes).
int run(const Options& options, std::FILE* in, std::FILE* out, std::FILE* err);

// claude-bridge-hook's command line: EVENT [--client C] [--socket-dir DIR] [--timeout S].
// Unusable arguments are a diagnostic and exit 0, like every other failure.
int main(const std::vector<std::string>& args);

// What the hook prints on stdout for `text` to reach the model: the client's hook output
// document naming `event_name` (from stdin's hook_event_name). One line, no newline.
std::string client_output(const std::string& client, const std::string& event_name,
                          const std::string& text);

// Whether a client process's command line (/proc/PID/cmdline: NUL-separated) asks for a
// non-interactive run (-p / --print), where a pending waiter would keep it alive.
bool non_interactive(const std::string& cmdline);

}  // namespace cb::hook
