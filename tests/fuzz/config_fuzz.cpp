// libFuzzer target: the configuration file (daemon/config.cpp parse_config) and what the daemon
// builds from it at start-up (the redactor with the operator's [[redaction.rules]]).
//
// Input: the TOML text. Checked:
//  - parse_config never throws; a refusal starts with the file name and is one line;
//  - an accepted config holds every integer within its documented range;
//  - cb::redact::Redactor::create either builds (and then redacts a sample) or refuses with one line.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "daemon/config.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = cb::parse_config(text, "fuzz.toml");
  if (!parsed.ok()) {
    const std::string* err = &parsed.status().message();
    FUZZ_CHECK(!err->empty());
    FUZZ_CHECK(err->rfind("fuzz.toml", 0) == 0);
    // toml++ quotes the offending bytes, control characters included ("x = tr\n" once gave a
    // two-line start-up error, regressions/config/multiline-error); parse_config escapes them.
    if (err->find('\n') != std::string::npos) {
      std::fprintf(stderr, "multi-line config error: %s\n", err->c_str());
      FUZZ_CHECK(!"a config error must be one line");
    }
    return 0;
  }
  const cb::Config& c = *parsed;
  FUZZ_CHECK(c.bridge.ttl_seconds >= 60);
  FUZZ_CHECK(c.bridge.message_max_chars >= 1 && c.bridge.message_max_chars <= 1'000'000);
  FUZZ_CHECK(c.bridge.default_read_limit >= 1 && c.bridge.default_read_limit <= 200);
  FUZZ_CHECK(c.limits.max_frame_bytes >= 4096 && c.limits.max_frame_bytes <= (64 << 20));
  FUZZ_CHECK(c.limits.max_connections >= 1);
  FUZZ_CHECK(c.limits.max_write_queue_bytes >= 65536);
  FUZZ_CHECK(c.exec.max_mode == "safe" || c.exec.max_mode == "restricted" ||
             c.exec.max_mode == "yolo");
  for (const auto& rule : c.redaction_rules) {
    FUZZ_CHECK(!rule.name.empty() && !rule.pattern.empty() && !rule.placeholder.empty());
  }
  if (!c.redaction_rules.empty()) {
    auto redactor = cb::redact::Redactor::create(c.redaction_rules);
    if (!redactor) {
      const std::string& error = redactor.status().message();
      FUZZ_CHECK(!error.empty());
      FUZZ_CHECK(error.find('\n') == std::string::npos);
    } else {
      const auto r = (*redactor)->redact("a sample line: name=alice id=12345 path=/tmp/x done");
      FUZZ_CHECK(r.hits.size() == static_cast<std::size_t>([&] {
                   int n = 0;
                   for (const auto& [kind, count] : r.counts()) n += count;
                   return n;
                 }()));
    }
  }
  return 0;
}
