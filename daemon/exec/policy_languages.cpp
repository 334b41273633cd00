// Rules for the language interpreters (python, node) and the package managers (npm, cargo,
// pip).

#include <algorithm>
#include <array>
#include <string>

#include "daemon/exec/policy_rules.h"

namespace cb::exec::rules {
namespace {

// The first operand, i.e. the subcommand of npm/cargo/pip; "" if none.
std::string_view first_operand(Args args) {
  const auto ops = operands(args);
  return ops.empty() ? std::string_view() : ops[0];
}

// Python modules that are tools with a rule of their own, or that run code given as arguments.
Status check_python_module(const Invocation& inv, std::string_view module, Args rest) {
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

Status check_python(const Invocation& inv) {
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
        return refuse(
            refused(inv) + std::string(inv.name) +
            " -c runs inline code the policy cannot judge; write the code to a file in the "
            "workspace and run python3 FILE, or use python3 -m MODULE");
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

Status check_node(const Invocation& inv) {
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
      return refuse(
          refused(inv) +
          "node -e/-p runs inline code the policy cannot judge; write it to a file in the "
          "workspace and run node FILE");
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

Status check_npm(const Invocation& inv) {
  if (inv.mode == Mode::kYolo) return {};
  // Only the subcommand is judged: `npm test -- token` and `npm run exec` run package scripts.
  const auto candidates = subcommand_candidates(inv.args, kNpmFlags);
  for (std::string_view sub : candidates) {
    if (npm_refused(sub)) {
      return refuse(
          refused(inv) + "npm " + std::string(sub) +
          " publishes, changes credentials or configuration, or runs a package or command "
          "named on the command line; use npm test, npm run SCRIPT, npm install, or ask the "
          "human");
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
  if (auto e = check_triggers(inv, inv.args, kNpmTriggers); !e.ok()) return e;
  constexpr std::array<std::string_view, 12> kNetwork = {
      "install", "i",        "ci",           "add", "update",          "up",
      "audit",   "outdated", "install-test", "it",  "install-ci-test", "cit"};
  const std::string_view sub = candidates.empty() ? std::string_view() : candidates.back();
  if (!inv.ctx.allow_network &&
      std::find(kNetwork.begin(), kNetwork.end(), sub) != kNetwork.end() &&
      !has_option(inv.args, {"--offline"})) {
    return refuse(
        refused(inv) + "npm " + std::string(sub) +
        " needs the network, which is off for this conversation; add --offline to use the "
        "local cache, or ask the human to enable the network");
  }
  return {};
}

Status check_cargo(const Invocation& inv) {
  if (inv.mode == Mode::kYolo) return {};
  if (!inv.args.empty() && inv.args[0].starts_with('+')) {  // cargo +TOOLCHAIN ...
    const Invocation rest{inv.mode, inv.name, inv.args.subspan(1), inv.ctx, inv.depth};
    return check_cargo(rest);
  }
  constexpr std::array kCargoTriggers = std::to_array<Trigger>({
      {"-Z", Form::kPrefix, Kind::kUnstable},
  });
  if (auto e = check_triggers(inv, inv.args, kCargoTriggers); !e.ok()) return e;
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
      return refuse(refused(inv) + "cargo " + std::string(sub) +
                    " publishes or changes registry credentials; ask the human to do it");
    }
  }
  const std::string_view sub = candidates.empty() ? std::string_view() : candidates.back();
  if (sub == "rustc" || sub == "rustdoc") {
    // cargo rustc -- ARGS hands ARGS to rustc (rustdoc's are judged the same way).
    const auto dashes = std::find(inv.args.begin(), inv.args.end(), "--");
    if (dashes != inv.args.end()) {
      const Args passed = inv.args.subspan(static_cast<std::size_t>(dashes - inv.args.begin()) + 1);
      const Invocation rustc{inv.mode, "rustc", passed, inv.ctx, inv.depth + 1};
      if (auto e = check_rustc(rustc); !e.ok()) return e;
    }
  }
  if (!inv.ctx.allow_network && sub == "install" &&
      !has_option(inv.args, {"--offline", "--frozen", "--path"})) {
    return refuse(refused(inv) +
                  "cargo install needs the network, which is off for this conversation; use "
                  "--offline or --path, or ask the human to enable the network");
  }
  return {};
}

Status check_pip(const Invocation& inv) {
  if (inv.mode == Mode::kYolo) return {};
  constexpr std::array kPipTriggers = std::to_array<Trigger>({
      {"--python", Form::kLong, Kind::kHook},  // runs pip under another interpreter
      {"--editor", Form::kLong, Kind::kHook},
  });
  if (auto e = check_triggers(inv, inv.args, kPipTriggers); !e.ok()) return e;
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
    return refuse(
        refused(inv) + "pip " + std::string(sub) +
        " needs the network, which is off for this conversation; use --no-index with local "
        "files, or ask the human to enable the network");
  }
  return {};
}

}  // namespace cb::exec::rules
