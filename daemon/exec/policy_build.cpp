// Rules for the build tools, compilers and language runtimes restricted mode allows. They apply
// one rule (YOLO_MODE.md, "Code on the command line"): the command line may choose which
// workspace files a tool works on, but may not itself carry code, name a program or plugin for
// the tool to run, set configuration that can, or make the tool run another command. Files named
// on the command line (a makefile, a cmake -P script, a cross file, @file) are workspace content
// and pass, as the Makefile itself does; the sandbox bounds what they do. Yolo mode runs all of
// it, so every rule here returns "" there, except that cmake -E's deleting and command-running
// forms are judged there like rm and env.

#include <algorithm>
#include <array>
#include <string>

#include "daemon/exec/policy_rules.h"

namespace cb::exec::rules {
namespace {

// --- make ---

// make's short options that take a value (glued or as the next argument).
constexpr std::string_view kMakeValueLetters = "CfIoWjlO";

constexpr std::array kMakeTriggers = std::to_array<Trigger>({
    {"--eval", Form::kLong, Kind::kInline},
    {"-E", Form::kShort, Kind::kInline},  // make 4.4's short --eval
});

// Variables make itself interprets as the program that runs recipes, or as more options.
constexpr std::array<std::string_view, 6> kMakeControlVars = {
    "SHELL", ".SHELLFLAGS", "MAKESHELL", "MAKEFLAGS", "MFLAGS", "GNUMAKEFLAGS"};

// make's built-in variables that choose a tool (the implicit rules run them); a value must be
// one allowlisted program name.
constexpr std::array<std::string_view, 13> kMakeProgramVars = {
    "CC", "CXX", "CPP", "AS", "AR", "LD", "FC", "M4", "PC", "LEX", "YACC", "RM", "MAKE"};

// make NAME=VALUE (also NAME:=, ::=, +=, ?=, !=) on the command line.
Status check_make_assignment(const Invocation& inv, std::string_view arg) {
  const std::size_t eq = arg.find('=');
  if (eq == std::string_view::npos || eq == 0) return {};
  std::string_view name = arg.substr(0, eq);
  const std::string_view value = arg.substr(eq + 1);
  if (name.ends_with('!')) {
    return refuse_kind(inv, Kind::kInline,
                       "make " + std::string(arg) + " (a != assignment runs its value in a shell)");
  }
  while (!name.empty() && (name.back() == ':' || name.back() == '+' || name.back() == '?')) {
    name.remove_suffix(1);
  }
  if (value.find('$') != std::string_view::npos) {
    return refuse_kind(inv, Kind::kInline,
                       "make " + std::string(arg) +
                           " (make expands the value, and $(shell ...) "
                           "runs commands)");
  }
  if (in(kMakeControlVars, name)) {
    return refuse_kind(inv, Kind::kHook, "make " + std::string(name) + "=");
  }
  if (in(kMakeProgramVars, name)) return check_named_program(inv, std::string(name) + "=", value);
  return {};
}

// make's own options and operands; also cmake --build's native-tool arguments after "--".
Status check_make_args(const Invocation& inv, Args args) {
  if (auto e = check_triggers(inv, args, kMakeTriggers, kMakeValueLetters); !e.ok()) return e;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    if (arg.starts_with('-')) {
      // A value-taking short option as the last letter of its group takes the next argument.
      if (arg.size() >= 2 && arg[1] != '-' &&
          kMakeValueLetters.find(arg.back()) != std::string_view::npos &&
          arg.find_first_of(kMakeValueLetters, 1) == arg.size() - 1) {
        ++i;
      }
      continue;
    }
    if (auto e = check_make_assignment(inv, arg); !e.ok()) return e;
  }
  return {};
}

// --- C compilers (gcc, clang and their aliases) ---

constexpr std::array kCcTriggers = std::to_array<Trigger>({
    {"-wrapper", Form::kWord, Kind::kHook},         // runs every subprocess under a program
    {"-B", Form::kPrefix, Kind::kHook},             // where cc1, as, ld are looked up
    {"-fplugin", Form::kPrefix, Kind::kHook},       // loads a shared object into the compiler
    {"-fpass-plugin", Form::kPrefix, Kind::kHook},  // clang: the same for LLVM passes
    {"--ld-path", Form::kPrefix, Kind::kHook},      // clang: the linker program
});

// Arguments the driver hands to the linker or to clang's frontend, and which of their values
// load code: ld's plugins, clang's -load / -plugin.
bool loads_plugin(std::string_view passed) {
  return passed.starts_with("-plugin") || passed.starts_with("--plugin") ||
         passed.starts_with("-load") || passed.starts_with("-add-plugin");
}

// --- rustc ---

// rustc -C KEY=VALUE settings.
Status check_codegen(const Invocation& inv, std::string_view setting) {
  const std::size_t eq = setting.find('=');
  const std::string_view key = setting.substr(0, eq);
  const std::string_view value = eq == std::string_view::npos ? "" : setting.substr(eq + 1);
  if (key == "linker") return check_named_program(inv, "-C linker=", value);
  if (key == "linker-plugin-lto" && value.find('/') != std::string_view::npos) {
    return refuse_kind(inv, Kind::kHook, "rustc -C " + std::string(setting));
  }
  if (key == "link-arg" || key == "link-args") {
    // Handed to the C compiler driver that links: judge them as its arguments.
    std::vector<std::string> words;
    std::size_t start = 0;
    while (start < value.size()) {
      std::size_t end = value.find(' ', start);
      if (end == std::string_view::npos) end = value.size();
      if (end > start) words.emplace_back(value.substr(start, end - start));
      start = end + 1;
    }
    const Invocation cc{inv.mode, "cc", words, inv.ctx, inv.depth + 1};
    return check_cc_args(cc, words);
  }
  return {};
}

constexpr std::array kRustcTriggers = std::to_array<Trigger>({
    {"-Z", Form::kPrefix, Kind::kUnstable},  // e.g. -Zcodegen-backend=lib.so
});

// --- go ---

constexpr std::array kGoTriggers = std::to_array<Trigger>({
    {"-toolexec", Form::kFlag, Kind::kHook},  // runs every compiler and linker under a program
    {"-exec", Form::kFlag, Kind::kHook},      // go run/test: runs the binary under a program
    {"-vettool", Form::kFlag, Kind::kHook},   // go vet: the analysis program
});

// --- java, javac ---

constexpr std::array kJavaTriggers = std::to_array<Trigger>({
    {"-XX:OnError", Form::kPrefix, Kind::kInline},  // shell command lines run by the JVM
    {"-XX:OnOutOfMemoryError", Form::kPrefix, Kind::kInline},
    {"-javaagent:", Form::kPrefix, Kind::kHook},
    {"-agentpath:", Form::kPrefix, Kind::kHook},
    {"-Xrun", Form::kPrefix, Kind::kHook},  // the old spelling of -agentlib
});

// java launcher options whose value is the next argument.
constexpr std::array<std::string_view, 14> kJavaValueOptions = {
    "-cp",           "-classpath",
    "--class-path",  "-p",
    "--module-path", "--upgrade-module-path",
    "--add-modules", "--limit-modules",
    "--add-reads",   "--add-exports",
    "--add-opens",   "--patch-module",
    "--source",      "--enable-native-access"};

// The JVM options of a java command line: everything before the main class, source file,
// -jar FILE or -m MODULE (after those come the program's own arguments).
Status check_jvm_options(const Invocation& inv, Args args) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    if (!arg.starts_with('-')) return {};  // the main class or source file
    const Args one = args.subspan(i, 1);
    if (auto e = check_triggers(inv, one, kJavaTriggers); !e.ok()) return e;
    if (arg.starts_with("-agentlib:") && !arg.starts_with("-agentlib:jdwp")) {
      return refuse_kind(inv, Kind::kHook, std::string(inv.name) + " " + std::string(arg));
    }
    if (arg == "-jar" || arg == "-m" || arg == "--module") return {};
    if (in(kJavaValueOptions, arg)) ++i;
  }
  return {};
}

// --- cmake, ctest ---

// cmake -D NAME[:TYPE]=VALUE: variables that make CMake run a program around or instead of
// its own work.
bool cmake_runs_around(std::string_view name) {
  if (!name.starts_with("CMAKE_")) return false;
  return name.ends_with("_LAUNCHER") || name.ends_with("_CLANG_TIDY") ||
         name.ends_with("_CPPLINT") || name.ends_with("_CPPCHECK") ||
         name.ends_with("_INCLUDE_WHAT_YOU_USE") || name == "CMAKE_CROSSCOMPILING_EMULATOR";
}

// ... and variables that choose which installed tool builds (allowed as one allowlisted name).
bool cmake_chooses_tool(std::string_view name) {
  constexpr std::array<std::string_view, 11> kTools = {
      "CMAKE_LINKER",    "CMAKE_AR",      "CMAKE_RANLIB",  "CMAKE_MAKE_PROGRAM",
      "CMAKE_NM",        "CMAKE_OBJCOPY", "CMAKE_OBJDUMP", "CMAKE_STRIP",
      "CMAKE_ADDR2LINE", "CMAKE_READELF", "CMAKE_DLLTOOL"};
  return (name.starts_with("CMAKE_") && name.ends_with("_COMPILER")) || in(kTools, name);
}

Status check_cmake_definitions(const Invocation& inv, Args args) {
  for (std::string_view def : option_values(args, "-D", /*glued=*/true)) {
    const std::size_t eq = def.find('=');
    std::string_view name = def.substr(0, eq);
    name = name.substr(0, name.find(':'));  // NAME:TYPE
    const std::string_view value = eq == std::string_view::npos ? "" : def.substr(eq + 1);
    if (cmake_runs_around(name)) {
      return refuse_kind(inv, Kind::kHook, std::string(inv.name) + " -D" + std::string(name));
    }
    if (cmake_chooses_tool(name)) {
      if (auto e = check_named_program(inv, "-D" + std::string(name) + "=", value); !e.ok()) {
        return e;
      }
    }
    // ctest -D VAR=VALUE for dashboard scripts: CTEST_*_COMMAND names the program to run.
    if (inv.name == "ctest" && name.ends_with("_COMMAND")) {
      return refuse_kind(inv, Kind::kHook, "ctest -D" + std::string(name));
    }
  }
  return {};
}

// cmake -E COMMAND ...: the portable command mode.
Status check_cmake_command_mode(const Invocation& inv, Args rest) {
  if (rest.empty()) return {};
  const std::string_view cmd = rest[0];
  const Args args = rest.subspan(1);
  constexpr std::array<std::string_view, 3> kRunners = {"env", "chdir", "time"};
  if (in(kRunners, cmd)) {
    if (inv.mode != Mode::kYolo) {
      return refuse_kind(inv, Kind::kRunner, "cmake -E " + std::string(cmd));
    }
    // yolo sees through it as through env and timeout: every operand may start the command.
    for (std::size_t k = 0; k < args.size(); ++k) {
      if (args[k].empty() || args[k].starts_with('-')) continue;
      if (auto e = check_nested(inv.mode, args.subspan(k), inv.ctx, inv.depth + 1); !e.ok()) {
        return e;
      }
    }
    return {};
  }
  constexpr std::array<std::string_view, 3> kDeleters = {"rm", "remove", "remove_directory"};
  if (!in(kDeleters, cmd)) return {};
  const bool recursive = cmd == "remove_directory" || (cmd == "rm" && has_option(args, {}, "rR"));
  if (recursive && inv.mode != Mode::kYolo) {
    return refuse(refused(inv) + "cmake -E " + std::string(cmd) +
                  " deletes whole trees, as rm -r does; delete specific files with rm, empty "
                  "directories with rmdir, or ask for yolo mode");
  }
  return check_delete_targets(inv, operands(args), "cmake -E " + std::string(cmd));
}

}  // namespace

Status check_make(const Invocation& inv) {
  if (inv.mode == Mode::kYolo) return {};
  return check_make_args(inv, inv.args);
}

Status check_cc_args(const Invocation& inv, Args args) {
  if (auto e = check_triggers(inv, args, kCcTriggers); !e.ok()) return e;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    const std::string what = std::string(inv.name) + " " + std::string(arg);
    if (arg.starts_with("-fuse-ld=") && arg.find('/') != std::string_view::npos) {
      return refuse_kind(inv, Kind::kHook, what);  // a linker program by path
    }
    if (arg.starts_with("-Wl,")) {
      std::string_view list = arg.substr(4);
      while (!list.empty()) {
        const std::size_t comma = list.find(',');
        if (loads_plugin(list.substr(0, comma))) return refuse_kind(inv, Kind::kHook, what);
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
      }
    }
    if ((arg == "-Xlinker" || arg == "-Xclang") && i + 1 < args.size() &&
        loads_plugin(args[i + 1])) {
      return refuse_kind(inv, Kind::kHook, what + " " + args[i + 1]);
    }
  }
  return {};
}

Status check_cc(const Invocation& inv) {
  if (inv.mode == Mode::kYolo) return {};
  return check_cc_args(inv, inv.args);
}

Status check_rustc(const Invocation& inv) {
  if (inv.mode == Mode::kYolo) return {};
  if (auto e = check_triggers(inv, inv.args, kRustcTriggers); !e.ok()) return e;
  std::vector<std::string_view> settings = option_values(inv.args, "-C", /*glued=*/true);
  for (std::string_view s : option_values(inv.args, "--codegen")) settings.push_back(s);
  for (std::string_view setting : settings) {
    if (auto e = check_codegen(inv, setting); !e.ok()) return e;
  }
  return {};
}

Status check_go(const Invocation& inv) {
  if (inv.mode == Mode::kYolo) return {};
  // Everything after -args belongs to the test binary.
  Args args = inv.args;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "-args" || args[i] == "--args") {
      args = args.subspan(0, i);
      break;
    }
  }
  const auto ops = operands(args);
  if (!ops.empty() && ops[0] == "env" && has_option(args, {"-w", "-u"})) {
    return refuse_kind(inv, Kind::kConfig, "go env -w/-u (it writes Go's configuration)");
  }
  if (auto e = check_triggers(inv, args, kGoTriggers); !e.ok()) return e;
  std::vector<std::string_view> ldflags = option_values(args, "-ldflags");
  for (std::string_view v : option_values(args, "--ldflags")) ldflags.push_back(v);
  for (std::string_view flags : ldflags) {
    std::size_t pos = 0;
    while ((pos = flags.find("-extld", pos)) != std::string_view::npos) {
      const std::string_view tail = flags.substr(pos + 6);
      if (!tail.starts_with("flags")) {
        return refuse_kind(inv, Kind::kHook, "go -ldflags -extld (the external linker program)");
      }
      pos += 6;
    }
  }
  return {};
}

Status check_java(const Invocation& inv) {
  if (inv.mode == Mode::kYolo) return {};
  return check_jvm_options(inv, inv.args);
}

Status check_javac(const Invocation& inv) {
  if (inv.mode == Mode::kYolo) return {};
  // -J<option> is an option for the JVM that runs javac.
  for (const std::string& arg : inv.args) {
    if (!arg.starts_with("-J") || arg.size() == 2) continue;
    const std::vector<std::string> jvm = {arg.substr(2)};
    if (auto e = check_jvm_options(inv, jvm); !e.ok()) return e;
  }
  return {};
}

Status check_mvn(const Invocation& inv) {
  if (inv.mode == Mode::kYolo) return {};
  std::vector<std::string_view> props = option_values(inv.args, "-D", /*glued=*/true);
  for (std::string_view p : option_values(inv.args, "--define")) props.push_back(p);
  for (std::string_view prop : props) {
    const std::string_view name = prop.substr(0, prop.find('='));
    if (name == "exec.executable") {
      return refuse_kind(inv, Kind::kHook, "mvn -Dexec.executable (the program exec:exec runs)");
    }
  }
  return {};
}

Status check_cmake(const Invocation& inv) {
  const Args args = inv.args;
  // cmake -E deletes and runs commands in every mode, so yolo judges it like rm and env.
  if (!args.empty() && args[0] == "-E") return check_cmake_command_mode(inv, args.subspan(1));
  if (inv.mode == Mode::kYolo) return {};
  if (auto e = check_cmake_definitions(inv, args); !e.ok()) return e;
  // cmake --build DIR [options] -- NATIVE-ARGS: the arguments go to make (or ninja, which has
  // no option that runs code), so they are judged as make's.
  if (has_option(args, {"--build"})) {
    const auto dashes = std::find(args.begin(), args.end(), "--");
    if (dashes != args.end()) {
      const Args native = args.subspan(static_cast<std::size_t>(dashes - args.begin()) + 1);
      const Invocation make{inv.mode, "make", native, inv.ctx, inv.depth + 1};
      return check_make_args(make, native);
    }
  }
  return {};
}

Status check_ctest(const Invocation& inv) {
  if (inv.mode == Mode::kYolo) return {};
  constexpr std::array kCtestTriggers = std::to_array<Trigger>({
      {"--overwrite", Form::kLong, Kind::kConfig},     // e.g. MemoryCheckCommand=PROGRAM
      {"--test-command", Form::kLong, Kind::kRunner},  // --build-and-test's command
  });
  if (auto e = check_triggers(inv, inv.args, kCtestTriggers); !e.ok()) return e;
  return check_cmake_definitions(inv, inv.args);
}

Status check_meson(const Invocation& inv) {
  if (inv.mode == Mode::kYolo) return {};
  constexpr auto kMesonFlags = std::to_array<std::string_view>({"-v", "--version", "-h", "--help"});
  const auto candidates = subcommand_candidates(inv.args, kMesonFlags);
  for (std::size_t c = 0; c < candidates.size(); ++c) {
    const std::string_view sub = candidates[c];
    if (sub == "devenv") {
      return refuse_kind(inv, Kind::kRunner, "meson devenv (a command, or a shell without one)");
    }
    if (sub == "subprojects") {
      const auto rest = operands(inv.args);
      if (std::find(rest.begin(), rest.end(), "foreach") != rest.end()) {
        return refuse_kind(inv, Kind::kRunner, "meson subprojects foreach");
      }
    }
    if (sub == "test") {
      constexpr std::array kTestTriggers = std::to_array<Trigger>({
          {"--wrapper", Form::kLong, Kind::kHook},  // argparse accepts --wrap too
          {"--gdb", Form::kLong, Kind::kHook},
          {"--gdb-path", Form::kLong, Kind::kHook},
      });
      if (auto e = check_triggers(inv, inv.args, kTestTriggers); !e.ok()) return e;
    }
  }
  return {};
}

}  // namespace cb::exec::rules
