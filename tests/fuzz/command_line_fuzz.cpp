// libFuzzer target for the command splitter (and the policy behind it).
//
// Built by tests/fuzz/meson.build (libFuzzer binary with clang: scripts/fuzz; a replay test in
// every build).
//
// Invariants checked on every input:
//  - a refusal is one non-empty line starting with "refused" and yields no argv;
//  - an accepted command has a non-empty argv, its bytes had no control characters except tab,
//    and join_command_line() renders it back into a command that splits to the same argv;
//  - an accepted argv never contains an unquoted shell operator's effect: since nothing is
//    expanded, the argv words together are never longer than the input;
//  - the policy answers every mode without crashing, with ok or a command_refused Status whose
//  message is one line.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "daemon/exec/command_line.h"
#include "daemon/exec/policy.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

void require(bool condition) {
  if (!condition) __builtin_trap();
}

void check_refusal(const std::string& line) {
  require(!line.empty());
  require(line.rfind("refused", 0) == 0);
  require(line.find('\n') == std::string::npos);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace cb::exec;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto split = split_command_line(input);
  if (!split.ok()) {
    require(split.status().code() == kCommandRefused);
    check_refusal(split.status().message());
    return 0;
  }
  require(!split->empty());
  require(input.size() <= kMaxCommandLength);
  std::size_t total = 0;
  for (const std::string& word : *split) total += word.size();
  require(total <= input.size());
  for (char c : input) {
    const auto u = static_cast<unsigned char>(c);
    require(!((u < 0x20 && c != '\t') || u == 0x7f));
  }

  const auto again = split_command_line(join_command_line(*split));
  // The rendering may exceed the length limit (quoting adds bytes); otherwise it must agree.
  if (again.ok()) {
    require(*again == *split);
  } else {
    require(join_command_line(*split).size() > kMaxCommandLength);
  }

  PolicyContext ctx;
  ctx.workspace = "/work/project";
  ctx.home = "/home/user";
  for (Mode mode : {Mode::kSafe, Mode::kRestricted, Mode::kYolo}) {
    ctx.allow_network = (size & 1) != 0;
    const cb::Status verdict = check_argv(mode, *split, ctx);
    if (!verdict.ok()) {
      require(verdict.code() == kCommandRefused);
      check_refusal(verdict.message());
    }
  }
  return 0;
}
