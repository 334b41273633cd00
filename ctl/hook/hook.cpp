#include "ctl/hook/hook.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>

#include "cb_config.h"
#include "common/ctl_protocol.h"
#include "common/fd.h"
#include "common/paths.h"
#include "common/process_info.h"
#include "ctl/client.h"

namespace cb::hook {
namespace {

using Json = nlohmann::json;

constexpr std::size_t kMaxInput = 1 << 20;
constexpr std::size_t kMaxAncestors = 64;
constexpr int kBindWaitMs = 5000;   // session-start: the session's shim binds within this
constexpr int kCallMs = 5000;       // any other answer of a live daemon
constexpr int kWaitBindMs = 30000;  // wait: its session's shim binds within this

// Reports why the hook could not help, on stderr only where the client keeps it out of the
// session: Claude Code shows a hook's stderr in verbose mode only; Gemini CLI would show it to
// the person as a message and Codex's handling is unverified, so those get nothing.
struct Diagnostics {
  std::FILE* err;
  bool enabled;
  int quiet(const std::string& why) const {
    if (enabled) std::fprintf(err, "claude-bridge-hook: %s\n", why.c_str());
    return 0;
  }
};

std::string read_all(std::FILE* in) {
  std::string text;
  char buf[65536];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, in)) > 0) {
    text.append(buf, n);
    if (text.size() > kMaxInput) return {};
  }
  return text;
}

std::optional<pid_t> env_pid(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const long pid = std::strtol(v, &end, 10);
  if (errno != 0 || *end != '\0' || pid <= 1 || pid > 0x7fffffff) return std::nullopt;
  return static_cast<pid_t>(pid);
}

// [[pid, start], …]: CLAUDE_PID's process when set, then this hook's ancestors from its
// parent up, each with the start time that tells it from a later process of the same pid.
Json ancestors() {
  Json out = Json::array();
  if (auto claude = env_pid("CLAUDE_PID")) {
    if (auto st = proc::read_stat(*claude); st.ok()) out.push_back({st->pid, st->start_time});
  }
  pid_t pid = ::getppid();
  while (pid > 1 && out.size() < kMaxAncestors) {
    auto st = proc::read_stat(pid);
    if (!st.ok()) break;
    out.push_back({st->pid, st->start_time});
    pid = st->ppid;
  }
  return out;
}

std::string read_cmdline(pid_t pid) {
  UniqueFd fd(::open(("/proc/" + std::to_string(pid) + "/cmdline").c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return {};
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd.get(), buf, sizeof buf)) > 0 && text.size() < kMaxInput) {
    text.append(buf, static_cast<std::size_t>(n));
  }
  return text;
}

// CLAUDE_BRIDGE_WAKE: always, interactive (default), never.
std::string wake_mode() {
  const char* v = std::getenv("CLAUDE_BRIDGE_WAKE");
  std::string mode = v && *v ? v : "interactive";
  return mode;
}

void print_text(std::FILE* out, const Options& o, const std::string& event_name,
                const std::string& text) {
  std::fputs(client_output(o.client, event_name, text).c_str(), out);
  std::fputc('\n', out);
  std::fflush(out);
}

int run_wait(const Options& o, ctl::Client& client, const Json& whose,
             const std::string& event_name, const Diagnostics& diag, std::FILE* err) {
  const std::string mode = wake_mode();
  if (mode == "never") return 0;
  if (mode != "always" && mode != "interactive") {
    return diag.quiet("CLAUDE_BRIDGE_WAKE=" + mode + " is none of always, interactive, never");
  }
  const auto started = std::chrono::steady_clock::now();
  auto left_ms = [&] {
    const auto spent = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::steady_clock::now() - started)
                           .count();
    return static_cast<int>(std::max<std::int64_t>(0, o.timeout_seconds * 1000LL - spent));
  };
  // Whether a `-p` run forbids waiting: by default (interactive) always; with WAKE=always still
  // on SessionStart, which Claude Code 2.1.330 runs synchronously in -p runs (the first turn
  // waits for it and its exit-2 text is dropped; verified by cc24) — the Stop waiter covers those.
  auto print_run_refuses = [&](pid_t pid) {
    return (mode == "interactive" || event_name == "SessionStart") &&
           non_interactive(read_cmdline(pid));
  };
  // The session's process: CLAUDE_PID, else the client process the daemon matched.
  std::optional<pid_t> claude = env_pid("CLAUDE_PID");
  if (claude && print_run_refuses(*claude)) return 0;
  Json q = whose;
  q["bind_wait"] = true;
  auto found = client.call_until(ctl_protocol::kHookAgent, q, std::min(left_ms(), kWaitBindMs));
  if (!found || !found->value("agent", Json()).is_string()) {
    return diag.quiet("no agent of this session is bound on the bridge");
  }
  const std::string agent = (*found)["agent"].get<std::string>();
  pid_t watched = claude.value_or(found->value("client_pid", -1));
  if (watched <= 1) return diag.quiet("the session's client process is unknown");
  if (!claude && print_run_refuses(watched)) return 0;
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, watched, 0)));
  if (!pidfd) return diag.quiet("the session's process " + std::to_string(watched) + " is gone");
  // The pid may have been reused between the daemon's answer and pidfd_open: the process
  // the pidfd holds must be the one the agent's client was.
  if (!claude && found->contains("client_start") &&
      !proc::is_running(watched, found->value("client_start", std::uint64_t{0}))) {
    return 0;
  }
  auto woke =
      client.call_until(ctl_protocol::kHookWait, Json{{"agent", agent}}, left_ms(), pidfd.get());
  if (!woke || woke->value("outcome", "") != "mail") return 0;
  const std::string notice = woke->value("notice", "");
  std::fprintf(err, "%s\n", notice.c_str());
  std::fflush(err);
  return 2;
}

}  // namespace

bool non_interactive(const std::string& cmdline) {
  std::size_t start = 0;
  while (start < cmdline.size()) {
    std::size_t end = cmdline.find('\0', start);
    if (end == std::string::npos) end = cmdline.size();
    const std::string_view arg(cmdline.data() + start, end - start);
    if (arg == "-p" || arg == "--print" || arg.rfind("--print=", 0) == 0) return true;
    if (arg == "--") break;
    start = end + 1;
  }
  return false;
}

std::string client_output(const std::string& /*client*/, const std::string& event_name,
                          const std::string& text) {
  // Claude Code and Codex (its schema, in the pinned binary: hookSpecificOutput with a
  // hookEventName equal to the event and additionalContext, nothing else) and Gemini CLI (its
  // hook runner reads hookSpecificOutput.additionalContext of the JSON on stdout) read the
  // same document.
  const Json doc{
      {"hookSpecificOutput", {{"hookEventName", event_name}, {"additionalContext", text}}}};
  return doc.dump(-1, ' ', false, Json::error_handler_t::replace);
}

int run(const Options& o, std::FILE* in, std::FILE* out, std::FILE* err) {
  const Diagnostics diag{err, o.client == "claude-code"};
  try {
    if (o.client != "claude-code" && o.client != "codex" && o.client != "gemini") {
      return diag.quiet("--client " + o.client + " is none of claude-code, codex, gemini");
    }
    if (o.event != "session-start" && o.event != "tell" && o.event != "wait") {
      return diag.quiet("EVENT " + o.event + " is none of session-start, tell, wait");
    }
    // Only Claude Code wakes an idle session from a hook (asyncRewake).
    if (o.event == "wait" && o.client != "claude-code") return 0;
    const std::string input = read_all(in);
    Json event = Json::parse(input, nullptr, false);
    if (!event.is_object()) return diag.quiet("stdin holds no JSON object");
    std::string event_name = event.value("hook_event_name", "");
    if (event_name.empty())
      event_name = o.event == "session-start" ? "SessionStart" : "PostToolUse";
    Json whose{{"ancestors", ancestors()}};
    if (auto s = event.find("session_id"); s != event.end() && s->is_string()) {
      whose["session_id"] = *s;
    }
    ctl::Client client = ctl::Client::connect(paths::socket_dir(o.socket_dir_flag));
    if (o.event == "wait") return run_wait(o, client, whose, event_name, diag, err);
    if (o.event == "session-start") {
      Json q = whose;
      q["bind_wait"] = true;
      auto answer = client.call_until(ctl_protocol::kHookSessionStart, q, kBindWaitMs);
      if (!answer || !answer->value("context", Json()).is_string()) {
        return diag.quiet("no agent of this session is bound on the bridge");
      }
      print_text(out, o, event_name, (*answer)["context"].get<std::string>());
      return 0;
    }
    auto answer = client.call_until(ctl_protocol::kHookTell, whose, kCallMs);
    if (answer && answer->value("notice", Json()).is_string()) {
      print_text(out, o, event_name, (*answer)["notice"].get<std::string>());
    }
    return 0;
  } catch (const std::exception& e) {
    return diag.quiet(e.what());
  }
}

int main(const std::vector<std::string>& args) {
  Options o;
  Diagnostics diag{stderr, true};
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string* into) {
      if (i + 1 >= args.size()) return false;
      *into = args[++i];
      return true;
    };
    std::string timeout;
    if (a == "--client") {
      if (!value(&o.client)) return diag.quiet("--client needs a value");
      diag.enabled = o.client == "claude-code";
    } else if (a == "--socket-dir") {
      if (!value(&o.socket_dir_flag)) return diag.quiet("--socket-dir needs a value");
    } else if (a == "--timeout") {
      if (!value(&timeout)) return diag.quiet("--timeout needs a value");
      char* end = nullptr;
      const long t = std::strtol(timeout.c_str(), &end, 10);
      if (*end != '\0' || t < 0 || t > 86400) return diag.quiet("--timeout needs seconds");
      o.timeout_seconds = static_cast<int>(t);
    } else if (a == "--version") {
      std::printf("claude-bridge-hook %s\n", CB_VERSION);
      return 0;
    } else if (a == "--help" || a == "-h") {
      std::puts(
          "usage: claude-bridge-hook session-start|tell|wait [--client claude-code|codex|gemini] "
          "[--socket-dir DIR] [--timeout SECONDS] | --version\nRun by a client's hooks with the event's JSON "
          "on stdin; see docs/cli.md (hook).");
      return 0;
    } else if (o.event.empty() && !a.empty() && a[0] != '-') {
      o.event = a;
    } else {
      return diag.quiet("unexpected argument " + a + " (see --help)");
    }
  }
  return run(o, stdin, stdout, stderr);
}

}  // namespace cb::hook
