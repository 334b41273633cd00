#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace cb::shim {

// What the shim learns of one JSON-RPC message passing through it. Values are raw bytes as they
// stood in the line, surrounding whitespace trimmed: the id `7` or `"abc"`, the method
// `"initialize"` (with its quotes). Empty when the member is absent, or longer than
// kMaxPeekedValue (such a value is of no use to the shim).
struct Peeked {
  std::string id;
  std::string method;
  std::string request_id;  // params.requestId (notifications/cancelled)
  bool answer = false;     // has "result" or "error": a response
  bool failed = false;     // has "error"
};

inline constexpr std::size_t kMaxPeekedValue = 256;

// A byte scanner, not a JSON parser: it follows strings, escapes and bracket depth of
// newline-delimited JSON-RPC and keeps only the few members above, for each message of a line
// (the line's object, or each object of a batch array). It never builds a value and never
// judges a line beyond `well_formed`; the daemon remains the only judge of JSON. Feed it the
// bytes of one direction in any chunks.
class LineScanner {
 public:
  struct Line {
    std::vector<Peeked> messages;
    // Brackets balanced, one object or array and nothing after it. A line that is not may
    // still be refused by the daemon (it checks far more); the shim only needs the common case.
    bool well_formed = false;
  };

  // Scans `data`. For every line that ends in it calls on_line(line, end), `end` being the
  // offset in `data` just past the line's '\n'.
  template <typename F>
  void feed(std::string_view data, F&& on_line) {
    for (std::size_t i = 0; i < data.size();) {
      const std::size_t used = scan(data.substr(i));
      i += used;
      if (line_done_) {
        line_done_ = false;
        on_line(line_, i);
        line_ = Line{};
      }
    }
  }

  // True when bytes of an unfinished line have been fed.
  bool mid_line() const { return started_ || depth_ != 0 || in_string_; }

  // For a trusted writer of one object per line (the daemon): once a line's id and whether it
  // is an answer or carries a method are known, the rest of the line is skipped (memchr to its
  // newline) and the line is taken as well formed. Replies are most of the bytes, and their
  // "id" and "result" or "error" come first (nlohmann writes keys sorted).
  void set_skip_when_known(bool on) { skip_when_known_ = on; }

 private:
  // Scans up to and including the first '\n' (then sets line_done_); returns bytes consumed.
  std::size_t scan(std::string_view data);
  void byte(char c);
  void structural(char c);
  void end_capture();
  void maybe_skip();
  void end_line();

  Line line_;
  bool line_done_ = false;
  bool started_ = false;   // a non-space byte of this line was seen
  bool closed_ = false;    // the top-level value of this line has closed
  bool broken_ = false;    // something outside the one value, or unbalanced
  int msg_depth_ = 0;      // depth of a message's members: 1 (object line), 2 (batch)
  int depth_ = 0;
  bool in_string_ = false;
  bool escaped_ = false;
  // Keys of the message object (level 1) and of its "params" object (level 2).
  bool expect_key_[3] = {false, false, false};
  bool key_ready_[3] = {false, false, false};
  int key_level_ = 0;      // the level whose key is being read, 0 when none
  std::string key_[3];
  bool in_params_ = false;
  Peeked current_;
  std::string* capture_ = nullptr;  // where the value being read goes
  int capture_level_ = 0;
  bool capture_started_ = false;
  bool capture_overflow_ = false;
  bool skip_when_known_ = false;
  bool id_done_ = false;      // the message's id has been read
  bool method_seen_ = false;  // the message has a "method" member
  bool skipping_ = false;     // the rest of this line is not looked at
};

}  // namespace cb::shim
