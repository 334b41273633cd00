#include "shim/relay.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/exit_codes.h"

namespace cb::shim {
namespace {

void say(const std::string& line) {
  std::string out = "claude-bridge-shim: " + line + "\n";
  (void)!::write(2, out.data(), out.size());
}

bool write_all(int fd, const char* data, std::size_t len) {
  while (len > 0) {
    const ssize_t n = ::write(fd, data, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += n;
    len -= static_cast<std::size_t>(n);
  }
  return true;
}

// Writes what the socket takes now, without blocking; false when the daemon is gone.
bool send_some(int sock, std::string& pending) {
  while (!pending.empty()) {
    const ssize_t n = ::send(sock, pending.data(), pending.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno == EAGAIN || errno == EWOULDBLOCK;
    }
    pending.erase(0, static_cast<std::size_t>(n));
  }
  return true;
}

constexpr std::string_view kLostMessage =
    "The claude-bridge daemon restarted or stopped before answering this request; the shim "
    "reconnects by itself, so call it again. A send_to_partner may already be stored: "
    "check_partner_status shows unread_by_partner.";

// The answer to a request the daemon took but never answered. -32000 is what the MCP SDKs use
// for a closed connection; the text tells the model what to do next.
std::string lost_answer(const std::string& id) {
  return "{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"error\":{\"code\":-32000,\"message\":\"" +
         std::string(kLostMessage) + "\"}}\n";
}

// What the shim holds for the daemon before it stops reading stdin (the daemon is not reading).
constexpr std::size_t kMaxPendingToDaemon = 1 << 20;

}  // namespace

void Relay::forget(const std::string& id) {
  auto it = std::find(in_flight_.begin(), in_flight_.end(), id);
  if (it != in_flight_.end()) in_flight_.erase(it);
}

void Relay::from_client(std::string_view data) {
  std::size_t pos = 0;
  client_scan_.feed(data, [&](const LineScanner::Line& line, std::size_t end) {
    client_line(line, data.substr(pos, end - pos));
    pos = end;
  });
  const std::string_view rest = data.substr(pos);
  if (!discard_line_) to_daemon_.append(rest);
  if (!head_overflow_ && (init_line_.empty() || initialized_line_.empty())) {
    if (head_.size() + rest.size() > kMaxInitializeLine) {
      head_overflow_ = true;
      head_.clear();
    } else {
      head_.append(rest);
    }
  }
}

void Relay::client_line(const LineScanner::Line& line, std::string_view tail) {
  const bool discard = discard_line_;
  discard_line_ = false;
  if (!discard) to_daemon_.append(tail);
  std::string whole;
  if (!head_overflow_ && head_.size() + tail.size() <= kMaxInitializeLine) {
    whole = head_;
    whole.append(tail);
  }
  head_.clear();
  head_overflow_ = false;
  const bool single = line.messages.size() == 1;
  for (const Peeked& m : line.messages) {
    if (m.method.empty()) continue;  // a response to a request of the daemon's
    if (!m.id.empty()) {
      if (discard) {  // cut off by the lost connection: never reached the daemon whole
        to_client_ += lost_answer(m.id);
        continue;
      }
      in_flight_.push_back(m.id);
      if (in_flight_.size() > kMaxInFlight) in_flight_.erase(in_flight_.begin());
      if (m.method == R"("initialize")" && single && !whole.empty() && init_line_.empty() &&
          pending_line_.empty()) {
        pending_line_ = std::move(whole);
        pending_id_ = m.id;
      }
    } else if (m.method == R"("notifications/cancelled")" && !m.request_id.empty()) {
      forget(m.request_id);  // a cancelled request gets no answer
    } else if (m.method == R"("notifications/initialized")" && single && !discard &&
               !whole.empty() && initialized_line_.empty()) {
      initialized_line_ = std::move(whole);
    }
  }
}

void Relay::from_daemon(std::string_view data) {
  std::size_t pos = 0;
  daemon_scan_.feed(data, [&](const LineScanner::Line& line, std::size_t end) {
    const std::string_view bytes = data.substr(pos, end - pos);
    pos = end;
    if (swallow_) {
      swallow_ = false;
      swallowed_.append(bytes);
      const bool ours = line.messages.size() == 1 && line.messages[0].answer &&
                        line.messages[0].id == init_id_;
      if (ours && line.messages[0].failed) {
        say("the daemon refused the replayed initialize: " + swallowed_.substr(0, 200));
      }
      if (!ours) {
        to_client_ += swallowed_;
        daemon_line(line);
      }
      swallowed_.clear();
      return;
    }
    to_client_.append(bytes);
    daemon_line(line);
  });
  if (swallow_) {
    swallowed_.append(data.substr(pos));
  } else {
    to_client_.append(data.substr(pos));
  }
}

void Relay::daemon_line(const LineScanner::Line& line) {
  for (const Peeked& m : line.messages) {
    if (!m.answer || !m.method.empty() || m.id.empty()) continue;
    forget(m.id);
    if (!pending_id_.empty() && m.id == pending_id_) {
      if (!m.failed) {
        init_line_ = std::move(pending_line_);
        init_id_ = std::move(pending_id_);
      }
      pending_line_.clear();
      pending_id_.clear();
    }
  }
}

void Relay::connection_lost() {
  if (daemon_scan_.mid_line()) {  // end the reply it was cut in, so our answers stand alone
    to_client_ += '\n';
    daemon_scan_ = LineScanner{};
    daemon_scan_.set_skip_when_known(true);
  }
  swallow_ = false;
  swallowed_.clear();
  for (const std::string& id : in_flight_) to_client_ += lost_answer(id);
  in_flight_.clear();
  pending_line_.clear();
  pending_id_.clear();
  to_daemon_.clear();
  // The rest of a line begun before the loss is dropped; its request is answered at its end.
  if (client_scan_.mid_line()) discard_line_ = true;
}

void Relay::connection_made() {
  if (!init_line_.empty()) {
    to_daemon_ = init_line_ + initialized_line_ + to_daemon_;
    swallow_ = true;
  }
  to_daemon_.insert(0, hello_);
}

// Full duplex: while the daemon is not taking requests (it stops reading a client whose
// replies pile up), replies keep flowing to stdout, so neither side waits for the other
// forever. On stdin EOF the socket's write side is shut once everything read from stdin is
// sent, so the daemon flushes its last replies and closes.
int Relay::run(UniqueFd sock) {
  std::vector<char> buf(65536);
  bool stdin_open = true;
  bool shut = false;
  connection_made();  // the hello; nothing is replayed on the first connection
  for (;;) {
    if (!to_client_.empty()) {
      if (!write_all(1, to_client_.data(), to_client_.size())) return exit_code::kOk;
      to_client_.clear();
    }
    bool lost = false;
    if (!stdin_open && to_daemon_.empty() && !shut) {
      ::shutdown(sock.get(), SHUT_WR);
      shut = true;
    }
    const bool take_stdin = stdin_open && to_daemon_.size() < kMaxPendingToDaemon;
    pollfd fds[2] = {
        {sock.get(), static_cast<short>(POLLIN | (to_daemon_.empty() ? 0 : POLLOUT)), 0},
        {0, static_cast<short>(take_stdin ? POLLIN : 0), 0}};
    const int n = ::poll(fds, take_stdin ? 2 : 1, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      say(std::string("poll: ") + std::strerror(errno));
      return exit_code::kFailure;
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      const ssize_t r = ::read(sock.get(), buf.data(), buf.size());
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) {
        if (!stdin_open) return exit_code::kOk;
        lost = true;
      } else {
        from_daemon(std::string_view(buf.data(), static_cast<std::size_t>(r)));
      }
    }
    if (!lost && (fds[0].revents & POLLOUT) && !send_some(sock.get(), to_daemon_)) lost = true;
    if (!lost && take_stdin && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      const ssize_t r = ::read(0, buf.data(), buf.size());
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) {
        stdin_open = false;
        continue;
      }
      from_client(std::string_view(buf.data(), static_cast<std::size_t>(r)));
      if (!send_some(sock.get(), to_daemon_)) lost = true;  // usually all of it, at once
    }
    if (!lost) continue;
    say("the daemon closed the connection; answering " + std::to_string(in_flight_.size()) +
        " request(s) in flight with an error and reconnecting");
    connection_lost();
    if (!to_client_.empty()) {
      if (!write_all(1, to_client_.data(), to_client_.size())) return exit_code::kOk;
      to_client_.clear();
    }
    sock = reconnect_();
    if (!sock) return exit_code::kUnavailable;
    say("reconnected to the daemon");
    connection_made();
    shut = false;
  }
}

}  // namespace cb::shim
