// Rules for the programs other than git: file tools, interpreters, package managers, and the
// wrappers that run another command (judged only in yolo mode; the other modes do not allow
// them at all).

#include <algorithm>
#include <array>
#include <string>

#include "daemon/exec/policy_rules.h"

namespace cb::exec::rules {
namespace {

bool is_deleter(std::string_view program) {
  const std::string_view name = program.substr(program.rfind('/') + 1);
  return name == "rm" || name == "rmdir" || name == "unlink" || name == "shred";
}

// The first operand, i.e. the subcommand of npm/cargo/pip; "" if none.
std::string_view first_operand(Args args) {
  const auto ops = operands(args);
  return ops.empty() ? std::string_view() : ops[0];
}

// find's expression starts at the first argument beginning with - ( or !; before it come the
// start points (default ".").
std::vector<std::string_view> find_start_points(Args args) {
  std::vector<std::string_view> points;
  for (const std::string& arg : args) {
    if (arg.starts_with('-') || arg == "(" || arg == "!") break;
    points.emplace_back(arg);
  }
  if (points.empty()) points.emplace_back(".");
  return points;
}

constexpr std::array<std::string_view, 4> kFindExec = {"-exec", "-execdir", "-ok", "-okdir"};

}  // namespace

std::string check_find(const Invocation& inv) {
  if (inv.mode != Mode::kYolo) {
    if (has_word(inv.args, {"-delete"})) {
      return refused(inv) +
             "find -delete deletes files; use find to list them, then delete specific files "
             "with rm" +
             (inv.mode == Mode::kSafe ? " in restricted mode" : "");
    }
    if (has_word(inv.args, {"-exec", "-execdir", "-ok", "-okdir"})) {
      return refused(inv) +
             "find -exec/-execdir/-ok runs other programs the policy cannot judge; list the "
             "files with find and run the program on them in a separate call";
    }
    if (inv.mode == Mode::kSafe &&
        has_word(inv.args, {"-fprint", "-fprint0", "-fprintf", "-fls"})) {
      return refused(inv) +
             "find -fprint/-fprintf/-fls writes a file; the output is returned to you anyway, "
             "use -print/-printf/-ls";
    }
    return {};
  }
  // yolo: judge what find deletes or runs.
  bool deletes = has_word(inv.args, {"-delete"});
  for (std::size_t i = 0; i < inv.args.size(); ++i) {
    if (std::find(kFindExec.begin(), kFindExec.end(), inv.args[i]) == kFindExec.end()) continue;
    std::size_t end = i + 1;
    while (end < inv.args.size() && inv.args[end] != ";" && inv.args[end] != "+") ++end;
    const Args inner = inv.args.subspan(i + 1, end - i - 1);
    if (!inner.empty() && is_deleter(inner[0])) deletes = true;
    if (auto e = check_nested(inv.mode, inner, inv.ctx, inv.depth + 1); !e.empty()) return e;
    i = end;
  }
  if (!deletes) return {};
  return check_delete_targets(inv, find_start_points(inv.args), "find deleting under",
                              /*allow_workspace=*/true);
}

std::string check_rm(const Invocation& inv) {
  if (has_option(inv.args, {"--no-preserve-root"})) {
    return refused(inv) + std::string(inv.name) +
           " --no-preserve-root is never allowed; name files inside the workspace";
  }
  if (inv.name == "rm" && inv.mode != Mode::kYolo && has_option(inv.args, {"--recursive"}, "rR")) {
    return refused(inv) +
           "rm -r deletes whole trees; delete specific files with rm (without -r), empty "
           "directories with rmdir, or ask for yolo mode";
  }
  const auto targets = operands(inv.args);
  return check_delete_targets(inv, targets, inv.name);
}

namespace {

// Python modules that are tools with a rule of their own, or that run code given as arguments.
std::string check_python_module(const Invocation& inv, std::string_view module, Args rest) {
  if (module == "timeit") {
    return refuse_kind(inv, Kind::kInline,
                       std::string(inv.name) + " -m timeit (its statements are code)");
  }
  if (module == "pdb" && has_option(rest, {"--command"}, "c")) {
    return refuse_kind(inv, Kind::kInline,
                       std::string(inv.name) + " -m pdb -c (debugger commands run code)");
  }
  if (module == "pip") {
    const Invocation pip{inv.mode, "pip", rest, inv.ctx, inv.depth + 1};
    return check_pip(pip);
  }
  return {};
}

}  // namespace

std::string check_python(const Invocation& inv) {
  if (inv.mode == Mode::kYolo) return {};
  for (std::size_t i = 0; i < inv.args.size(); ++i) {
    const std::string& arg = inv.args[i];
    if (arg == "-" || !arg.starts_with('-')) return {};  // the script (or stdin, /dev/null)
    if (arg == "--") return {};
    if (arg.starts_with("--")) {
      if (arg == "--check-hash-based-pycs") ++i;
      continue;
    }
    for (std::size_t k = 1; k < arg.size(); ++k) {
      const char c = arg[k];
      if (c == 'c') {
        return refused(inv) + std::string(inv.name) +
               " -c runs inline code the policy cannot judge; write the code to a file in the "
               "workspace and run python3 FILE, or use python3 -m MODULE";
      }
      if (c == 'm') {  // -m MODULE: the rest belongs to the module
        const bool glued = k + 1 < arg.size();
        const std::string module = glued                     ? arg.substr(k + 1)
                                   : i + 1 < inv.args.size() ? inv.args[i + 1]
                                                             : std::string();
        const Args rest = inv.args.subspan(std::min(inv.args.size(), i + (glued ? 1 : 2)));
        return check_python_module(inv, module, rest);
      }
      if (c == 'W' || c == 'X') {
        if (k + 1 == arg.size()) ++i;  // the value is the next argument
        break;
      }
    }
  }
  return {};
}

namespace {

// node options known to take no value. Any other option written without "=value" is assumed
// to take the next argument, so the scan for -e goes on past it (over-refusing, never missing).
// clang-format off
constexpr auto kNodeFlags = std::to_array<std::string_view>({
    "--inspect", "--inspect-brk", "--trace-warnings", "--enable-source-maps", "--no-warnings",
    "--expose-gc", "--test", "--watch", "-c", "--check", "-i", "--interactive",
    "--no-deprecation", "--throw-deprecation", "--trace-deprecation", "--preserve-symlinks",
    "--experimental-vm-modules", "--abort-on-uncaught-exception", "--trace-uncaught", "--prof",
    "--cpu-prof", "--heap-prof"});
// clang-format on

// Loaders given as data: URLs are inline code too.
constexpr std::array<std::string_view, 3> kNodeLoaders = {"--import", "--loader",
                                                          "--experimental-loader"};

}  // namespace

std::string check_node(const Invocation& inv) {
  if (inv.mode == Mode::kYolo) return {};
  bool maybe_value = false;
  for (std::size_t i = 0; i < inv.args.size(); ++i) {
    const std::string& arg = inv.args[i];
    if (arg == "--") return {};
    if (!arg.starts_with('-')) {
      if (!maybe_value) return {};  // the script; the rest is its argv
      maybe_value = false;
      if (arg.starts_with("data:") && i > 0 &&
          std::find(kNodeLoaders.begin(), kNodeLoaders.end(), inv.args[i - 1]) !=
              kNodeLoaders.end()) {
        return refuse_kind(inv, Kind::kInline, "node " + inv.args[i - 1] + " data:");
      }
      continue;
    }
    const bool inline_code =
        arg == "--eval" || arg.starts_with("--eval=") || arg == "--print" ||
        arg.starts_with("--print=") ||
        (!arg.starts_with("--") && arg.find_first_of("ep", 1) != std::string::npos);
    if (inline_code) {
      return refused(inv) +
             "node -e/-p runs inline code the policy cannot judge; write it to a file in the "
             "workspace and run node FILE";
    }
    for (std::string_view loader : kNodeLoaders) {
      if (arg.starts_with(std::string(loader) + "=data:")) {
        return refuse_kind(inv, Kind::kInline, "node " + arg.substr(0, arg.find('=')) + "=data:");
      }
    }
    maybe_value = arg.find('=') == std::string::npos &&
                  std::find(kNodeFlags.begin(), kNodeFlags.end(), arg) == kNodeFlags.end();
  }
  return {};
}

namespace {

// npm options known to take no value (see subcommand_candidates).
// clang-format off
constexpr auto kNpmFlags = std::to_array<std::string_view>({
    "-g", "--global", "-s", "--silent", "-q", "--quiet", "-d", "-dd", "-ddd", "--verbose",
    "--offline", "--prefer-offline", "--prefer-online", "--json", "-y", "--yes", "-f", "--force",
    "--ignore-scripts", "--foreground-scripts", "-ws", "--workspaces", "--include-workspace-root",
    "--dry-run", "-D", "--save-dev", "-S", "--save", "-E", "--save-exact", "--legacy-peer-deps",
    "--strict-peer-deps", "-l", "--long", "-p", "--parseable", "--production", "-v", "--version",
    "-h", "--help"});
// clang-format on

// Subcommands refused in restricted mode (aliases included): publishing and registry
// credentials, running a package or a command named on the command line (exec, x, explore,
// init NAME / create, which run create-NAME), an editor, and configuration writes.
constexpr std::array<std::string_view, 26> kNpmRefused = {
    "publish", "unpublish", "deprecate", "owner",    "author",  "access",   "token",
    "login",   "logout",    "adduser",   "add-user", "profile", "dist-tag", "dist-tags",
    "team",    "org",       "hook",      "exec",     "x",       "explore",  "create",
    "innit",   "edit",      "set",       "star",     "unstar"};

// Exact aliases of allowed subcommands that are also abbreviations of refused ones (npm
// resolves unique abbreviations, so "pub" means publish, but "i" is install).
constexpr std::array<std::string_view, 8> kNpmAllowedShort = {"i", "in", "add", "t",
                                                              "s", "se", "un",  "c"};

constexpr std::array kNpmTriggers = std::to_array<Trigger>({
    {"--script-shell", Form::kLong, Kind::kHook},  // the shell that runs package scripts
    {"--shell", Form::kLong, Kind::kHook},
    {"--editor", Form::kLong, Kind::kHook},
    {"--browser", Form::kLong, Kind::kHook},
    {"--viewer", Form::kLong, Kind::kHook},
    {"--node-options", Form::kLong, Kind::kConfig},
    {"--call", Form::kLong, Kind::kInline},
});

bool npm_refused(std::string_view sub) {
  if (sub.empty()) return false;
  if (std::find(kNpmAllowedShort.begin(), kNpmAllowedShort.end(), sub) != kNpmAllowedShort.end()) {
    return false;
  }
  return std::any_of(kNpmRefused.begin(), kNpmRefused.end(),
                     [&](std::string_view r) { return r.starts_with(sub); });
}

}  // namespace

std::string check_npm(const Invocation& inv) {
  if (inv.mode == Mode::kYolo) return {};
  // Only the subcommand is judged: `npm test -- token` and `npm run exec` run package scripts.
  const auto candidates = subcommand_candidates(inv.args, kNpmFlags);
  for (std::string_view sub : candidates) {
    if (npm_refused(sub)) {
      return refused(inv) + "npm " + std::string(sub) +
             " publishes, changes credentials or configuration, or runs a package or command "
             "named on the command line; use npm test, npm run SCRIPT, npm install, or ask the "
             "human";
    }
    if (sub == "init" || sub == "c" || sub == "config") {
      // npm init NAME runs the package create-NAME; npm config set/edit/delete writes config.
      const auto ops = operands(inv.args);
      const auto at = std::find(ops.begin(), ops.end(), sub);
      const std::string_view next = at + 1 < ops.end() ? *(at + 1) : std::string_view();
      if (sub == "init" && !next.empty()) {
        return refuse_kind(inv, Kind::kRunner,
                           "npm init " + std::string(next) + " (it runs the package create-" +
                               std::string(next) + ")");
      }
      if (sub != "init" && (next == "set" || next == "delete" || next == "edit" || next == "fix" ||
                            next == "rm" || next == "del")) {
        return refuse_kind(inv, Kind::kConfig, "npm config " + std::string(next));
      }
    }
  }
  if (auto e = check_triggers(inv, inv.args, kNpmTriggers); !e.empty()) return e;
  constexpr std::array<std::string_view, 12> kNetwork = {
      "install", "i",        "ci",           "add", "update",          "up",
      "audit",   "outdated", "install-test", "it",  "install-ci-test", "cit"};
  const std::string_view sub = candidates.empty() ? std::string_view() : candidates.back();
  if (!inv.ctx.allow_network &&
      std::find(kNetwork.begin(), kNetwork.end(), sub) != kNetwork.end() &&
      !has_option(inv.args, {"--offline"})) {
    return refused(inv) + "npm " + std::string(sub) +
           " needs the network, which is off for this conversation; add --offline to use the "
           "local cache, or ask the human to enable the network";
  }
  return {};
}

std::string check_cargo(const Invocation& inv) {
  if (inv.mode == Mode::kYolo) return {};
  if (!inv.args.empty() && inv.args[0].starts_with('+')) {  // cargo +TOOLCHAIN ...
    const Invocation rest{inv.mode, inv.name, inv.args.subspan(1), inv.ctx, inv.depth};
    return check_cargo(rest);
  }
  constexpr std::array kCargoTriggers = std::to_array<Trigger>({
      {"-Z", Form::kPrefix, Kind::kUnstable},
  });
  if (auto e = check_triggers(inv, inv.args, kCargoTriggers); !e.empty()) return e;
  // --config takes inline TOML (KEY=VALUE) or a path; inline settings can name the compiler,
  // a wrapper or a runner (build.rustc, build.rustc-wrapper, target.*.runner).
  for (std::string_view value : option_values(inv.args, "--config")) {
    if (value.find('=') != std::string_view::npos) {
      return refuse_kind(inv, Kind::kConfig, "cargo --config " + std::string(value));
    }
  }
  constexpr std::array<std::string_view, 5> kRefused = {"publish", "login", "logout", "owner",
                                                        "yank"};
  constexpr auto kCargoFlags = std::to_array<std::string_view>(
      {"-V", "--version", "--list", "-v", "-vv", "-q", "--quiet", "--verbose", "--frozen",
       "--locked", "--offline", "-h", "--help"});
  const auto candidates = subcommand_candidates(inv.args, kCargoFlags);
  for (std::string_view sub : candidates) {
    if (std::find(kRefused.begin(), kRefused.end(), sub) != kRefused.end()) {
      return refused(inv) + "cargo " + std::string(sub) +
             " publishes or changes registry credentials; ask the human to do it";
    }
  }
  const std::string_view sub = candidates.empty() ? std::string_view() : candidates.back();
  if (sub == "rustc" || sub == "rustdoc") {
    // cargo rustc -- ARGS hands ARGS to rustc (rustdoc's are judged the same way).
    const auto dashes = std::find(inv.args.begin(), inv.args.end(), "--");
    if (dashes != inv.args.end()) {
      const Args passed = inv.args.subspan(static_cast<std::size_t>(dashes - inv.args.begin()) + 1);
      const Invocation rustc{inv.mode, "rustc", passed, inv.ctx, inv.depth + 1};
      if (auto e = check_rustc(rustc); !e.empty()) return e;
    }
  }
  if (!inv.ctx.allow_network && sub == "install" &&
      !has_option(inv.args, {"--offline", "--frozen", "--path"})) {
    return refused(inv) +
           "cargo install needs the network, which is off for this conversation; use "
           "--offline or --path, or ask the human to enable the network";
  }
  return {};
}

std::string check_pip(const Invocation& inv) {
  if (inv.mode == Mode::kYolo) return {};
  constexpr std::array kPipTriggers = std::to_array<Trigger>({
      {"--python", Form::kLong, Kind::kHook},  // runs pip under another interpreter
      {"--editor", Form::kLong, Kind::kHook},
  });
  if (auto e = check_triggers(inv, inv.args, kPipTriggers); !e.empty()) return e;
  const std::string_view sub = first_operand(inv.args);
  if (sub == "config") {
    const auto ops = operands(inv.args);
    const std::string_view action = ops.size() > 1 ? ops[1] : std::string_view();
    if (action == "set" || action == "unset" || action == "edit") {
      return refuse_kind(inv, Kind::kConfig, "pip config " + std::string(action));
    }
  }
  if (!inv.ctx.allow_network && (sub == "install" || sub == "download" || sub == "wheel") &&
      !has_option(inv.args, {"--no-index"})) {
    return refused(inv) + "pip " + std::string(sub) +
           " needs the network, which is off for this conversation; use --no-index with local "
           "files, or ask the human to enable the network";
  }
  return {};
}

std::string check_network_tool(const Invocation& inv) {
  if (!inv.ctx.allow_network) {
    return refused(inv) + std::string(inv.name) +
           " needs the network, which is off for this conversation (the sandbox has no network "
           "interface); ask the human to enable the network";
  }
  if (inv.mode == Mode::kYolo || inv.name != "wget") return {};
  constexpr std::array kWgetTriggers = std::to_array<Trigger>({
      {"--execute", Form::kLong, Kind::kConfig},  // a .wgetrc command, e.g. use_askpass=PROG
      {"-e", Form::kShort, Kind::kConfig},
      {"--use-askpass", Form::kLong, Kind::kHook},
  });
  // wget's short options that take a value (-o FILE, -O FILE, ...).
  return check_triggers(inv, inv.args, kWgetTriggers, "oaOiBtTwQPUlADIXR");
}

std::string check_tar(const Invocation& inv) {
  if (inv.mode == Mode::kYolo) return {};
  const bool old_style_exec = !inv.args.empty() && !inv.args[0].starts_with('-') &&
                              inv.args[0].find_first_of("IF") != std::string::npos;
  // --checkpoint[=N] only prints progress; it would count as an abbreviation of
  // --checkpoint-action.
  std::vector<std::string> args;
  for (const std::string& a : inv.args) {
    if (a != "--checkpoint" && !a.starts_with("--checkpoint=")) args.push_back(a);
  }
  if (old_style_exec ||
      has_option(args,
                 {"--to-command", "--use-compress-program", "--checkpoint-action", "--info-script",
                  "--new-volume-script", "--rsh-command", "--rmt-command"},
                 "IF")) {
    return refused(inv) +
           "tar options that run programs (--to-command, -I/--use-compress-program, "
           "--checkpoint-action, -F/--info-script, --rsh-command) are refused; use -z/-J/-j "
           "for compression";
  }
  return {};
}

std::string check_sort(const Invocation& inv) {
  if (inv.mode == Mode::kYolo) return {};
  if (has_option(inv.args, {"--compress-program"})) {
    return refused(inv) + "sort --compress-program runs another program; drop it";
  }
  if (inv.mode == Mode::kSafe && has_option(inv.args, {"--output"}, "o")) {
    return refused(inv) +
           "sort -o writes a file; the sorted text is returned to you anyway, drop -o";
  }
  return {};
}

std::string check_uniq(const Invocation& inv) {
  if (inv.mode == Mode::kSafe && operands(inv.args).size() > 1) {
    return refused(inv) +
           "uniq INPUT OUTPUT writes the OUTPUT file; give only the input, the result is "
           "returned to you";
  }
  return {};
}

std::string check_tree(const Invocation& inv) {
  if (inv.mode == Mode::kSafe && has_option(inv.args, {}, "o")) {
    return refused(inv) + "tree -o writes a file; drop it, the listing is returned to you";
  }
  return {};
}

std::string check_date(const Invocation& inv) {
  if (inv.mode == Mode::kYolo) return {};
  for (const std::string& arg : inv.args) {
    if (arg.starts_with("-s") || arg == "--set" || arg.starts_with("--set=")) {
      return refused(inv) + "date -s/--set changes the clock; use date to read it";
    }
  }
  return {};
}

std::string check_file(const Invocation& inv) {
  if (inv.mode == Mode::kSafe && has_option(inv.args, {"--compile"}, "C")) {
    return refused(inv) + "file -C writes a compiled magic file; drop it";
  }
  return {};
}

std::string check_rg(const Invocation& inv) {
  if (inv.mode != Mode::kYolo && has_option(inv.args, {"--pre"})) {
    return refused(inv) + "rg --pre runs a preprocessor program on every file; drop it";
  }
  return {};
}

std::string check_shell(const Invocation& inv) {
  // Only yolo gets here: a script file is a program like any other, but inline code would
  // bring back everything the splitter refuses.
  for (const std::string& arg : inv.args) {
    if (arg == "--" || arg == "-" || !arg.starts_with('-')) break;  // the script file
    if (arg.starts_with("--")) continue;
    if (arg.find('c', 1) != std::string::npos) {
      return refused(inv) + std::string(inv.name) +
             " -c runs a shell command line, which would bring back the chaining, pipes, "
             "redirections and expansions that are refused; send the commands one per call, "
             "or write a script file in the workspace and run it";
    }
  }
  return {};
}

std::string check_wrapper(const Invocation& inv) {
  const std::string name(inv.name);
  if (name == "watch" || name == "script" || name == "parallel") {
    return refused(inv) + name +
           " runs its command through a shell; run the command directly, one per call";
  }
  if (name == "env" && has_option(inv.args, {"--split-string"}, "S")) {
    return refused(inv) + "env -S splits a string like a shell; pass the arguments separately";
  }
  if (name == "flock" && has_option(inv.args, {"--command"}, "c")) {
    return refused(inv) +
           "flock -c runs a shell command line; pass the program and its "
           "arguments after the lock file";
  }
  // Which argument starts the wrapped command depends on each wrapper's option syntax; rather
  // than parse each one (and be fooled by an option value), every operand is judged as a
  // possible start of the inner command.
  for (std::size_t k = 0; k < inv.args.size(); ++k) {
    const std::string& arg = inv.args[k];
    if (arg.empty() || arg.starts_with('-')) continue;
    if (name == "xargs" && is_deleter(arg)) {
      return refused(inv) + "xargs " + arg +
             " deletes files named by input the policy cannot see; name the files explicitly";
    }
    if (auto e = check_nested(inv.mode, inv.args.subspan(k), inv.ctx, inv.depth + 1); !e.empty()) {
      return e;
    }
  }
  return {};
}

}  // namespace cb::exec::rules
