#include "common/framing.h"

namespace cb {

void LineFramer::append(std::string_view bytes) {
  if (too_long_) return;
  if (start_ > 0 && start_ == buffer_.size()) {
    buffer_.clear();
    start_ = 0;
  } else if (start_ > 4096 && start_ * 2 > buffer_.size()) {
    buffer_.erase(0, start_);
    start_ = 0;
  }
  buffer_.append(bytes);
}

LineFramer::Status LineFramer::next(std::string& line) {
  if (too_long_) return Status::kTooLong;
  for (;;) {
    const std::size_t from = start_ + scanned_;
    const std::size_t nl = buffer_.find('\n', from);
    if (nl == std::string::npos) {
      scanned_ = buffer_.size() - start_;
      if (scanned_ > max_line_) {
        too_long_ = true;
        buffer_.clear();
        buffer_.shrink_to_fit();
        start_ = scanned_ = 0;
        return Status::kTooLong;
      }
      return Status::kNeedMore;
    }
    const std::size_t len = nl - start_;
    if (len > max_line_) {
      too_long_ = true;
      buffer_.clear();
      buffer_.shrink_to_fit();
      start_ = scanned_ = 0;
      return Status::kTooLong;
    }
    const std::size_t begin = start_;
    start_ = nl + 1;
    scanned_ = 0;
    if (len == 0 || (len == 1 && buffer_[begin] == '\r')) continue;
    line.assign(buffer_, begin, len);
    return Status::kLine;
  }
}

}  // namespace cb
