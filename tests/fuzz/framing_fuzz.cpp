// libFuzzer target: the line framer (common/framing.h) against a reference model.
//
// Input: byte 0 picks max_line (1..256), byte 1 seeds the chunk sizes; the rest is the stream,
// appended in chunks of 1..64 bytes with every complete line drained after each append (the
// way the daemon's reader and the ctl client use it). Checked:
//  - the lines equal those of a plain split on '\n' (empty and "\r"-only lines skipped, a
//    trailing "\r" kept), up to the first line longer than max_line;
//  - kTooLong is reported exactly when such a line exists (or an unterminated tail exceeds
//    max_line), and stays reported;
//  - while waiting for more, no more than max_line bytes are buffered.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/framing.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t max_line = 1 + data[0] % 256;
  std::uint32_t rng = data[1] * 2654435761u + 1;
  const std::string_view stream(reinterpret_cast<const char*>(data + 2), size - 2);

  // Reference: split the whole stream.
  std::vector<std::string> expected;
  bool expect_too_long = false;
  std::size_t start = 0;
  for (;;) {
    const std::size_t nl = stream.find('\n', start);
    if (nl == std::string_view::npos) {
      if (stream.size() - start > max_line) expect_too_long = true;
      break;
    }
    const std::string_view line = stream.substr(start, nl - start);
    start = nl + 1;
    if (line.size() > max_line) {
      expect_too_long = true;
      break;
    }
    if (line.empty() || line == "\r") continue;
    expected.emplace_back(line);
  }

  cb::LineFramer framer(max_line);
  FUZZ_CHECK(framer.max_line() == max_line);
  std::vector<std::string> got;
  bool too_long = false;
  std::string line;
  for (std::size_t off = 0; off < stream.size() && !too_long;) {
    rng = rng * 1103515245u + 12345u;
    const std::size_t chunk = std::min<std::size_t>(1 + (rng >> 16) % 64, stream.size() - off);
    framer.append(stream.substr(off, chunk));
    off += chunk;
    for (;;) {
      const auto status = framer.next(line);
      if (status == cb::LineFramer::Status::kLine) {
        FUZZ_CHECK(!line.empty() && line.size() <= max_line);
        FUZZ_CHECK(line.find('\n') == std::string::npos);
        got.push_back(line);
        continue;
      }
      if (status == cb::LineFramer::Status::kTooLong) {
        too_long = true;
        // Sticky, and nothing more comes out.
        framer.append("more\n");
        FUZZ_CHECK(framer.next(line) == cb::LineFramer::Status::kTooLong);
        FUZZ_CHECK(framer.buffered() == 0);
      } else {
        FUZZ_CHECK(framer.buffered() <= max_line);
      }
      break;
    }
  }
  FUZZ_CHECK(too_long == expect_too_long);
  FUZZ_CHECK(got == expected);
  return 0;
}
