// claude-bridgectl setup claude-code|codex|gemini: registers the shim and the bridge's hooks in
// that client's own settings files, and with --remove takes exactly those out again
// (docs/cli.md, "setup").
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "common/exit_codes.h"
#include "common/paths.h"
#include "common/visible.h"
#include "ctl/commands.h"
#include "ctl/setup.h"

namespace cb::ctl {
namespace fs = std::filesystem;
namespace {

using setup::ClientKind;
using setup::Plan;
using setup::Target;

struct Options {
  std::string client;
  bool user = false;
  std::string project;
  std::string name;
  bool dry_run = false;
  bool remove = false;
  bool no_hooks = false;
};

// The file's bytes; nullopt when there is no such file.
std::optional<std::string> read_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return std::nullopt;
    throw CtlError(exit_code::kFailure, "cannot read " + file.string() + ": " +
                                            std::strerror(errno) + " — nothing was changed");
  }
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Writes `bytes` to a temporary file beside `file` and renames it over `file`, so a reader sees
// the old file or the new one, never half of one. The file keeps its mode (a new one is 0600);
// a symlink (dotfiles kept elsewhere) is followed, not replaced.
void write_atomic(fs::path file, const std::string& bytes) {
  std::error_code ec;
  if (fs::is_symlink(file, ec)) file = fs::canonical(file, ec);
  mode_t mode = 0600;
  struct stat st {};
  if (::stat(file.c_str(), &st) == 0) mode = st.st_mode & 07777;
  const fs::path dir = file.parent_path();
  if (!fs::exists(dir, ec)) {
    fs::create_directories(dir, ec);
    if (ec) {
      throw CtlError(exit_code::kFailure, "cannot create " + dir.string() + ": " + ec.message() +
                                              " — nothing was changed");
    }
    fs::permissions(dir, fs::perms::owner_all, ec);
  }
  const fs::path tmp =
      dir / ("." + file.filename().string() + ".claude-bridgectl-" + std::to_string(::getpid()));
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  auto fail = [&](const std::string& what) {
    const std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    throw CtlError(exit_code::kFailure,
                   "cannot " + what + " " + tmp.string() + ": " + why + " — nothing was changed");
  };
  if (fd < 0) fail("create");
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      fail("write");
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fchmod(fd, mode) != 0 || ::fsync(fd) != 0) {
    ::close(fd);
    fail("sync");
  }
  ::close(fd);
  if (::rename(tmp.c_str(), file.c_str()) != 0) fail("rename");
}

// Deletes a file that held nothing but the bridge's entry, and the client's directory
// (.codex, .gemini) when that leaves it empty.
void delete_file(fs::path file) {
  std::error_code ec;
  if (fs::is_symlink(file, ec)) file = fs::canonical(file, ec);
  if (::unlink(file.c_str()) != 0) {
    throw CtlError(exit_code::kFailure,
                   "cannot delete " + file.string() + ": " + std::strerror(errno));
  }
  const fs::path dir = file.parent_path();
  if (dir.filename() == ".codex" || dir.filename() == ".gemini" || dir.filename() == ".claude") {
    ::rmdir(dir.c_str());
  }
}

// The hooks' half of a run: the file, its bytes before, and the plan for it.
struct HookPart {
  setup::HookTarget target;
  std::optional<std::string> before;
  Plan plan;
  bool same_file = false;  // Gemini CLI: the server's settings.json, edited after the server
};

bool changes(const Plan& p) {
  return p.action != Plan::Action::kUnchanged && p.action != Plan::Action::kAbsent;
}

// The bytes a file holds after `plan` (nullopt: deleted), from `before`.
std::optional<std::string> after_of(const Plan& plan, const std::optional<std::string>& before) {
  if (!changes(plan)) return before;
  if (plan.delete_file) return std::nullopt;
  return plan.after;
}

void apply(const fs::path& file, const std::optional<std::string>& before,
           const std::optional<std::string>& after) {
  if (after == before) return;
  if (after) {
    write_atomic(file, *after);
  } else {
    delete_file(file);
  }
}

// The arguments that make the hook reach the daemon this claude-bridgectl talks to: --socket-dir
// when it is not the default (the hook never starts a daemon, so the state directory and config
// do not matter to it).
std::vector<std::string> hook_socket_args(Context& ctx) {
  const fs::path dir = ctx.socket_dir();
  if (dir.lexically_normal() == paths::default_socket_dir().lexically_normal()) return {};
  return {"--socket-dir", dir.string()};
}

// The claude-bridge-hook of this installation, by absolute path: beside this claude-bridgectl
// (installed, and in a build tree, where both are in ctl/), else the first on PATH.
fs::path find_hook() {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const fs::path beside = self.parent_path() / setup::kHookName;
    if (executable_file(beside)) return fs::weakly_canonical(beside, ec);
  }
  if (auto on_path = find_on_path(setup::kHookName)) return fs::absolute(*on_path, ec);
  throw CtlError(exit_code::kFailure,
                 "cannot find claude-bridge-hook beside claude-bridgectl or on PATH — install "
                 "claude-bridge or build it (meson compile -C build), or run setup with "
                 "--no-hooks; nothing was changed");
}

std::string scope_text(const Target& t) {
  return t.user ? std::string("user scope") : "project " + t.project.string();
}

// The client's own listing, run where that client would look for this scope's entry: the
// bridge's line, and whether it says the bridge works.
struct CheckResult {
  bool ran = false;
  bool ok = false;
  std::string line;  // the client's line about the bridge, or why there is none
};

CheckResult client_check(const Target& t) {
  CheckResult r;
  const std::string program = setup::client_program(t.client);
  const auto path = find_on_path(program);
  if (!path) {
    r.line = program + " is not on PATH; not checked";
    return r;
  }
  r.ran = true;
  std::error_code ec;
  const fs::path cwd = t.user ? fs::current_path(ec) : t.project;
  const Captured c = run_capture({path->string(), "mcp", "list"}, 180000, cwd);
  std::istringstream lines(c.output);
  std::string line;
  const std::string name = setup::kServerName;
  while (std::getline(lines, line)) {
    // claude: "bridge: CMD - ✔ Connected"; gemini: "✓ bridge: CMD (stdio) - Connected";
    // codex: a table row "bridge  CMD  ARGS ... enabled".
    const bool mine = line.rfind(name + ":", 0) == 0 ||
                      line.find(" " + name + ": ") != std::string::npos ||
                      (t.client == ClientKind::kCodex && line.rfind(name + " ", 0) == 0);
    if (!mine) continue;
    r.line = line;
    switch (t.client) {
      case ClientKind::kClaudeCode:
        r.ok =
            line.find("Connected") != std::string::npos && line.find("Failed") == std::string::npos;
        break;
      case ClientKind::kCodex:
        r.ok = line.find("enabled") != std::string::npos;
        break;
      case ClientKind::kGemini:
        // "Disabled" in an untrusted folder: the entry is right, the folder is not trusted yet.
        r.ok = line.find("Disconnected") == std::string::npos;
        break;
    }
    return r;
  }
  r.line = "`" + program + " mcp list` (exit " + std::to_string(c.status) + ") does not list \"" +
           name + "\"";
  return r;
}

std::string action_text(Plan::Action a, bool dry_run) {
  switch (a) {
    case Plan::Action::kAdd:
      return dry_run ? "would add" : "added";
    case Plan::Action::kUpdate:
      return dry_run ? "would update" : "updated";
    case Plan::Action::kRemove:
      return dry_run ? "would remove" : "removed";
    case Plan::Action::kUnchanged:
      return "unchanged";
    case Plan::Action::kAbsent:
      return "absent";
  }
  return "?";
}

std::string indent(const std::string& text) {
  std::string out;
  std::istringstream in(text);
  std::string line;
  // Each line is made visible on its own: the entry's line breaks are its layout.
  while (std::getline(in, line)) out += line.empty() ? "\n" : "    " + visible(line) + "\n";
  return out;
}

Json hooks_json(const HookPart& h, const Options& o) {
  Json j{{"file", h.target.file.string()},
         {"action", action_text(h.plan.action, false)},
         {"entries", Json::array()}};
  for (const auto& line : h.plan.hooks) {
    Json e{{"event", line.event}, {"command", line.command}};
    if (line.async_rewake) e["async_rewake"] = true;
    j["entries"].push_back(e);
  }
  if (h.plan.delete_file) j["deletes_file"] = true;
  if (o.no_hooks) j["no_hooks"] = true;
  return j;
}

void print_hooks(const std::string& head, const HookPart& h, const Options& o) {
  const char* file = h.target.file.c_str();
  switch (h.plan.action) {
    case Plan::Action::kUnchanged:
      std::printf("%s%s already has the bridge's hooks as setup writes them; nothing changed\n",
                  head.c_str(), file);
      break;
    case Plan::Action::kAbsent:
      std::printf("%s%s has no bridge hooks; nothing changed%s\n", head.c_str(), file,
                  o.no_hooks ? " (--no-hooks: the agent is not told of new mail)" : "");
      break;
    default:
      std::printf("%s%s the bridge's hooks %s %s%s:\n%s", head.c_str(),
                  action_text(h.plan.action, o.dry_run).c_str(),
                  h.plan.action == Plan::Action::kRemove ? "from" : "in", file,
                  h.plan.delete_file ? (o.dry_run ? ", deleting the file they alone held"
                                                  : ", and deleted the file they alone held")
                                     : "",
                  indent(h.plan.entry_text).c_str());
  }
}

int run_setup(Context& ctx, const Options& o) {
  const auto client = setup::parse_client(o.client);
  if (!client) {
    throw CtlError(exit_code::kUsage,
                   "unknown client \"" + o.client + "\" — use claude-code, codex or gemini");
  }
  if (o.user && !o.project.empty()) {
    throw CtlError(exit_code::kUsage, "--user and --project are the two scopes: give one");
  }
  if (o.remove && o.no_hooks) {
    throw CtlError(exit_code::kUsage,
                   "--remove takes out the server and the hooks; to take out only the hooks, "
                   "run setup again with --no-hooks (without --remove)");
  }
  std::error_code ec;
  fs::path project = o.project.empty() ? fs::current_path(ec) : fs::path(o.project);
  if (!o.user) {
    project = fs::weakly_canonical(fs::absolute(project, ec), ec);
    if (!fs::is_directory(project, ec)) {
      throw CtlError(exit_code::kUsage, "--project " + project.string() + " is not a directory");
    }
  }
  const Target t = setup::target_for(*client, o.user, project);

  std::optional<setup::Spec> want;
  if (!o.remove) {
    const auto shim = find_shim();
    if (!shim) {
      throw CtlError(exit_code::kFailure,
                     "cannot find claude-bridge-shim beside claude-bridgectl, in ../shim/ or on "
                     "PATH — install claude-bridge or build it (meson compile -C build)");
    }
    want = setup::Spec{shim->string(), shim_args(ctx), o.name};
  }
  const std::optional<std::string> before = read_file(t.file);
  auto planned = t.toml ? setup::plan_toml(t, before, want) : setup::plan_json(t, before, want);
  if (!planned) throw CtlError(exit_code::kFailure, planned.status().message());
  const Plan& plan = planned.value();

  // The hooks: planned on the file as the server's edit leaves it when both live in one file,
  // and all planned before anything is written, so a refusal changes nothing.
  std::optional<setup::HookWant> hook_want;
  if (!o.remove && !o.no_hooks) {
    hook_want = setup::HookWant{find_hook().string(), hook_socket_args(ctx)};
  }
  HookPart hooks;
  hooks.target = setup::hook_target_for(*client, o.user, project);
  hooks.same_file = hooks.target.file == t.file;
  hooks.before = hooks.same_file ? after_of(plan, before) : read_file(hooks.target.file);
  auto hook_planned = setup::plan_hooks(hooks.target, hooks.before, hook_want);
  if (!hook_planned) throw CtlError(exit_code::kFailure, hook_planned.status().message());
  hooks.plan = std::move(hook_planned.value());

  if (!o.dry_run) {
    if (hooks.same_file) {
      apply(t.file, before, after_of(hooks.plan, hooks.before));
    } else {
      apply(t.file, before, after_of(plan, before));
      apply(hooks.target.file, hooks.before, after_of(hooks.plan, hooks.before));
    }
  }
  const std::string where = setup::key_path(t.container);
  CheckResult check;
  if (!o.remove && !o.dry_run) check = client_check(t);

  std::vector<std::string> notes;
  if (!plan.note.empty() && changes(plan)) notes.push_back(plan.note);
  if (!hooks.plan.note.empty() && changes(hooks.plan)) notes.push_back(hooks.plan.note);
  if (hook_want && *client == ClientKind::kCodex) {
    notes.push_back(
        "Codex runs hooks only once you have reviewed and trusted them: start codex, type "
        "/hooks and trust the bridge's three (Codex warns at start-up while hooks await review)");
  }
  if (hook_want && *client == ClientKind::kGemini && !o.user) {
    notes.push_back("Gemini CLI shows a project's hooks in a warning the first time it runs them");
  }
  if (!o.remove && *client == ClientKind::kCodex && !t.user) {
    notes.push_back("Codex reads " + t.file.string() +
                    " only once you trust the project (Codex asks when it starts there)");
  }
  if (!o.remove && *client == ClientKind::kGemini) {
    notes.push_back(
        "Gemini CLI starts MCP servers and runs hooks only in folders you trust (it asks when "
        "it starts in one)");
  }

  if (ctx.json) {
    Json j{{"client", setup::client_name(*client)},
           {"scope", t.user ? "user" : "project"},
           {"file", t.file.string()},
           {"key", where + "." + setup::kServerName},
           {"action", action_text(plan.action, false)},
           {"dry_run", o.dry_run},
           {"entry", plan.entry_text},
           {"hooks", hooks_json(hooks, o)},
           {"notes", notes}};
    if (!t.user) j["project"] = t.project.string();
    if (check.ran) j["check"] = Json{{"ok", check.ok}, {"line", check.line}};
    print_json(j);
  } else {
    const std::string head = setup::client_name(*client) + " (" + scope_text(t) + "): ";
    const std::string entry = "MCP server \"" + std::string(setup::kServerName) + "\"";
    switch (plan.action) {
      case Plan::Action::kUnchanged:
        std::printf("%s%s already has %s as setup writes it at %s; nothing changed\n", head.c_str(),
                    t.file.c_str(), entry.c_str(), where.c_str());
        break;
      case Plan::Action::kAbsent:
        std::printf("%s%s has no %s at %s; nothing changed\n", head.c_str(), t.file.c_str(),
                    entry.c_str(), where.c_str());
        break;
      default:
        std::printf("%s%s %s %s %s (%s)%s:\n%s", head.c_str(),
                    action_text(plan.action, o.dry_run).c_str(), entry.c_str(),
                    plan.action == Plan::Action::kRemove ? "from" : "in", t.file.c_str(),
                    where.c_str(),
                    plan.delete_file ? (o.dry_run ? ", deleting the file it alone held"
                                                  : ", and deleted the file it alone held")
                                     : "",
                    indent(plan.entry_text).c_str());
    }
    print_hooks(head, hooks, o);
    for (const auto& n : notes) std::printf("note: %s\n", visible(n).c_str());
    if (o.dry_run) std::printf("dry run: nothing was written\n");
    if (!o.remove && !o.dry_run) {
      std::printf("check: %s\n", visible(check.line).c_str());
    }
  }
  if (check.ran && !check.ok) {
    // The shim says in one line why it cannot reach (or start) the daemon.
    std::string by_hand = want->command;
    for (const auto& a : want->args) by_hand += " " + a;
    throw CtlError(exit_code::kFailure,
                   "the entry is in " + t.file.string() + ", but `" +
                       setup::client_program(*client) +
                       " mcp list` does not show the bridge working (its line is above) — to see "
                       "why, run: " +
                       by_hand + " < /dev/null");
  }
  return exit_code::kOk;
}

std::string check_name(const std::string& v) {
  if (v.empty() || v.size() > 64) return "NAME must be 1..64 characters";
  for (char c : v) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
          c == '_' || c == '.')) {
      return "NAME may hold letters, digits, '.', '-' and '_' only";
    }
  }
  return {};
}

}  // namespace

void add_setup_commands(CLI::App& app, Context& ctx, std::vector<Command>& out) {
  auto o = std::make_shared<Options>();
  auto* setup = app.add_subcommand(
      "setup",
      "Register the bridge with Claude Code, Codex or Gemini CLI in that client's own settings "
      "(no daemon needed)");
  setup->add_option("client", o->client, "claude-code, codex or gemini")
      ->required()
      ->check(CLI::IsMember({"claude-code", "codex", "gemini"}));
  // --user and --project exclude each other; run_setup says so (CLI11's "Excludes:" note
  // would clutter --help).
  setup->add_flag("--user", o->user, "For all your projects (the user's settings)");
  setup
      ->add_option("--project", o->project,
                   "For the project in DIR (default: the current directory's)")
      ->type_name("DIR");
  setup
      ->add_option("--name", o->name,
                   "The agent's name: sets CLAUDE_BRIDGE_AGENT in the entry's environment")
      ->check([](const std::string& v) { return check_name(v); });
  setup->add_flag("--dry-run", o->dry_run, "Print the change and write nothing");
  setup->add_flag("--remove", o->remove, "Take the bridge's entry and hooks out again");
  setup->add_flag("--no-hooks", o->no_hooks,
                  "Register the MCP server only, taking out the bridge's hooks if present (no "
                  "notices of new mail, no wake)");
  out.push_back({setup, [&ctx, o] { return run_setup(ctx, *o); }});
}

}  // namespace cb::ctl
