#include "daemon/exec/policy.h"

#include <algorithm>
#include <array>
#include <string>

#include "daemon/exec/command_line.h"
#include "daemon/exec/policy_rules.h"

namespace cb::exec {

std::optional<Mode> parse_mode(std::string_view name) {
  if (name == "safe") return Mode::kSafe;
  if (name == "restricted") return Mode::kRestricted;
  if (name == "yolo") return Mode::kYolo;
  return std::nullopt;
}

std::string_view mode_name(Mode mode) {
  switch (mode) {
    case Mode::kSafe:
      return "safe";
    case Mode::kRestricted:
      return "restricted";
    case Mode::kYolo:
      return "yolo";
  }
  return "unknown";
}

namespace rules {
namespace {

namespace fs = std::filesystem;

// The lowest mode a program is allowed in (higher modes allow it too), and its extra rule.
struct ProgramRule {
  std::string_view name;
  Mode lowest;
  Checker check;  // may be null
};

// clang-format off
constexpr std::array kPrograms = std::to_array<ProgramRule>({
    // Read-only inspection: safe and up.
    {"ls", Mode::kSafe, nullptr}, {"cat", Mode::kSafe, nullptr}, {"head", Mode::kSafe, nullptr},
    {"tail", Mode::kSafe, nullptr}, {"wc", Mode::kSafe, nullptr}, {"grep", Mode::kSafe, nullptr},
    {"egrep", Mode::kSafe, nullptr}, {"fgrep", Mode::kSafe, nullptr},
    {"find", Mode::kSafe, check_find}, {"git", Mode::kSafe, check_git},
    {"pwd", Mode::kSafe, nullptr}, {"echo", Mode::kSafe, nullptr},
    {"printf", Mode::kSafe, nullptr}, {"stat", Mode::kSafe, nullptr},
    {"file", Mode::kSafe, check_file}, {"du", Mode::kSafe, nullptr}, {"df", Mode::kSafe, nullptr},
    {"tree", Mode::kSafe, check_tree}, {"sort", Mode::kSafe, check_sort},
    {"uniq", Mode::kSafe, check_uniq}, {"cut", Mode::kSafe, nullptr},
    {"diff", Mode::kSafe, nullptr}, {"cmp", Mode::kSafe, nullptr}, {"comm", Mode::kSafe, nullptr},
    {"basename", Mode::kSafe, nullptr}, {"dirname", Mode::kSafe, nullptr},
    {"realpath", Mode::kSafe, nullptr}, {"readlink", Mode::kSafe, nullptr},
    {"true", Mode::kSafe, nullptr}, {"false", Mode::kSafe, nullptr},
    {"md5sum", Mode::kSafe, nullptr}, {"sha1sum", Mode::kSafe, nullptr},
    {"sha256sum", Mode::kSafe, nullptr}, {"sha512sum", Mode::kSafe, nullptr},
    {"nl", Mode::kSafe, nullptr}, {"tac", Mode::kSafe, nullptr}, {"rev", Mode::kSafe, nullptr},
    {"od", Mode::kSafe, nullptr}, {"strings", Mode::kSafe, nullptr},
    {"fold", Mode::kSafe, nullptr}, {"paste", Mode::kSafe, nullptr},
    {"join", Mode::kSafe, nullptr}, {"column", Mode::kSafe, nullptr},
    {"tr", Mode::kSafe, nullptr}, {"date", Mode::kSafe, check_date},
    {"uname", Mode::kSafe, nullptr}, {"whoami", Mode::kSafe, nullptr},
    {"id", Mode::kSafe, nullptr}, {"which", Mode::kSafe, nullptr}, {"jq", Mode::kSafe, nullptr},
    {"rg", Mode::kSafe, check_rg},
    // Developer tools: restricted and up.
    {"make", Mode::kRestricted, check_make}, {"cmake", Mode::kRestricted, check_cmake},
    {"ctest", Mode::kRestricted, check_ctest}, {"meson", Mode::kRestricted, check_meson},
    {"ninja", Mode::kRestricted, nullptr}, {"gcc", Mode::kRestricted, check_cc},
    {"g++", Mode::kRestricted, check_cc}, {"cc", Mode::kRestricted, check_cc},
    {"c++", Mode::kRestricted, check_cc}, {"clang", Mode::kRestricted, check_cc},
    {"clang++", Mode::kRestricted, check_cc}, {"npm", Mode::kRestricted, check_npm},
    {"node", Mode::kRestricted, check_node}, {"python3", Mode::kRestricted, check_python},
    {"python", Mode::kRestricted, check_python}, {"pytest", Mode::kRestricted, nullptr},
    {"pip", Mode::kRestricted, check_pip}, {"pip3", Mode::kRestricted, check_pip},
    {"cargo", Mode::kRestricted, check_cargo}, {"rustc", Mode::kRestricted, check_rustc},
    {"go", Mode::kRestricted, check_go}, {"javac", Mode::kRestricted, check_javac},
    {"java", Mode::kRestricted, check_java}, {"mvn", Mode::kRestricted, check_mvn},
    {"gradle", Mode::kRestricted, nullptr}, {"mkdir", Mode::kRestricted, nullptr},
    {"touch", Mode::kRestricted, nullptr}, {"cp", Mode::kRestricted, nullptr},
    {"mv", Mode::kRestricted, nullptr}, {"ln", Mode::kRestricted, nullptr},
    {"chmod", Mode::kRestricted, nullptr}, {"rm", Mode::kRestricted, check_rm},
    {"rmdir", Mode::kRestricted, check_rm}, {"unlink", Mode::kRestricted, check_rm},
    {"tar", Mode::kRestricted, check_tar}, {"gzip", Mode::kRestricted, nullptr},
    {"gunzip", Mode::kRestricted, nullptr}, {"xz", Mode::kRestricted, nullptr},
    {"unzip", Mode::kRestricted, nullptr},
    {"curl", Mode::kRestricted, check_network_tool},
    {"wget", Mode::kRestricted, check_network_tool},
    // Only yolo runs these, but they still get their checks there.
    {"shred", Mode::kYolo, check_rm},
    {"sh", Mode::kYolo, check_shell}, {"bash", Mode::kYolo, check_shell},
    {"dash", Mode::kYolo, check_shell}, {"zsh", Mode::kYolo, check_shell},
    {"ksh", Mode::kYolo, check_shell}, {"mksh", Mode::kYolo, check_shell},
    {"fish", Mode::kYolo, check_shell}, {"csh", Mode::kYolo, check_shell},
    {"tcsh", Mode::kYolo, check_shell},
    {"env", Mode::kYolo, check_wrapper}, {"nice", Mode::kYolo, check_wrapper},
    {"nohup", Mode::kYolo, check_wrapper}, {"timeout", Mode::kYolo, check_wrapper},
    {"stdbuf", Mode::kYolo, check_wrapper}, {"ionice", Mode::kYolo, check_wrapper},
    {"setsid", Mode::kYolo, check_wrapper}, {"time", Mode::kYolo, check_wrapper},
    {"xargs", Mode::kYolo, check_wrapper}, {"busybox", Mode::kYolo, check_wrapper},
    {"flock", Mode::kYolo, check_wrapper}, {"watch", Mode::kYolo, check_wrapper},
    {"script", Mode::kYolo, check_wrapper}, {"strace", Mode::kYolo, check_wrapper},
    {"ltrace", Mode::kYolo, check_wrapper}, {"chrt", Mode::kYolo, check_wrapper},
    {"taskset", Mode::kYolo, check_wrapper}, {"unbuffer", Mode::kYolo, check_wrapper},
    {"parallel", Mode::kYolo, check_wrapper},
});
// clang-format on

// Refused in every mode, yolo included.
constexpr std::array<std::string_view, 8> kPrivilegePrograms = {
    "sudo", "su", "doas", "pkexec", "run0", "runuser", "setpriv", "chroot"};

// The directories a program named by path may come from in safe and restricted mode. The
// sandbox's PATH is exactly these.
constexpr std::array<std::string_view, 3> kBinDirs = {"/usr/bin", "/bin", "/usr/local/bin"};

const ProgramRule* find_rule(std::string_view name) {
  for (const auto& rule : kPrograms) {
    if (rule.name == name) return &rule;
  }
  return nullptr;
}

bool is_shell(std::string_view name) {
  const ProgramRule* rule = find_rule(name);
  return rule != nullptr && rule->check == check_shell;
}

// What the model should know it may use, by mode (a sample, not the whole table).
std::string allowed_hint(Mode mode) {
  if (mode == Mode::kSafe) {
    return "safe mode runs read-only programs (ls, cat, head, tail, wc, grep, find, stat, du, "
           "tree, sort, diff, git status/log/diff/show/blame, ...); ask for restricted mode to "
           "build, test or edit";
  }
  return "restricted mode runs developer tools (git, make, cmake, meson, ninja, npm, node, "
         "python3, pytest, cargo, go, gcc, mkdir, cp, mv, rm, ... and everything safe mode "
         "runs); anything else needs yolo mode";
}

Status check_program_path(Mode mode, const std::string& program) {
  if (program.find('/') == std::string::npos || mode == Mode::kYolo) return {};
  const fs::path path(program);
  const fs::path normal = path.lexically_normal();
  const std::string dir = normal.parent_path().string();
  const bool standard = path.is_absolute() && normal == path &&
                        std::find(kBinDirs.begin(), kBinDirs.end(), dir) != kBinDirs.end();
  if (standard) return {};
  return refuse("refused in " + std::string(mode_name(mode)) + " mode: '" + program +
                "' is a program outside /usr/bin, /bin and /usr/local/bin; only installed programs "
                "run in this mode, so name it without a path (e.g. " +
                normal.filename().string() +
                "), or ask for yolo mode to run programs from the workspace");
}

}  // namespace

Status check_nested(Mode mode, Args argv, const PolicyContext& ctx, int depth) {
  if (argv.empty()) return {};
  if (depth > kMaxNesting) {
    return refuse("refused in " + std::string(mode_name(mode)) +
                  " mode: commands nested more than " + std::to_string(kMaxNesting) +
                  " wrappers deep are not judged; run the inner command directly");
  }
  const std::string& program = argv[0];
  if (program.empty()) return refuse("refused: the program name is empty");
  if (auto e = check_program_path(mode, program); !e.ok()) return e;
  const std::string name = fs::path(program).filename().string();
  const Invocation inv{mode, name, argv.subspan(1), ctx, depth};

  if (std::find(kPrivilegePrograms.begin(), kPrivilegePrograms.end(), name) !=
      kPrivilegePrograms.end()) {
    return refuse(
        refused(inv) + "'" + name +
        "' changes privileges or root, which no mode allows; the sandbox runs everything as "
        "your own user, ask the human to run it themselves if it is really needed");
  }
  const ProgramRule* rule = find_rule(name);
  if (mode != Mode::kYolo && (rule == nullptr || rule->lowest > mode)) {
    if (is_shell(name)) {
      return refuse(refused(inv) + "'" + name +
                    "' is a shell, and commands never run through a shell (that is what makes them "
                    "checkable); run the program you want directly, one command per call");
    }
    if (rule != nullptr && rule->lowest == Mode::kRestricted) {
      return refuse(refused(inv) + "'" + name + "' can change files or run code; " +
                    allowed_hint(mode));
    }
    return refuse(refused(inv) + "'" + name + "' is not on the " + std::string(mode_name(mode)) +
                  " allowlist; " + allowed_hint(mode));
  }
  if (rule != nullptr && rule->check != nullptr) return rule->check(inv);
  return {};
}

std::string refused(const Invocation& inv) {
  return "refused in " + std::string(mode_name(inv.mode)) + " mode: ";
}

namespace {

bool trigger_matches(const Trigger& t, std::string_view arg, std::string_view value_letters) {
  switch (t.form) {
    case Form::kLong: {
      if (!arg.starts_with("--")) return false;
      const std::string_view name = arg.substr(0, arg.find('='));
      return name.size() > 2 && t.spelling.starts_with(name);
    }
    case Form::kFlag: {
      std::string_view name = arg.substr(0, arg.find('='));
      if (name.starts_with("--")) name.remove_prefix(1);
      return name == t.spelling;
    }
    case Form::kWord:
      return arg == t.spelling;
    case Form::kPrefix:
      return arg.starts_with(t.spelling);
    case Form::kShort: {
      if (arg.size() < 2 || arg[0] != '-' || arg[1] == '-') return false;
      for (std::size_t k = 1; k < arg.size(); ++k) {
        if (arg[k] == t.spelling[1]) return true;
        if (value_letters.find(arg[k]) != std::string_view::npos) return false;  // rest: value
      }
      return false;
    }
  }
  return false;
}

}  // namespace

Status refuse_kind(const Invocation& inv, Kind kind, std::string_view what) {
  std::string out = refused(inv) + std::string(what);
  switch (kind) {
    case Kind::kInline:
      return refuse(
          out +
          " runs code given on the command line, which the policy cannot judge; put the code "
          "in a file in the workspace and run that file, or ask for yolo mode");
    case Kind::kHook:
      return refuse(out + " names a program, plugin or library for " + std::string(inv.name) +
                    " to run or load; set it in the workspace's build files, or ask for yolo mode");
    case Kind::kConfig:
      return refuse(
          out +
          " sets configuration on the command line, and configuration can name programs to "
          "run; keep settings in the workspace's config files, or ask the human");
    case Kind::kRunner:
      return refuse(out +
                    " runs a command given on the command line; run that program directly in a "
                    "separate call");
    case Kind::kUnstable:
      return refuse(
          out +
          " enables unstable options whose effects the policy cannot judge; drop it, or ask "
          "for yolo mode");
  }
  return refuse(out);
}

Status check_triggers(const Invocation& inv, Args args, std::span<const Trigger> triggers,
                      std::string_view value_letters) {
  for (const std::string& arg : args) {
    if (arg == "--") break;
    for (const Trigger& t : triggers) {
      if (trigger_matches(t, arg, value_letters)) {
        return refuse_kind(inv, t.kind, std::string(inv.name) + " " + arg);
      }
    }
  }
  return {};
}

Status check_named_program(const Invocation& inv, std::string_view setting,
                           std::string_view value) {
  const bool one_word =
      !value.empty() && value.find_first_of(" \t;\"'$`|&<>()") == std::string_view::npos;
  if (one_word) {
    const std::vector<std::string> argv = {std::string(value)};
    if (check_nested(inv.mode, argv, inv.ctx, inv.depth + 1).ok()) return {};
  }
  return refuse(
      refused(inv) + std::string(inv.name) + " " + std::string(setting) + " names the program '" +
      std::string(value) + "' for " + std::string(inv.name) +
      " to run, which is allowed only as one word naming a program " +
      std::string(mode_name(inv.mode)) +
      " mode runs (e.g. clang, gcc); set it in the workspace's build files, or ask for yolo "
      "mode");
}

bool has_option(Args args, std::initializer_list<std::string_view> longs, std::string_view shorts) {
  for (const std::string& arg : args) {
    if (arg == "--") break;
    if (arg.starts_with("--")) {
      const std::string_view name = std::string_view(arg).substr(0, arg.find('='));
      for (std::string_view l : longs) {
        // name == l, or name abbreviates l ("--to-comm"): getopt_long and git accept both.
        if (l.starts_with("--") && name.size() > 2 && l.starts_with(name)) return true;
      }
      continue;
    }
    for (std::string_view l : longs) {
      if (arg == l) return true;  // single-dash long options such as -delete
    }
    if (arg.size() > 1 && arg[0] == '-' && !shorts.empty()) {
      if (arg.find_first_of(shorts, 1) != std::string::npos) return true;
    }
  }
  return false;
}

std::vector<std::string_view> option_values(Args args, std::string_view name, bool glued) {
  std::vector<std::string_view> values;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    if (arg == "--") break;
    if (arg == name) {
      if (i + 1 < args.size()) values.push_back(args[++i]);
    } else if (arg.starts_with(name) && arg.size() > name.size()) {
      if (arg[name.size()] == '=') {
        values.push_back(arg.substr(name.size() + 1));
      } else if (glued) {
        values.push_back(arg.substr(name.size()));
      }
    }
  }
  return values;
}

std::vector<std::string_view> subcommand_candidates(Args args,
                                                    std::span<const std::string_view> flags) {
  std::vector<std::string_view> candidates;
  bool maybe_value = false;  // the previous argument was an option that may take this one
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    if (arg == "--") {
      if (candidates.empty() && i + 1 < args.size()) candidates.push_back(args[i + 1]);
      break;
    }
    if (arg.size() > 1 && arg[0] == '-') {
      const bool known_flag =
          std::find(flags.begin(), flags.end(), arg) != flags.end() || arg.starts_with("--no-");
      maybe_value = !known_flag && arg.find('=') == std::string_view::npos;
      continue;
    }
    candidates.push_back(arg);
    if (!maybe_value) break;  // certainly the subcommand
    maybe_value = false;
  }
  return candidates;
}

bool has_word(Args args, std::initializer_list<std::string_view> words) {
  for (const std::string& arg : args) {
    for (std::string_view w : words) {
      if (arg == w) return true;
    }
  }
  return false;
}

std::vector<std::string_view> operands(Args args) {
  std::vector<std::string_view> out;
  bool options_done = false;
  for (const std::string& arg : args) {
    if (!options_done && arg == "--") {
      options_done = true;
      continue;
    }
    if (options_done || arg.empty() || arg[0] != '-' || arg == "-") out.emplace_back(arg);
  }
  return out;
}

namespace {

// True if `inner` is `outer` or lies below it (lexically normal paths).
bool within(const fs::path& inner, const fs::path& outer) {
  auto o = outer.begin();
  auto i = inner.begin();
  for (; o != outer.end(); ++o, ++i) {
    if (o->empty()) continue;  // trailing separator of a directory path
    if (i == inner.end() || *i != *o) return false;
  }
  return true;
}

fs::path strip_trailing_separator(fs::path p) {
  std::string s = p.string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return fs::path(s);
}

}  // namespace

Status check_delete_targets(const Invocation& inv, const std::vector<std::string_view>& targets,
                            std::string_view what, bool allow_workspace) {
  const fs::path workspace = strip_trailing_separator(inv.ctx.workspace.lexically_normal());
  const fs::path home = strip_trailing_separator(inv.ctx.home.lexically_normal());
  for (std::string_view target : targets) {
    const std::string quoted = "'" + std::string(target) + "'";
    if (target.starts_with("~") || target.find("$HOME") != std::string_view::npos ||
        target.find("${HOME}") != std::string_view::npos) {
      return refuse(refused(inv) + std::string(what) + " of " + quoted +
                    " looks like the home directory, which is never deleted; name files inside the "
                    "workspace by relative path");
    }
    if (workspace.empty()) {
      return refuse(refused(inv) + std::string(what) + " needs a workspace to judge " + quoted);
    }
    const fs::path path =
        fs::path(target).is_absolute() ? fs::path(target) : workspace / fs::path(target);
    const fs::path normal = strip_trailing_separator(path.lexically_normal());
    if (normal == fs::path("/")) {
      return refuse(refused(inv) + std::string(what) + " of " + quoted +
                    " targets the root directory; name files inside the workspace instead");
    }
    if (!home.empty() && within(home, normal)) {
      return refuse(refused(inv) + std::string(what) + " of " + quoted +
                    " would delete the home directory; name files inside the workspace instead");
    }
    if (normal == workspace && !allow_workspace) {
      return refuse(refused(inv) + std::string(what) + " of " + quoted +
                    " would delete the whole workspace; name the files or directories inside it");
    }
    if (!within(normal, workspace)) {
      return refuse(refused(inv) + std::string(what) + " of " + quoted +
                    " reaches outside the workspace (" + workspace.string() +
                    "); only files inside it may be deleted");
    }
  }
  return {};
}

}  // namespace rules

Status check_argv(Mode mode, const std::vector<std::string>& argv, const PolicyContext& ctx) {
  if (argv.empty()) {
    return rules::refuse("refused: the command is empty; send a program name and its arguments");
  }
  return rules::check_nested(mode, argv, ctx, 0);
}

Result<std::vector<std::string>> check_command(std::string_view command, Mode mode,
                                               const PolicyContext& ctx) {
  Result<std::vector<std::string>> split = split_command_line(command);
  if (!split.ok()) return split;
  Status verdict = check_argv(mode, *split, ctx);
  if (!verdict.ok()) return verdict;
  return split;
}

}  // namespace cb::exec
