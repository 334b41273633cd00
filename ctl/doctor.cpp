// claude-bridgectl doctor: what is wrong with this installation and what to run about it.
//
// Each check is one line. A check that cannot be made here (no systemctl, no user manager,
// daemon down for the checks that need it) is "not checked" and does not fail the run.
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "cb_config.h"
#include "common/ctl_protocol.h"
#include "common/exit_codes.h"
#include "common/paths.h"
#include "common/unix_socket.h"
#include "common/visible.h"
#include "ctl/commands.h"
#include "ctl/setup.h"

namespace cb::ctl {
namespace fs = std::filesystem;
namespace {

enum class State { kOk, kFail, kSkipped };

struct Check {
  std::string name;
  State state;
  std::string detail;    // what was found, and for a failure what to do
  Json extra = nullptr;  // --json only: more fields of this check (the hooks' list)
};

}  // namespace

Captured run_capture(const std::vector<std::string>& argv, int timeout_ms, const fs::path& cwd) {
  Captured c;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return c;
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return c;
  }
  if (pid == 0) {
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) ::_exit(127);
    const int null = ::open("/dev/null", O_RDONLY);
    if (null >= 0) ::dup2(null, STDIN_FILENO);
    ::dup2(fds[1], STDOUT_FILENO);
    ::dup2(fds[1], STDERR_FILENO);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  char buf[4096];
  bool killed = false;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0) {
      ::kill(pid, SIGKILL);
      killed = true;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    const int rc = ::poll(&p, 1, static_cast<int>(left));
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) continue;
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (c.output.size() < 65536) c.output.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!killed && WIFEXITED(status)) c.status = WEXITSTATUS(status);
  return c;
}

namespace {

std::string first_line(const std::string& s) {
  const auto end = s.find('\n');
  std::string line = s.substr(0, end);
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  return line;
}

std::string octal(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

Check check_socket_dir(const fs::path& dir) {
  const Status err = paths::check_private_dir(dir);
  if (!err.ok()) return {"socket directory", State::kFail, err.message()};
  return {"socket directory", State::kOk, dir.string() + " (0700, owned by you)"};
}

Check check_mcp_socket(const fs::path& dir) {
  const auto path = dir / paths::kMcpSocket;
  int err = 0;
  if (unix_socket::connect(path.string(), &err)) {
    return {"daemon on mcp.sock", State::kOk, path.string() + " accepts connections"};
  }
  return {"daemon on mcp.sock", State::kFail, unavailable_line(path, err)};
}

Check check_server_key(const Json& paths_json) {
  const std::string name = "server key";
  if (!paths_json.is_object() || !paths_json["state_dir"].is_string()) {
    return {name, State::kSkipped, "not checked: the daemon did not say where its state is"};
  }
  const fs::path key = fs::path(paths_json["state_dir"].get<std::string>()) / "server.key";
  struct stat st {};
  if (::lstat(key.c_str(), &st) != 0) {
    return {name, State::kFail,
            key.string() + ": " + std::strerror(errno) +
                " (the daemon creates it at start-up; restart it)"};
  }
  if (!S_ISREG(st.st_mode)) return {name, State::kFail, key.string() + " is not a regular file"};
  if (st.st_uid != ::geteuid()) {
    return {name, State::kFail,
            key.string() + " is owned by uid " + std::to_string(st.st_uid) + ", not by you"};
  }
  if ((st.st_mode & 077) != 0) {
    return {name, State::kFail,
            key.string() + " has mode " + octal(st.st_mode) + " — run: chmod 600 " + key.string()};
  }
  if (st.st_size != 32) {
    return {name, State::kFail,
            key.string() + " is " + std::to_string(st.st_size) +
                " bytes, expected 32 — restore it from a backup"};
  }
  return {name, State::kOk, key.string() + " (" + octal(st.st_mode) + ", 32 bytes, yours)"};
}

// systemd is one way to run the daemon, not a requirement: without a user manager, or with the
// units installed but not enabled (scripts/install --no-systemd), the shim starts the daemon
// on demand, so those are "not checked" with the way to switch, never a failure.
Check check_systemd() {
  const std::string name = "systemd user units";
  const std::string on_demand = "the shim starts the daemon on demand";
  if (!find_on_path("systemctl")) return {name, State::kSkipped, "not checked (no systemctl)"};
  const auto manager = run_capture({"systemctl", "--user", "show-environment"}, 5000);
  if (manager.status != 0) {
    const std::string why = first_line(manager.output);
    return {name, State::kSkipped,
            "not checked: no systemd user manager answers (" +
                (why.empty() ? std::string("systemctl --user failed") : why) + "); " + on_demand};
  }
  const auto r = run_capture({"systemctl", "--user", "is-enabled", "claude-bridge.socket"}, 5000);
  const std::string state = first_line(r.output);
  if (r.status == 0) return {name, State::kOk, "claude-bridge.socket is " + state};
  if (state == "disabled" || state == "masked" || state == "linked") {
    return {name, State::kSkipped,
            "not used: claude-bridge.socket is " + state + "; " + on_demand +
                " (to have systemd start it: systemctl --user enable --now claude-bridge.socket)"};
  }
  if (state == "not-found" || r.output.find("No such file") != std::string::npos) {
    return {name, State::kSkipped,
            "not used: claude-bridge.socket is not installed; " + on_demand +
                " (to have systemd start it: scripts/install, see docs/install.md)"};
  }
  return {name, State::kSkipped,
          "not checked (systemctl --user answered: " + (state.empty() ? "nothing" : state) + ")"};
}

Check check_shim_on_path() {
  if (auto p = find_on_path("claude-bridge-shim")) {
    return {"shim on PATH", State::kOk, p->string()};
  }
  return {"shim on PATH", State::kFail,
          "claude-bridge-shim is not on PATH — install it, or register it by absolute path: "
          "claude-bridgectl setup claude-code (or codex, gemini)"};
}

std::string client_label(setup::ClientKind client) {
  using setup::ClientKind;
  return client == ClientKind::kClaudeCode ? "Claude Code"
         : client == ClientKind::kCodex    ? "Codex"
                                           : "Gemini CLI";
}

// What is wired where: for each client, the entries that run claude-bridge-shim in its user and
// project (current directory) settings, each with whether that shim exists. A client with no
// entry is "not set up" (skipped); with none at all, Claude Code's line fails with what to run.
std::vector<Check> check_clients() {
  using setup::ClientKind;
  std::error_code ec;
  const fs::path cwd = fs::current_path(ec);
  std::vector<Check> checks;
  bool any = false;
  for (ClientKind client : {ClientKind::kClaudeCode, ClientKind::kCodex, ClientKind::kGemini}) {
    const std::string label = client_label(client);
    const std::string fix = "run: claude-bridgectl setup " + setup::client_name(client);
    std::vector<std::pair<std::string, setup::Target>> targets{
        {"user", setup::target_for(client, true, cwd)},
        {"project", setup::target_for(client, false, cwd)}};
    if (client == ClientKind::kClaudeCode) {
      // A shared .mcp.json also works, once the person approves it in Claude Code.
      setup::Target shared = targets.back().second;
      shared.file = cwd / ".mcp.json";
      shared.container = {"mcpServers"};
      targets.push_back({"project .mcp.json", shared});
    }
    Check check{label + " configuration", State::kSkipped, ""};
    std::vector<std::string> parts;
    for (const auto& [scope, t] : targets) {
      std::ifstream in(t.file, std::ios::binary);
      if (!in) continue;
      std::ostringstream bytes;
      bytes << in.rdbuf();
      auto found = setup::find_shim_entries(t, bytes.str());
      if (!found) {
        check.state = State::kFail;
        parts.push_back(found.status().message());
        continue;
      }
      for (const auto& f : found.value()) {
        const bool on_path = f.command.find('/') == std::string::npos;
        const bool exists =
            on_path ? find_on_path(f.command).has_value() : executable_file(f.command);
        std::string part = scope + " " + t.file.string() + ": " + f.name + " → " + f.command;
        if (!exists) {
          part += " (missing — " + fix + ")";
          check.state = State::kFail;
        } else if (check.state == State::kSkipped) {
          check.state = State::kOk;
        }
        parts.push_back(part);
      }
    }
    for (const auto& p : parts) check.detail += (check.detail.empty() ? "" : "; ") + p;
    if (parts.empty()) check.detail = "not set up (" + fix + ")";
    any = any || !parts.empty();
    checks.push_back(check);
  }
  if (!any) {
    checks.front().state = State::kFail;
    checks.front().detail =
        "no client runs claude-bridge-shim — run: claude-bridgectl setup "
        "claude-code (or codex, gemini)";
  }
  return checks;
}

// Whether a hook's program (an absolute path, or a name looked up on PATH) is there to run.
bool program_exists(const std::string& program) {
  if (program.empty()) return false;
  if (program.find('/') == std::string::npos) return find_on_path(program).has_value();
  return executable_file(program);
}

// Which of the bridge's hooks (commands running `claude-bridgectl … hook …`) each client has in
// its user and project (current directory) hook settings, and whether the claude-bridgectl they
// run exists. None is not a failure (setup --no-hooks chooses it); a missing program is.
std::vector<Check> check_hooks() {
  using setup::ClientKind;
  std::error_code ec;
  const fs::path cwd = fs::current_path(ec);
  std::vector<Check> checks;
  for (ClientKind client : {ClientKind::kClaudeCode, ClientKind::kCodex, ClientKind::kGemini}) {
    const std::string fix = "run: claude-bridgectl setup " + setup::client_name(client);
    Check check{client_label(client) + " hooks", State::kSkipped, "", Json::array()};
    std::vector<std::string> parts;
    for (bool user : {true, false}) {
      const setup::HookTarget t = setup::hook_target_for(client, user, cwd);
      std::ifstream in(t.file, std::ios::binary);
      if (!in) continue;
      std::ostringstream bytes;
      bytes << in.rdbuf();
      auto found = setup::find_hook_entries(t, bytes.str());
      const std::string scope = user ? "user" : "project";
      if (!found) {
        check.state = State::kFail;
        parts.push_back(found.status().message());
        continue;
      }
      if (found.value().empty()) continue;
      // One part per file: its events in order, then each program the hooks run.
      std::vector<std::string> events;
      std::vector<std::string> programs;
      for (const auto& h : found.value()) {
        if (std::find(events.begin(), events.end(), h.event) == events.end()) {
          events.push_back(h.event);
        }
        if (std::find(programs.begin(), programs.end(), h.program) == programs.end()) {
          programs.push_back(h.program);
        }
        const bool exists = program_exists(h.program);
        check.extra.push_back(Json{{"scope", scope},
                                   {"file", t.file.string()},
                                   {"event", h.event},
                                   {"command", h.command},
                                   {"exists", exists}});
      }
      std::string part = scope + " " + t.file.string() + ":";
      for (std::size_t i = 0; i < events.size(); ++i) part += (i ? ", " : " ") + events[i];
      for (const auto& program : programs) {
        part += " → " + program;
        if (!program_exists(program)) {
          part += " (missing — " + fix + ")";
          check.state = State::kFail;
        }
      }
      if (check.state == State::kSkipped) check.state = State::kOk;
      parts.push_back(part);
    }
    for (const auto& p : parts) check.detail += (check.detail.empty() ? "" : "; ") + p;
    if (parts.empty()) {
      check.detail = "none: the agent is not told of new mail (claude-bridgectl setup " +
                     setup::client_name(client) + " adds them)";
    }
    checks.push_back(std::move(check));
  }
  return checks;
}

}  // namespace

fs::path home_dir() {
  if (const char* h = std::getenv("HOME"); h && *h) return h;
  if (const passwd* pw = ::getpwuid(::geteuid())) return pw->pw_dir;
  return {};
}

namespace {

// A team's PostgreSQL store (issue 27): reachable (the integrity call reached it), encrypted
// unless it is on this machine, and at this daemon's schema version.
Check check_team_store(const Json& r) {
  const std::string name = "team store";
  const std::string where = r.value("database", "");
  const std::string tls = r.value("tls", "none");
  const int schema = r.value("schema_version", 0);
  const int latest = r.value("latest_schema_version", 0);
  if (schema != latest) {
    return {name, State::kFail,
            where + " has schema " + std::to_string(schema) + ", this daemon writes " +
                std::to_string(latest) + " — upgrade every daemon of the team to one version"};
  }
  const bool local = where.find("host=127.") != std::string::npos ||
                     where.find("host=localhost") != std::string::npos ||
                     where.find("host=/") != std::string::npos;
  if (tls == "none" && !local) {
    return {name, State::kFail,
            where + " is reached without TLS — add sslmode=verify-full sslrootcert=<CA file> "
                    "to [store] url (docs/teams.md)"};
  }
  std::size_t daemons = 0;
  if (r.contains("daemons") && r["daemons"].is_array()) daemons = r["daemons"].size();
  return {name, State::kOk,
          where + " reachable, " + (tls == "none" ? "no TLS (this machine)" : tls) + ", schema " +
              std::to_string(schema) + ", " + std::to_string(daemons) + " daemon(s) in the team"};
}

}  // namespace

int run_doctor(Context& ctx) {
  std::vector<Check> checks;
  const fs::path dir = ctx.socket_dir();
  checks.push_back(check_socket_dir(dir));

  bool reachable = false;
  try {
    ctx.call(ctl_protocol::kPing, Json::object(), 10);
    reachable = true;
    checks.push_back(
        {"daemon on ctl.sock", State::kOk, (dir / paths::kCtlSocket).string() + " answers"});
  } catch (const CtlError& e) {
    checks.push_back({"daemon on ctl.sock", State::kFail, e.what()});
  }
  checks.push_back(check_mcp_socket(dir));

  if (reachable) {
    Json version;
    try {
      version = ctx.call(ctl_protocol::kVersion, Json::object(), 10);
      const std::string v = version.value("version", "?");
      if (v == CB_VERSION) {
        checks.push_back({"version", State::kOk, "daemon and claude-bridgectl are both " + v});
      } else {
        checks.push_back({"version", State::kFail,
                          "daemon " + v + ", claude-bridgectl " + CB_VERSION +
                              " — restart the daemon after an upgrade"});
      }
    } catch (const CtlError& e) {
      checks.push_back({"version", State::kFail, e.what()});
    }
    try {
      const Json r = ctx.call(ctl_protocol::kIntegrity, Json::object(), 600);
      if (r.value("backend", "sqlite") == "postgresql") checks.push_back(check_team_store(r));
      if (r.value("ok", false)) {
        checks.push_back({"database integrity", State::kOk,
                          r.value("database", "") + " passes integrity_check (schema " +
                              std::to_string(r.value("schema_version", 0)) + ")"});
      } else {
        checks.push_back({"database integrity", State::kFail,
                          r.value("database", "") + ": " + r.value("result", "") +
                              " — stop the daemon and restore a backup"});
      }
    } catch (const CtlError& e) {
      checks.push_back({"database integrity", State::kFail, e.what()});
    }
    checks.push_back(check_server_key(version.value("paths", Json())));
  } else {
    for (const char* name : {"version", "database integrity", "server key"}) {
      checks.push_back({name, State::kSkipped, "not checked: the daemon is not reachable"});
    }
  }
  checks.push_back(check_systemd());
  checks.push_back(check_shim_on_path());
  for (auto& c : check_clients()) checks.push_back(std::move(c));
  for (auto& c : check_hooks()) checks.push_back(std::move(c));

  bool all_ok = true;
  for (const auto& c : checks) all_ok = all_ok && c.state != State::kFail;
  if (ctx.json) {
    Json list = Json::array();
    for (const auto& c : checks) {
      Json one{{"check", c.name},
               {"status", c.state == State::kOk     ? "ok"
                          : c.state == State::kFail ? "fail"
                                                    : "skipped"},
               {"detail", c.detail}};
      if (!c.extra.is_null()) one["hooks"] = c.extra;
      list.push_back(one);
    }
    print_json(Json{{"ok", all_ok}, {"checks", list}});
  } else {
    const Style& s = ctx.out;
    for (const auto& c : checks) {
      std::string mark;
      switch (c.state) {
        case State::kOk:
          mark = paint(s, sgr::kGreen, s.unicode ? "✓" : "[ok]  ");
          break;
        case State::kFail:
          mark = paint(s, sgr::kRed, s.unicode ? "✗" : "[FAIL]");
          break;
        case State::kSkipped:
          mark = paint(s, sgr::kDim, s.unicode ? "–" : "[--]  ");
          break;
      }
      std::printf("%s %s: %s\n", mark.c_str(), c.name.c_str(), visible(c.detail).c_str());
    }
  }
  return all_ok ? exit_code::kOk : exit_code::kFailure;
}

}  // namespace cb::ctl
