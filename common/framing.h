#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace cb {

// Newline-delimited framing shared by every reader of the wire (daemon, ctl, tests, fuzzers).
// Bytes go in with append(); complete lines come out with next(). A line longer than
// max_line bytes (newline excluded) is refused while it is still being read: the framer never
// buffers more than max_line bytes of an unterminated line, and once it reports kTooLong it
// stays in that state (the stream cannot be resynchronised safely).
class LineFramer {
 public:
  enum class Status { kLine, kNeedMore, kTooLong };

  explicit LineFramer(std::size_t max_line) : max_line_(max_line) {}

  void append(std::string_view bytes);
  // On kLine, `line` holds the next line without its '\n' (a trailing '\r' is kept; JSON treats
  // it as white space). Empty lines are skipped.
  Status next(std::string& line);

  std::size_t buffered() const { return buffer_.size() - start_; }
  std::size_t max_line() const { return max_line_; }

 private:
  std::size_t max_line_;
  std::string buffer_;
  std::size_t start_ = 0;     // first unconsumed byte
  std::size_t scanned_ = 0;   // bytes from start_ already known to hold no '\n'
  bool too_long_ = false;
};

}  // namespace cb
