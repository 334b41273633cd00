// approvals, approve ID, deny ID: the person's side of command execution (YOLO_MODE.md).
//
// `approve` is the one step of the confirmation flow that an agent must not be able to take.
// It insists on a person at a terminal: stdin must be a TTY and the process must have a
// controlling terminal; it shows the exact argv and asks on /dev/tty, after discarding anything
// typed ahead. An agent's non-interactive shell (pipes, no TTY) is refused before anything is
// decided. `deny` needs no terminal: refusing is always safe.
#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "common/ctl_protocol.h"
#include "common/exit_codes.h"
#include "common/fd.h"
#include "common/visible.h"
#include "ctl/commands.h"

namespace cb::ctl {
namespace {

// Strings for the person, escaped by cb::visible() (output.h's field()).
std::string str(const Json& j, const char* key, const char* fallback = "-") {
  return field(j, key, fallback);
}

// One argument as a person should read it and as bash would read it back: bare when it is
// plain, in '...' otherwise, and as $'...' when it holds anything cb::visible() escapes
// (control and format characters, invalid UTF-8). What the person approves looks exactly like
// what runs: a right-to-left override or a zero-width space shows as \u202E / \u200B.
std::string quote_arg(std::string_view s) {
  static constexpr std::string_view kPlain =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@%+=:,./-";
  if (!s.empty() && s.find_first_not_of(kPlain) == std::string_view::npos) return std::string(s);
  if (!is_visible(s)) return "$'" + visible(s, Visible::kShellQuoted) + "'";
  std::string out = "'";
  for (char ch : s) {
    if (ch == '\'') {
      out += "'\\''";
    } else {
      out.push_back(ch);
    }
  }
  return out + "'";
}

std::string command_text(const Json& approval) {
  std::string out;
  for (const Json& a : approval.value("argv", Json::array())) {
    if (!out.empty()) out += ' ';
    out += quote_arg(a.is_string() ? a.get<std::string>() : a.dump());
  }
  return out;
}

Json find_approval(Context& ctx, const std::string& id) {
  Json r = ctx.call(ctl_protocol::kApprovals);
  for (const Json& a : r.value("approvals", Json::array())) {
    if (a.value("id", "") == id) return a;
  }
  throw CtlError(exit_code::kFailure, "no pending approval " + id +
                                          " (it was decided, withdrawn by the requester or "
                                          "expired) — see: claude-bridgectl approvals");
}

int run_list(Context& ctx) {
  Json r = ctx.call(ctl_protocol::kApprovals);
  if (ctx.json) {
    print_json(r);
    return exit_code::kOk;
  }
  const Json list = r.value("approvals", Json::array());
  if (list.empty()) {
    std::printf("No commands are waiting for approval.\n");
    return exit_code::kOk;
  }
  Table t({"ID", "CONVERSATION", "SESSION", "MODE", "WORKSPACE", "EXPIRES", "COMMAND"});
  for (const Json& a : list) {
    t.add({{str(a, "id"), sgr::kCyan},
           {str(a, "conversation_id")},
           {str(a, "session_id") + " (" + cut(str(a, "role"), 24, ctx.out) + ")"},
           {str(a, "mode"), str(a, "mode") == "safe" ? nullptr : sgr::kYellow},
           {quote_arg(raw_field(a, "workspace"))},
           {short_time(a["expires_at"])},
           {cut(command_text(a), 80, ctx.out)}});
  }
  t.print(stdout, ctx.out);
  std::printf("\nLook at one and decide: claude-bridgectl approve ID (asks on this terminal); "
              "refuse: claude-bridgectl deny ID\n");
  return exit_code::kOk;
}

// The controlling terminal, open for the question; throws unless a person can be at it.
UniqueFd person_terminal() {
  const std::string why =
      "approve needs a person at a terminal, so nothing was approved: ";
  if (::isatty(0) != 1) {
    throw CtlError(exit_code::kFailure,
                   why + "stdin is not a terminal (an agent's shell cannot approve; run it "
                         "yourself in a terminal, or refuse with: claude-bridgectl deny ID)");
  }
  UniqueFd tty(::open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY));
  if (!tty) {
    throw CtlError(exit_code::kFailure,
                   why + "there is no controlling terminal (/dev/tty: " + std::strerror(errno) +
                       ")");
  }
  return tty;
}

void tty_write(int fd, const std::string& text) {
  std::size_t off = 0;
  while (off < text.size()) {
    const ssize_t n = ::write(fd, text.data() + off, text.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw CtlError(exit_code::kFailure, "cannot write to the terminal; nothing was approved");
    off += static_cast<std::size_t>(n);
  }
}

// One line typed on the terminal (without its newline); empty at end of input.
std::string tty_read_line(int fd) {
  std::string line;
  char c = 0;
  for (;;) {
    const ssize_t n = ::read(fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || c == '\n' || c == '\r') break;
    if (line.size() < 64) line.push_back(c);
  }
  return line;
}

bool is_yes(std::string answer) {
  while (!answer.empty() && (answer.back() == ' ' || answer.back() == '\t')) answer.pop_back();
  std::size_t start = answer.find_first_not_of(" \t");
  answer = start == std::string::npos ? "" : answer.substr(start);
  for (char& c : answer) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return answer == "y" || answer == "yes";
}

std::string request_text(const Json& a) {
  const std::string mode = str(a, "mode");
  std::string t;
  t += "Command execution request " + str(a, "id") + "\n";
  t += "  from:       session " + str(a, "session_id") + " (" + quote_arg(raw_field(a, "role")) +
       ") of " + str(a, "conversation_id") + "\n";
  t += "  workspace:  " + quote_arg(raw_field(a, "workspace")) +
       (mode == "safe" ? " (read-only)" : " (writable)") + "\n";
  t += "  mode:       " + mode + "\n";
  t += "  sandbox:    yes (bubblewrap, no shell)\n";
  t += std::string("  network:    ") + (a.value("allow_network", false) ? "ALLOWED" : "off") + "\n";
  t += "  timeout:    " + str(a, "timeout_seconds") + " s\n";
  t += "  client dialog: " +
       std::string(str(a, "client_confirmation") == "accepted"
                       ? "accepted in the agent's client (a hook can do that: not proof)"
                       : "not asked") +
       "\n";
  t += "  expires:    " + short_time(a["expires_at"]) + "\n";
  t += "  argv, one argument per line, exactly as it will be executed:\n";
  std::size_t i = 0;
  for (const Json& arg : a.value("argv", Json::array())) {
    t += "    [" + std::to_string(i++) + "] " +
         quote_arg(arg.is_string() ? arg.get<std::string>() : arg.dump()) + "\n";
  }
  return t;
}

int run_approve(Context& ctx, const std::string& id) {
  // The terminal first: without a person nothing is even looked up.
  UniqueFd tty = person_terminal();
  const Json a = find_approval(ctx, id);
  tty_write(tty.get(), request_text(a));
  // Whatever was typed (or injected) before the question is not an answer to it.
  ::tcflush(tty.get(), TCIFLUSH);
  tty_write(tty.get(), "Run this? [y/N] ");
  const bool yes = is_yes(tty_read_line(tty.get()));
  Json params{{"id", id}, {"decision", yes ? "approve" : "deny"}, {"argv", a["argv"]}};
  Json r = ctx.call(ctl_protocol::kApprovalDecide, params);
  if (ctx.json) print_json(r);
  if (yes) {
    if (!ctx.json) {
      std::printf(
          "%s approved %s: it runs now; the result goes to the requesting session and "
          "its partner.\n",
          paint(ctx.out, sgr::kGreen, ctx.out.unicode ? "✓" : "OK").c_str(), visible(id).c_str());
    }
    return exit_code::kOk;
  }
  if (!ctx.json) {
    std::printf("Denied %s: nothing runs; the requesting session is told.\n", visible(id).c_str());
  }
  return exit_code::kFailure;
}

int run_deny(Context& ctx, const std::string& id) {
  Json r = ctx.call(ctl_protocol::kApprovalDecide, Json{{"id", id}, {"decision", "deny"}});
  if (ctx.json) {
    print_json(r);
  } else {
    std::printf("Denied %s (%s): nothing runs; the requesting session is told.\n",
                visible(id).c_str(), cut(str(r, "command"), 80, ctx.out).c_str());
  }
  return exit_code::kOk;
}

}  // namespace

void add_approval_commands(CLI::App& app, Context& ctx, std::vector<Command>& out) {
  auto* list = app.add_subcommand(
      "approvals", "Commands agents asked to run (execute_command), waiting for a person");
  out.push_back({list, [&ctx] { return run_list(ctx); }});

  auto approve_id = std::make_shared<std::string>();
  auto* approve = app.add_subcommand(
      "approve",
      "Show a waiting command exactly (argv, workspace, mode, sandbox, network, timeout) and ask "
      "on this terminal whether to run it; refuses without a terminal");
  approve->add_option("ID", *approve_id, "Approval id (apr_ + 8 hex), from: claude-bridgectl approvals")
      ->required();
  out.push_back({approve, [&ctx, approve_id] { return run_approve(ctx, *approve_id); }});

  auto deny_id = std::make_shared<std::string>();
  auto* deny = app.add_subcommand("deny", "Refuse a waiting command; nothing runs");
  deny->add_option("ID", *deny_id, "Approval id (apr_ + 8 hex)")->required();
  out.push_back({deny, [&ctx, deny_id] { return run_deny(ctx, *deny_id); }});
}

}  // namespace cb::ctl
