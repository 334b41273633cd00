// Fuzz target for the redaction engine: cb::redact::Redactor::builtin()->redact on arbitrary bytes.
//
// Invariants:
//   - no crash and no sanitizer report, whatever the bytes (invalid UTF-8, NULs, huge lines);
//   - hits are non-empty, inside the input, in input order and non-overlapping;
//   - the output is the input with each hit replaced by a placeholder: the bytes between hits
//     are copied unchanged and in order, and each placeholder is a built-in "..._REDACTED";
//   - redaction is deterministic: the same input gives the same output.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "daemon/redact/redactor.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

bool is_placeholder_byte(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto redactor = cb::redact::Redactor::builtin();
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const cb::redact::Redacted out = redactor->redact(input);

  std::size_t previous_end = 0;  // in the input
  std::size_t out_pos = 0;       // in the output
  for (const cb::redact::RedactionHit& hit : out.hits) {
    FUZZ_CHECK(hit.length > 0);
    FUZZ_CHECK(!hit.kind.empty());
    FUZZ_CHECK(hit.offset >= previous_end);
    FUZZ_CHECK(hit.offset <= input.size() && hit.length <= input.size() - hit.offset);
    const std::string_view gap = input.substr(previous_end, hit.offset - previous_end);
    FUZZ_CHECK(out.text.compare(out_pos, gap.size(), gap) == 0);
    out_pos += gap.size();
    // The placeholder: [A-Z0-9_]* up to and including the first "REDACTED" (the input that
    // follows may itself start with such bytes, so the run alone proves nothing).
    const std::size_t redacted = out.text.find("REDACTED", out_pos);
    FUZZ_CHECK(redacted != std::string::npos);
    for (std::size_t i = out_pos; i < redacted; ++i) FUZZ_CHECK(is_placeholder_byte(out.text[i]));
    out_pos = redacted + 8;
    previous_end = hit.offset + hit.length;
  }
  const std::string_view tail = input.substr(previous_end);
  FUZZ_CHECK(out.text.size() == out_pos + tail.size());
  FUZZ_CHECK(out.text.compare(out_pos, tail.size(), tail) == 0);
  FUZZ_CHECK(out.changed() == !out.hits.empty());

  const cb::redact::Redacted again = redactor->redact(input);
  FUZZ_CHECK(again.text == out.text);
  FUZZ_CHECK(again.hits.size() == out.hits.size());
  return 0;
}
