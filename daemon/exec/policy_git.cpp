// The git rules: which subcommands each mode runs, and which forms of them are refused.
//
// Caveat stated in YOLO_MODE.md: a repository's own configuration (.git/config, attributes,
// hooks) can make even read-only git commands run programs (core.fsmonitor, textconv, diff
// drivers). The policy cannot see that; the sandbox is what contains it.

#include <algorithm>
#include <array>
#include <string>

#include "daemon/exec/policy_rules.h"

namespace cb::exec::rules {
namespace {

// Subcommands that only read; safe mode runs these (some with extra checks below).
constexpr std::array<std::string_view, 24> kReadOnly = {
    "status",    "log",         "diff",     "show",          "blame",    "annotate",
    "rev-parse", "ls-files",    "ls-tree",  "cat-file",      "describe", "shortlog",
    "rev-list",  "merge-base",  "name-rev", "count-objects", "version",  "show-ref",
    "diff-tree", "whatchanged", "grep",     "branch",        "tag",      "remote"};

// Everything restricted mode runs. Anything else (including aliases, which can be shell
// commands) is refused.
constexpr std::array<std::string_view, 37> kRestrictedExtra = {
    "add",       "am",           "apply",    "archive",    "bisect",     "checkout",
    "cherry",    "cherry-pick",  "clean",    "clone",      "commit",     "config",
    "fetch",     "format-patch", "fsck",     "gc",         "init",       "merge",
    "mv",        "notes",        "pull",     "push",       "range-diff", "rebase",
    "reflog",    "reset",        "restore",  "revert",     "rm",         "stash",
    "submodule", "switch",       "worktree", "update-ref", "help",       "sparse-checkout",
    "mergetool"};

// Global options (before the subcommand) that need no value and change nothing dangerous.
constexpr std::array<std::string_view, 7> kHarmlessGlobals = {
    "--no-pager",           "-P",
    "--no-optional-locks",  "--literal-pathspecs",
    "--no-replace-objects", "--glob-pathspecs",
    "--noglob-pathspecs"};

std::string safe_list() {
  return "safe mode runs git status, log, diff, show, blame, rev-parse, ls-files, ls-tree, "
         "describe, shortlog, grep, branch --list, tag --list and remote -v";
}

// Checks shared by the read-only subcommands in safe and restricted mode.
Status check_read_only_forms(const Invocation& inv, std::string_view sub, Args rest) {
  if (inv.mode == Mode::kSafe && has_option(rest, {"--output"})) {
    return refuse(refused(inv) + "git " + std::string(sub) +
                  " --output writes a file; the output is returned to you anyway, drop the option");
  }
  if (has_option(rest, {"--ext-diff"})) {
    return refuse(
        refused(inv) + "git " + std::string(sub) +
        " --ext-diff runs an external program named by the repository configuration; drop "
        "the option");
  }
  if (sub == "grep" && has_option(rest, {"--open-files-in-pager"}, "O")) {
    return refuse(refused(inv) + "git grep -O runs a pager program; drop the option");
  }
  return {};
}

// branch/tag/remote are read-only only in their listing forms.
Status check_listing_form(const Invocation& inv, std::string_view sub, Args rest) {
  const std::string what = "git " + std::string(sub);
  if (sub == "remote") {
    const auto ops = operands(rest);
    const bool listing = ops.empty() || ops[0] == "show" || ops[0] == "get-url";
    if (listing && !has_option(rest, {"--add", "--delete", "--push"})) return {};
    return refuse(refused(inv) + what + " " + (ops.empty() ? std::string() : std::string(ops[0])) +
                  " changes the repository configuration; " + safe_list());
  }
  if (sub == "branch" && has_option(rest,
                                    {"--delete", "--move", "--copy", "--force", "--set-upstream-to",
                                     "--unset-upstream", "--edit-description", "--track",
                                     "--no-track", "--create-reflog", "--upstream"},
                                    "dDmMcCfut")) {
    return refuse(refused(inv) + what + " with these options changes branches; " + safe_list());
  }
  if (sub == "tag" && has_option(rest,
                                 {"--delete", "--annotate", "--sign", "--local-user", "--force",
                                  "--message", "--file", "--edit", "--create-reflog"},
                                 "dasufmFe")) {
    return refuse(refused(inv) + what + " with these options changes tags; " + safe_list());
  }
  // A bare name creates a branch or tag unless the command is in listing mode. Values of the
  // listing options (--contains X) are names too.
  const bool list_mode = has_option(rest, {"--list"}, "l");
  bool expecting_value = false;
  for (const std::string& arg : rest) {
    if (arg == "--") break;
    if (expecting_value) {
      expecting_value = false;
      continue;
    }
    if (arg == "--contains" || arg == "--no-contains" || arg == "--merged" ||
        arg == "--no-merged" || arg == "--points-at" || arg == "--sort" || arg == "--format") {
      expecting_value = true;
      continue;
    }
    if (!arg.starts_with('-') && !list_mode) {
      return refuse(refused(inv) + what + " " + arg + " would create a " +
                    (sub == "tag" ? "tag" : "branch") + "; use " + what +
                    " --list PATTERN to list, or ask for restricted mode to create one");
    }
  }
  return {};
}

Status check_config(const Invocation& inv, Args rest) {
  if (has_option(rest, {"--get", "--get-all", "--get-regexp", "--get-urlmatch", "--list"}, "l")) {
    return {};
  }
  if (operands(rest).size() <= 1 && !has_option(rest,
                                                {"--unset", "--unset-all", "--add", "--replace-all",
                                                 "--rename-section", "--remove-section", "--edit"},
                                                "e")) {
    return {};  // `git config user.name` reads one key
  }
  return refuse(
      refused(inv) +
      "git config changes can make git run arbitrary commands (aliases, core.pager, "
      "core.fsmonitor, hooks, filters); read settings with git config --get KEY, and ask the "
      "human to change configuration");
}

Status check_restricted(const Invocation& inv, std::string_view sub, Args rest) {
  const std::string what = "git " + std::string(sub);
  const bool writes_refs = sub == "update-ref" || sub == "branch" || sub == "tag" ||
                           sub == "reflog" || sub == "push" || sub == "symbolic-ref";
  for (const std::string& arg : rest) {
    if (writes_refs && arg.find("refs/claude-bridge") != std::string::npos) {
      return refuse(
          refused(inv) + what +
          " touches refs/claude-bridge/, where the bridge keeps its snapshots; leave them "
          "to the human");
    }
  }
  // Transport programs named on the command line run locally, also for a local clone.
  constexpr std::array<std::string_view, 5> kTransport = {"clone", "fetch", "pull", "push",
                                                          "archive"};
  if (in(kTransport, sub) &&
      has_option(rest, {"--upload-pack", "--receive-pack", "--exec"}, sub == "clone" ? "u" : "")) {
    return refuse_kind(inv, Kind::kHook, what + " --upload-pack/--receive-pack/--exec");
  }
  if (sub == "clone" && has_option(rest, {"--config"}, "c")) {
    return refuse_kind(inv, Kind::kConfig, what + " -c/--config");
  }
  if (sub == "push") {
    if (has_option(rest,
                   {"--force", "--force-with-lease", "--force-if-includes", "--mirror", "--delete",
                    "--prune"},
                   "fd")) {
      return refuse(
          refused(inv) + what +
          " with --force/--force-with-lease/--mirror/--delete/--prune rewrites or deletes "
          "remote history; push without it (a rejected push means you must merge or "
          "rebase first), or ask the human");
    }
    for (std::string_view op : operands(rest)) {
      if (op.starts_with('+') || op.starts_with(':')) {
        return refuse(refused(inv) + what + " " + std::string(op) +
                      " force-pushes or deletes a remote ref; push a plain refspec instead");
      }
    }
    if (!inv.ctx.allow_network) {
      return refuse(
          refused(inv) + what +
          " needs the network, which is off for this conversation; ask the human to push, "
          "or to enable the network");
    }
    return {};
  }
  if ((sub == "fetch" || sub == "pull") && !inv.ctx.allow_network) {
    return refuse(refused(inv) + what +
                  " needs the network, which is off for this conversation; ask the human to enable "
                  "it, or work with what is already fetched");
  }
  if (sub == "clean" && has_option(rest, {"--force"}, "f")) {
    return refuse(refused(inv) +
                  "git clean -f deletes untracked files that no snapshot can bring back; use git "
                  "clean -n to list them and delete specific files with rm");
  }
  if (sub == "reset" && has_option(rest, {"--hard", "--merge", "--keep"})) {
    return refuse(refused(inv) +
                  "git reset --hard throws away uncommitted work; use git stash, or git reset "
                  "(mixed) which keeps the files");
  }
  if ((sub == "checkout" || sub == "switch") &&
      has_option(rest, {"--force", "--discard-changes"}, "f")) {
    return refuse(refused(inv) + what +
                  " --force throws away uncommitted work; commit or stash first");
  }
  if (sub == "branch" && has_option(rest, {"--force"}, "Df")) {
    return refuse(refused(inv) +
                  "git branch -D/--force deletes or moves a branch regardless of merges; use git "
                  "branch -d, which refuses to lose commits");
  }
  if (sub == "stash") {
    const auto ops = operands(rest);
    if (!ops.empty() && (ops[0] == "drop" || ops[0] == "clear")) {
      return refuse(refused(inv) + "git stash " + std::string(ops[0]) +
                    " throws stashed work away; leave stashes to the human");
    }
  }
  if (sub == "reflog") {
    const auto ops = operands(rest);
    if (!ops.empty() && (ops[0] == "expire" || ops[0] == "delete" || ops[0] == "drop")) {
      return refuse(refused(inv) + "git reflog " + std::string(ops[0]) +
                    " destroys the history used for recovery; leave it to the human");
    }
  }
  if (sub == "gc" && has_option(rest, {"--prune"})) {
    return refuse(refused(inv) +
                  "git gc --prune discards unreachable commits; run git gc without it");
  }
  if (sub == "update-ref" && has_option(rest, {"--stdin"}, "d")) {
    return refuse(refused(inv) +
                  "git update-ref -d/--stdin deletes or rewrites refs; use git branch "
                  "or git tag");
  }
  if (sub == "rebase" && has_option(rest, {"--exec", "--interactive"}, "xi")) {
    return refuse(refused(inv) +
                  "git rebase --exec/--interactive runs commands or an editor; rebase "
                  "without them");
  }
  if (sub == "bisect") {
    const auto ops = operands(rest);
    if (!ops.empty() && ops[0] == "run") {
      return refuse(refused(inv) +
                    "git bisect run runs a command through a shell; step with git "
                    "bisect good/bad and run the test yourself");
    }
  }
  if (sub == "submodule") {
    const auto ops = operands(rest);
    if (!ops.empty() && ops[0] == "foreach") {
      return refuse(refused(inv) +
                    "git submodule foreach runs a shell command; run the command in "
                    "each submodule yourself");
    }
  }
  if (sub == "config") return check_config(inv, rest);
  if (sub == "mergetool" || sub == "difftool") {
    return refuse(refused(inv) + what + " runs an external tool program; use git diff / git merge");
  }
  return check_read_only_forms(inv, sub, rest);
}

}  // namespace

Status check_git(const Invocation& inv) {
  if (inv.mode == Mode::kYolo) return {};
  const Args args = inv.args;
  std::size_t i = 0;
  while (i < args.size() && args[i].starts_with('-')) {
    const std::string& a = args[i];
    if (a == "-C") {
      i += 2;
      continue;
    }
    if (in(kHarmlessGlobals, a)) {
      ++i;
      continue;
    }
    if (a == "--version" || a == "--help") return {};
    if (a == "-c" || a.starts_with("--config-env")) {
      return refuse(
          refused(inv) + "git " + a +
          " sets configuration for one command, which can make git run arbitrary programs "
          "(aliases, core.pager, core.fsmonitor); drop it");
    }
    return refuse(
        refused(inv) + "the git option " + a +
        " (before the subcommand) is not allowed; git runs in the workspace already, drop it");
  }
  if (i >= args.size()) return {};  // plain `git` prints usage
  const std::string_view sub = args[i];
  const Args rest = args.subspan(i + 1);

  if (inv.mode == Mode::kSafe) {
    if (!in(kReadOnly, sub)) {
      return refuse(refused(inv) + "git " + std::string(sub) + " is not a read-only subcommand; " +
                    safe_list() + ", and restricted mode runs the rest");
    }
    if (sub == "branch" || sub == "tag" || sub == "remote") {
      if (auto e = check_listing_form(inv, sub, rest); !e.ok()) return e;
    }
    return check_read_only_forms(inv, sub, rest);
  }
  if (!in(kReadOnly, sub) && !in(kRestrictedExtra, sub)) {
    return refuse(
        refused(inv) + "'git " + std::string(sub) +
        "' is not a git subcommand restricted mode knows (aliases are refused because they "
        "can be shell commands); spell out the real subcommand");
  }
  return check_restricted(inv, sub, rest);
}

}  // namespace cb::exec::rules
