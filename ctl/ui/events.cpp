#include "ctl/ui/events.h"

#include <algorithm>
#include <cstring>

namespace cb::ctl::ui {

ssize_t Stream::take(char* buf, std::size_t max) {
  std::lock_guard lock(m_);
  if (offset_ < pending_.size()) {
    const std::size_t n = std::min(max, pending_.size() - offset_);
    std::memcpy(buf, pending_.data() + offset_, n);
    offset_ += n;
    if (offset_ == pending_.size()) {
      pending_.clear();
      offset_ = 0;
    }
    return static_cast<ssize_t>(n);
  }
  if (ended_) return -1;
  if (!parked_ && !detached_ && park_) {
    parked_ = true;
    park_();
  }
  return 0;
}

void Stream::push(std::string_view frame) {
  std::lock_guard lock(m_);
  if (ended_) return;
  if (pending_.size() - offset_ + frame.size() > kMaxPending) {
    ended_ = true;
    pending_.clear();
    offset_ = 0;
  } else {
    pending_.append(frame);
  }
  if (parked_ && !detached_) {
    parked_ = false;
    unpark_();
  }
}

void Stream::end() {
  std::lock_guard lock(m_);
  ended_ = true;
  if (parked_ && !detached_) {
    parked_ = false;
    unpark_();
  }
}

void Stream::detach() {
  std::lock_guard lock(m_);
  detached_ = true;
  ended_ = true;
}

std::shared_ptr<Stream> Hub::open(std::function<void()> park, std::function<void()> unpark) {
  auto s = std::make_shared<Stream>(std::move(park), std::move(unpark));
  std::lock_guard lock(m_);
  streams_.push_back(s);
  return s;
}

void Hub::close(const Stream* stream) {
  std::lock_guard lock(m_);
  std::erase_if(streams_, [stream](const auto& s) { return s.get() == stream; });
}

std::string Hub::frame(std::string_view name, const Json& data) {
  // dump() escapes newlines, so the data is always one `data:` line.
  std::string out = "event: ";
  out.append(name);
  out += "\ndata: ";
  out += data.dump(-1, ' ', false, Json::error_handler_t::replace);
  out += "\n\n";
  return out;
}

void Hub::publish(std::string_view name, const Json& data) { broadcast(frame(name, data)); }

void Hub::heartbeat() { broadcast(": keep-alive\n\n"); }

void Hub::broadcast(const std::string& f) {
  std::vector<std::shared_ptr<Stream>> streams;
  {
    std::lock_guard lock(m_);
    streams = streams_;
  }
  for (const auto& s : streams) s->push(f);
}

void Hub::end_all() {
  std::vector<std::shared_ptr<Stream>> streams;
  {
    std::lock_guard lock(m_);
    streams = streams_;
  }
  for (const auto& s : streams) s->end();
}

std::size_t Hub::size() {
  std::lock_guard lock(m_);
  return streams_.size();
}

}  // namespace cb::ctl::ui
