#include "shim/peek.h"

#include <cstring>

namespace cb::shim {
namespace {

bool space(char c) { return c == ' ' || c == '\t' || c == '\r'; }

void trim_right(std::string& s) {
  while (!s.empty() && (space(s.back()) || s.back() == '\n')) s.pop_back();
}

}  // namespace

std::size_t LineScanner::scan(std::string_view data) {
  std::size_t i = 0;
  if (skipping_) {
    const void* nl = std::memchr(data.data(), '\n', data.size());
    if (nl == nullptr) return data.size();
    end_line();
    return static_cast<std::size_t>(static_cast<const char*>(nl) - data.data()) + 1;
  }
  while (i < data.size()) {
    // Inside a string nobody reads (most of a message's bytes): skip to what could end it.
    if (in_string_ && !escaped_ && key_level_ == 0 && capture_ == nullptr) {
      while (i < data.size() && data[i] != '"' && data[i] != '\\' && data[i] != '\n') ++i;
      if (i == data.size()) break;
    }
    const char c = data[i++];
    if (c == '\n') {
      end_line();
      return i;
    }
    byte(c);
    if (skipping_) return i;  // scan() is called again for the rest
  }
  return i;
}

void LineScanner::byte(char c) {
  if (in_string_) {
    if (capture_ != nullptr) {
      if (capture_->size() < kMaxPeekedValue) {
        capture_->push_back(c);
      } else {
        capture_overflow_ = true;
      }
    }
    if (escaped_) {
      escaped_ = false;
    } else if (c == '\\') {
      escaped_ = true;
    } else if (c == '"') {
      in_string_ = false;
      if (key_level_ != 0) {
        key_ready_[key_level_] = true;
        key_level_ = 0;
        return;
      }
    }
    if (key_level_ != 0 && in_string_ && key_[key_level_].size() < 16) {
      key_[key_level_].push_back(c);
    }
    return;
  }
  if (space(c)) {
    if (capture_ != nullptr && capture_started_) capture_->push_back(c);
    return;
  }
  if (closed_) {  // a second value on the line
    broken_ = true;
    return;
  }
  if (!started_) {
    started_ = true;
    msg_depth_ = c == '{' ? 1 : c == '[' ? 2 : 0;
  }
  structural(c);
}

void LineScanner::structural(char c) {
  const int level = depth_ - msg_depth_ + 1;  // 1: message members, 2: params members
  const bool at_level = msg_depth_ != 0 && (level == 1 || (level == 2 && in_params_));
  // A ',' or '}' at the capture's own level ends the value being read.
  if (capture_ != nullptr && (c == ',' || c == '}') && level == capture_level_) end_capture();
  if (capture_ != nullptr) {
    if (!capture_started_) capture_started_ = true;
    if (capture_->size() < kMaxPeekedValue) {
      capture_->push_back(c);
    } else {
      capture_overflow_ = true;
    }
  }
  switch (c) {
    case '"':
      in_string_ = true;
      if (at_level && expect_key_[level]) {
        key_level_ = level;
        key_[level].clear();
        expect_key_[level] = false;
      }
      return;
    case '{':
    case '[':
      ++depth_;
      if (c == '{' && msg_depth_ != 0 && depth_ == msg_depth_) {
        current_ = Peeked{};
        in_params_ = false;
        expect_key_[1] = true;
      } else if (c == '{' && msg_depth_ != 0 && depth_ == msg_depth_ + 1 && key_[1] == "params" &&
                 capture_ == nullptr && !key_ready_[1]) {
        in_params_ = true;
        expect_key_[2] = true;
      }
      return;
    case '}':
    case ']':
      if (depth_ == 0) {
        broken_ = true;
        return;
      }
      if (c == '}' && msg_depth_ != 0 && depth_ == msg_depth_) {
        line_.messages.push_back(std::move(current_));
        current_ = Peeked{};
        in_params_ = false;
      } else if (depth_ == msg_depth_ + 1) {
        in_params_ = false;
      }
      if (--depth_ == 0) closed_ = true;
      return;
    case ':':
      if (at_level && key_ready_[level]) {
        key_ready_[level] = false;
        const std::string& key = key_[level];
        std::string* target = nullptr;
        if (level == 1 && key == "id") target = &current_.id;
        if (level == 1 && key == "method") {
          target = &current_.method;
          method_seen_ = true;
        }
        if (level == 2 && key == "requestId") target = &current_.request_id;
        if (level == 1 && (key == "result" || key == "error")) current_.answer = true;
        if (level == 1 && key == "error") current_.failed = true;
        if (target != nullptr) {
          target->clear();
          capture_ = target;
          capture_level_ = level;
          capture_started_ = false;
          capture_overflow_ = false;
        }
        // key_[1] stays "params" while its value is read: '{' then opens the params object.
        maybe_skip();
      }
      return;
    case ',':
      if (at_level) {
        expect_key_[level] = true;
        if (level == 1) key_[1].clear();
      }
      return;
    default:
      return;
  }
}

void LineScanner::end_capture() {
  trim_right(*capture_);
  if (capture_overflow_) capture_->clear();
  if (capture_ == &current_.id) id_done_ = true;
  capture_ = nullptr;
  capture_level_ = 0;
  maybe_skip();
}

void LineScanner::maybe_skip() {
  if (skip_when_known_ && msg_depth_ == 1 && capture_ == nullptr && id_done_ &&
      (current_.answer || method_seen_)) {
    skipping_ = true;
  }
}

void LineScanner::end_line() {
  if (skipping_) {
    // Skipped inside the object: the message is the one being read (an object that closed
    // before the skip began is in line_.messages already).
    if (!closed_) line_.messages.assign(1, std::move(current_));
    line_.well_formed = true;
  } else {
    if (capture_ != nullptr) end_capture();
    line_.well_formed = started_ && closed_ && !broken_ && depth_ == 0 && !in_string_;
  }
  if (!line_.well_formed) line_.messages.clear();
  line_done_ = true;
  started_ = closed_ = broken_ = false;
  msg_depth_ = depth_ = 0;
  in_string_ = escaped_ = false;
  for (int l = 0; l < 3; ++l) {
    expect_key_[l] = key_ready_[l] = false;
    key_[l].clear();
  }
  key_level_ = 0;
  in_params_ = false;
  current_ = Peeked{};
  id_done_ = method_seen_ = skipping_ = false;
}

}  // namespace cb::shim
