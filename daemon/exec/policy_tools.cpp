// Rules for the programs other than git, the build tools (policy_build.cpp) and the
// interpreters and package managers (policy_languages.cpp): file tools, network tools, shells,
// and the wrappers that run another command (judged only in yolo mode; the other modes do not
// allow them at all).

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

Status check_find(const Invocation& inv) {
  if (inv.mode != Mode::kYolo) {
    if (has_word(inv.args, {"-delete"})) {
      return refuse(refused(inv) +
                    "find -delete deletes files; use find to list them, then delete specific files "
                    "with rm" +
                    (inv.mode == Mode::kSafe ? " in restricted mode" : ""));
    }
    if (has_word(inv.args, {"-exec", "-execdir", "-ok", "-okdir"})) {
      return refuse(refused(inv) +
                    "find -exec/-execdir/-ok runs other programs the policy cannot judge; list the "
                    "files with find and run the program on them in a separate call");
    }
    if (inv.mode == Mode::kSafe &&
        has_word(inv.args, {"-fprint", "-fprint0", "-fprintf", "-fls"})) {
      return refuse(
          refused(inv) +
          "find -fprint/-fprintf/-fls writes a file; the output is returned to you anyway, "
          "use -print/-printf/-ls");
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
    if (auto e = check_nested(inv.mode, inner, inv.ctx, inv.depth + 1); !e.ok()) return e;
    i = end;
  }
  if (!deletes) return {};
  return check_delete_targets(inv, find_start_points(inv.args), "find deleting under",
                              /*allow_workspace=*/true);
}

Status check_rm(const Invocation& inv) {
  if (has_option(inv.args, {"--no-preserve-root"})) {
    return refuse(refused(inv) + std::string(inv.name) +
                  " --no-preserve-root is never allowed; name files inside the workspace");
  }
  if (inv.name == "rm" && inv.mode != Mode::kYolo && has_option(inv.args, {"--recursive"}, "rR")) {
    return refuse(refused(inv) +
                  "rm -r deletes whole trees; delete specific files with rm (without -r), empty "
                  "directories with rmdir, or ask for yolo mode");
  }
  const auto targets = operands(inv.args);
  return check_delete_targets(inv, targets, inv.name);
}

Status check_network_tool(const Invocation& inv) {
  if (!inv.ctx.allow_network) {
    return refuse(
        refused(inv) + std::string(inv.name) +
        " needs the network, which is off for this conversation (the sandbox has no network "
        "interface); ask the human to enable the network");
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

Status check_tar(const Invocation& inv) {
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
    return refuse(refused(inv) +
                  "tar options that run programs (--to-command, -I/--use-compress-program, "
                  "--checkpoint-action, -F/--info-script, --rsh-command) are refused; use -z/-J/-j "
                  "for compression");
  }
  return {};
}

Status check_sort(const Invocation& inv) {
  if (inv.mode == Mode::kYolo) return {};
  if (has_option(inv.args, {"--compress-program"})) {
    return refuse(refused(inv) + "sort --compress-program runs another program; drop it");
  }
  if (inv.mode == Mode::kSafe && has_option(inv.args, {"--output"}, "o")) {
    return refuse(refused(inv) +
                  "sort -o writes a file; the sorted text is returned to you anyway, drop -o");
  }
  return {};
}

Status check_uniq(const Invocation& inv) {
  if (inv.mode == Mode::kSafe && operands(inv.args).size() > 1) {
    return refuse(refused(inv) +
                  "uniq INPUT OUTPUT writes the OUTPUT file; give only the input, the result is "
                  "returned to you");
  }
  return {};
}

Status check_tree(const Invocation& inv) {
  if (inv.mode == Mode::kSafe && has_option(inv.args, {}, "o")) {
    return refuse(refused(inv) + "tree -o writes a file; drop it, the listing is returned to you");
  }
  return {};
}

Status check_date(const Invocation& inv) {
  if (inv.mode == Mode::kYolo) return {};
  for (const std::string& arg : inv.args) {
    if (arg.starts_with("-s") || arg == "--set" || arg.starts_with("--set=")) {
      return refuse(refused(inv) + "date -s/--set changes the clock; use date to read it");
    }
  }
  return {};
}

Status check_file(const Invocation& inv) {
  if (inv.mode == Mode::kSafe && has_option(inv.args, {"--compile"}, "C")) {
    return refuse(refused(inv) + "file -C writes a compiled magic file; drop it");
  }
  return {};
}

Status check_rg(const Invocation& inv) {
  if (inv.mode != Mode::kYolo && has_option(inv.args, {"--pre"})) {
    return refuse(refused(inv) + "rg --pre runs a preprocessor program on every file; drop it");
  }
  return {};
}

Status check_shell(const Invocation& inv) {
  // Only yolo gets here: a script file is a program like any other, but inline code would
  // bring back everything the splitter refuses.
  for (const std::string& arg : inv.args) {
    if (arg == "--" || arg == "-" || !arg.starts_with('-')) break;  // the script file
    if (arg.starts_with("--")) continue;
    if (arg.find('c', 1) != std::string::npos) {
      return refuse(refused(inv) + std::string(inv.name) +
                    " -c runs a shell command line, which would bring back the chaining, pipes, "
                    "redirections and expansions that are refused; send the commands one per call, "
                    "or write a script file in the workspace and run it");
    }
  }
  return {};
}

Status check_wrapper(const Invocation& inv) {
  const std::string name(inv.name);
  if (name == "watch" || name == "script" || name == "parallel") {
    return refuse(refused(inv) + name +
                  " runs its command through a shell; run the command directly, one per call");
  }
  if (name == "env" && has_option(inv.args, {"--split-string"}, "S")) {
    return refuse(refused(inv) +
                  "env -S splits a string like a shell; pass the arguments separately");
  }
  if (name == "flock" && has_option(inv.args, {"--command"}, "c")) {
    return refuse(refused(inv) +
                  "flock -c runs a shell command line; pass the program and its "
                  "arguments after the lock file");
  }
  // Which argument starts the wrapped command depends on each wrapper's option syntax; rather
  // than parse each one (and be fooled by an option value), every operand is judged as a
  // possible start of the inner command.
  for (std::size_t k = 0; k < inv.args.size(); ++k) {
    const std::string& arg = inv.args[k];
    if (arg.empty() || arg.starts_with('-')) continue;
    if (name == "xargs" && is_deleter(arg)) {
      return refuse(
          refused(inv) + "xargs " + arg +
          " deletes files named by input the policy cannot see; name the files explicitly");
    }
    if (auto e = check_nested(inv.mode, inv.args.subspan(k), inv.ctx, inv.depth + 1); !e.ok()) {
      return e;
    }
  }
  return {};
}

}  // namespace cb::exec::rules
