#pragma once

// Internal to the policy: the per-program rules and the argument helpers they share. Not part of
// the module's interface; include policy.h instead.

#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/exec/policy.h"

namespace cb::exec::rules {

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

// The full check for a nested command (the program a wrapper runs); "" or a refusal.
std::string check_nested(Mode mode, Args argv, const PolicyContext& ctx, int depth);

// A rule for one program: "" to allow, or a refusal line.
using Checker = std::string (*)(const Invocation&);

// --- argument helpers (all stop at a "--" argument) ---

// True if `args` contain one of the long options `longs` (exactly, or as --opt=value) or a
// short-option group ("-xvf"; not "--...") containing one of the letters in `shorts`.
// Deliberately over-matching: a value glued to a short option counts as letters too.
bool has_option(Args args, std::initializer_list<std::string_view> longs,
                std::string_view shorts = {});
// True if some argument equals one of `words` exactly (used for find's single-dash predicates).
bool has_word(Args args, std::initializer_list<std::string_view> words);
// Arguments that do not start with '-' (plus everything after "--").
std::vector<std::string_view> operands(Args args);

// Refuses deleting `targets` that are outside the workspace, are / or the home directory or one
// of its ancestors, start with ~ or mention $HOME, or are the workspace itself (unless
// `allow_workspace`, for find's start points). `what` names the program for the message.
// Judged lexically: symlinks are not followed (the read-only sandbox covers what this misses).
std::string check_delete_targets(const Invocation& inv,
                                 const std::vector<std::string_view>& targets,
                                 std::string_view what, bool allow_workspace = false);

// The prefix of every refusal: "refused in <mode> mode: ".
std::string refused(const Invocation& inv);

// --- rules, by program family (policy_git.cpp, policy_tools.cpp) ---
std::string check_git(const Invocation& inv);
std::string check_find(const Invocation& inv);
std::string check_rm(const Invocation& inv);      // rm, rmdir, unlink, shred
std::string check_python(const Invocation& inv);  // python, python3
std::string check_node(const Invocation& inv);
std::string check_npm(const Invocation& inv);
std::string check_cargo(const Invocation& inv);
std::string check_pip(const Invocation& inv);
std::string check_network_tool(const Invocation& inv);  // curl, wget
std::string check_tar(const Invocation& inv);
std::string check_sort(const Invocation& inv);
std::string check_uniq(const Invocation& inv);
std::string check_tree(const Invocation& inv);
std::string check_date(const Invocation& inv);
std::string check_file(const Invocation& inv);
std::string check_rg(const Invocation& inv);
std::string check_shell(const Invocation& inv);    // sh, bash, ... (yolo only gets this far)
std::string check_wrapper(const Invocation& inv);  // env, nice, timeout, xargs, ... (yolo)

}  // namespace cb::exec::rules
