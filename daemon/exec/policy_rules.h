#pragma once

// Internal to the policy: the per-program rules and the argument helpers they share. Not part of
// the module's interface; include policy.h instead.

#include <algorithm>
#include <array>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/exec/policy.h"

namespace cb::exec::rules {

// Whether `s` is one of `set` (the policy's word tables). Shared by the policy files (one
// definition: the fuzz build compiles them as one unity file).
template <std::size_t N>
bool in(const std::array<std::string_view, N>& set, std::string_view s) {
  return std::find(set.begin(), set.end(), s) != set.end();
}

using Args = std::span<const std::string>;

// One program invocation being judged.
struct Invocation {
  Mode mode;
  std::string_view name;  // argv[0] without its directory
  Args args;              // argv[1..]
  const PolicyContext& ctx;
  int depth;  // how many wrappers (env, find -exec, ...) deep this invocation is
};

// Wrappers (env, timeout, find -exec, ...) may nest only this deep before the command is refused
// as too convoluted to judge. Kept small: a wrapper's every operand suffix is judged as a
// possible inner command, so the work grows with the nesting.
inline constexpr int kMaxNesting = 2;

// A verdict is a Status: ok allows; a refusal's code is kCommandRefused and its message the
// one line for the model (see check_argv). Every rule below answers one.
//
// The refusal whose message is `line` ("refused ...: what, why, what to do instead").
inline Status refuse(std::string line) { return Status::error(kCommandRefused, std::move(line)); }

// The full check for a nested command (the program a wrapper runs).
Status check_nested(Mode mode, Args argv, const PolicyContext& ctx, int depth);

// A rule for one program: its verdict.
using Checker = Status (*)(const Invocation&);

// --- argument helpers (all stop at a "--" argument) ---

// True if `args` contain one of the long options `longs` (exactly, as --opt=value, or abbreviated
// the way getopt_long and git's parse-options accept: "--to-comm" for "--to-command") or a
// short-option group ("-xvf"; not "--...") containing one of the letters in `shorts`.
// Deliberately over-matching: a value glued to a short option counts as letters too, and an
// abbreviation that the program would call ambiguous still matches.
bool has_option(Args args, std::initializer_list<std::string_view> longs,
                std::string_view shorts = {});
// The values given to option `name` ("--config" or "-D"): "--config=V" and "--config V"; with
// `glued`, also "-DV". Stops at "--".
std::vector<std::string_view> option_values(Args args, std::string_view name, bool glued = false);
// The arguments that may be the subcommand (npm's, cargo's, meson's): the first operand, and
// when an option before it might take a value (any option written without "=value" that is
// not in `flags`, the options known to take none), the operand after that too. The first
// argument after "--" is a candidate as well when no operand came before it. Over-matching on
// purpose: judging every candidate means an option value cannot hide the subcommand.
std::vector<std::string_view> subcommand_candidates(Args args,
                                                    std::span<const std::string_view> flags);
// True if some argument equals one of `words` exactly (used for find's single-dash predicates).
bool has_word(Args args, std::initializer_list<std::string_view> words);
// Arguments that do not start with '-' (plus everything after "--").
std::vector<std::string_view> operands(Args args);

// Refuses deleting `targets` that are outside the workspace, are / or the home directory or one
// of its ancestors, start with ~ or mention $HOME, or are the workspace itself (unless
// `allow_workspace`, for find's start points). `what` names the program for the message.
// Judged lexically: symlinks are not followed (the read-only sandbox covers what this misses).
Status check_delete_targets(const Invocation& inv, const std::vector<std::string_view>& targets,
                            std::string_view what, bool allow_workspace = false);

// The prefix of every refusal: "refused in <mode> mode: ".
std::string refused(const Invocation& inv);

// --- code on the command line (restricted mode; YOLO_MODE.md, "Code on the command line") ---
//
// The rule: restricted mode runs code from files (the workspace's scripts, makefiles, build
// files and tests, and the allowlisted programs), never code or programs that the command line
// itself supplies. What an argument does decides its kind:
enum class Kind {
  kInline,    // the tool runs the argument as code (python3 -c, make --eval)
  kHook,      // it names a program, plugin or library for the tool to run or load
  kConfig,    // it sets configuration inline (or writes it), and configuration can name programs
  kRunner,    // it makes the tool run a command given on the command line (cmake -E env)
  kUnstable,  // unstable options (-Z) whose effects the policy cannot judge
};

// How a trigger's spelling matches an argument.
enum class Form {
  kLong,    // "--eval": --eval, --eval=V and getopt abbreviations (--ev=V)
  kFlag,    // "-toolexec": -toolexec, --toolexec, -toolexec=V (Go's flag package)
  kWord,    // "-wrapper": exactly this argument
  kPrefix,  // "-fplugin": any argument starting with it (-fplugin=x.so, -Bdir)
  kShort,   // "-E": the letter anywhere in a short-option group, up to a value-taking letter
};

struct Trigger {
  std::string_view spelling;
  Form form;
  Kind kind;
};

// The refusal for an argument of kind `kind`: "<what> <why>; <instead>". `what` names the tool
// and the option as the model wrote them.
Status refuse_kind(const Invocation& inv, Kind kind, std::string_view what);
// The refusal for the first argument of `args` (up to "--") that matches one of `triggers`;
// ok if none does. `value_letters` are the short options that take a value (for kShort).
Status check_triggers(const Invocation& inv, Args args, std::span<const Trigger> triggers,
                      std::string_view value_letters = {});
// For settings that only choose which installed tool to use (make CC=, cmake
// -DCMAKE_CXX_COMPILER=, rustc -C linker=): ok if `value` is one word naming a program this
// mode runs; otherwise a refusal (kHook) naming `setting`.
Status check_named_program(const Invocation& inv, std::string_view setting, std::string_view value);

// --- rules, by program family (policy_git.cpp, policy_tools.cpp) ---
Status check_git(const Invocation& inv);
Status check_find(const Invocation& inv);
Status check_rm(const Invocation& inv);      // rm, rmdir, unlink, shred
Status check_python(const Invocation& inv);  // python, python3
Status check_node(const Invocation& inv);
Status check_npm(const Invocation& inv);
Status check_cargo(const Invocation& inv);
Status check_pip(const Invocation& inv);
// policy_build.cpp: build tools, compilers and language runtimes.
Status check_make(const Invocation& inv);
Status check_cmake(const Invocation& inv);
Status check_ctest(const Invocation& inv);
Status check_meson(const Invocation& inv);
Status check_cc(const Invocation& inv);  // gcc, g++, cc, c++, clang, clang++
Status check_rustc(const Invocation& inv);
Status check_go(const Invocation& inv);
Status check_java(const Invocation& inv);
Status check_javac(const Invocation& inv);
Status check_mvn(const Invocation& inv);
// The C compiler driver's triggers, for tools that pass arguments on to it (rustc -C link-arg).
Status check_cc_args(const Invocation& inv, Args args);
Status check_network_tool(const Invocation& inv);  // curl, wget
Status check_tar(const Invocation& inv);
Status check_sort(const Invocation& inv);
Status check_uniq(const Invocation& inv);
Status check_tree(const Invocation& inv);
Status check_date(const Invocation& inv);
Status check_file(const Invocation& inv);
Status check_rg(const Invocation& inv);
Status check_shell(const Invocation& inv);    // sh, bash, ... (yolo only gets this far)
Status check_wrapper(const Invocation& inv);  // env, nice, timeout, xargs, ... (yolo)

}  // namespace cb::exec::rules
