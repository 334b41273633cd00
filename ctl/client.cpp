#include "ctl/client.h"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "common/ctl_protocol.h"
#include "common/exit_codes.h"
#include "common/paths.h"
#include "common/unix_socket.h"

namespace cb::ctl {

std::atomic<bool> g_interrupted{false};

std::string unavailable_line(const std::filesystem::path& socket_path, int err) {
  return "no daemon answers on " + socket_path.string() + " (" + std::strerror(err) +
         ") — start it with `claude-bridged --socket-dir " + socket_path.parent_path().string() +
         "` or `systemctl --user start claude-bridge.socket`";
}

Client Client::connect(const std::filesystem::path& socket_dir) {
  const auto path = socket_dir / paths::kCtlSocket;
  int err = 0;
  UniqueFd fd = unix_socket::connect(path.string(), &err);
  if (!fd) throw CtlError(exit_code::kUnavailable, unavailable_line(path, err));
  return Client(std::move(fd), path);
}

void Client::write_all(const std::string& bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::send(fd_.get(), bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw CtlError(exit_code::kUnavailable, "the daemon closed " + socket_path_.string() + " (" +
                                                  std::strerror(errno) + ")");
    }
    done += static_cast<std::size_t>(n);
  }
}

std::optional<Json> Client::read_message(int timeout_ms, bool stop_on_interrupt, int also) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  std::string line;
  char buf[65536];
  for (;;) {
    switch (framer_.next(line)) {
      case LineFramer::Status::kLine: {
        Json j = Json::parse(line, nullptr, false);
        if (j.is_discarded()) {
          throw CtlError(exit_code::kFailure, "the daemon sent something that is not JSON");
        }
        return j;
      }
      case LineFramer::Status::kTooLong:
        throw CtlError(exit_code::kFailure, "the daemon sent an answer larger than 1 GiB");
      case LineFramer::Status::kNeedMore:
        break;
    }
    if (stop_on_interrupt && g_interrupted) return std::nullopt;
    // Short slices so an interrupt is noticed even when the signal lands outside poll().
    int wait_ms = 250;
    if (timeout_ms >= 0) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                            deadline - std::chrono::steady_clock::now())
                            .count();
      if (left <= 0) return std::nullopt;
      wait_ms = static_cast<int>(std::min<std::int64_t>(left, wait_ms));
    }
    pollfd p[2] = {{fd_.get(), POLLIN, 0}, {also, POLLIN, 0}};
    const int rc = ::poll(p, also >= 0 ? 2 : 1, wait_ms);
    if (rc < 0 && errno != EINTR) {
      throw CtlError(exit_code::kFailure, std::string("poll: ") + std::strerror(errno));
    }
    if (rc <= 0) continue;
    if (also >= 0 && p[1].revents != 0) return std::nullopt;
    if (p[0].revents == 0) continue;
    const ssize_t n = ::recv(fd_.get(), buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      throw CtlError(exit_code::kUnavailable, "lost the connection to the daemon on " +
                                                  socket_path_.string() + " (" +
                                                  std::strerror(errno) + ")");
    }
    if (n == 0) {
      throw CtlError(exit_code::kUnavailable,
                     "the daemon closed the connection on " + socket_path_.string() +
                         " (it stopped, or refused the request; see its log)");
    }
    framer_.append(std::string_view(buf, static_cast<std::size_t>(n)));
  }
}

Json Client::call(const std::string& method, Json params, int timeout_seconds) {
  std::optional<Json> result = call_until(method, std::move(params), timeout_seconds * 1000);
  if (!result) {
    throw CtlError(exit_code::kUnavailable, "the daemon did not answer `" + method + "` within " +
                                                std::to_string(timeout_seconds) + " s on " +
                                                socket_path_.string());
  }
  return std::move(*result);
}

std::optional<Json> Client::call_until(const std::string& method, Json params, int timeout_ms,
                                       int also) {
  const std::int64_t id = next_id_++;
  const Json request{
      {"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", std::move(params)}};
  write_all(request.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n");
  for (;;) {
    std::optional<Json> msg;
    try {
      msg = read_message(timeout_ms, false, also);
    } catch (const CtlError& e) {
      // Closed while answering: if the daemon still accepts connections it dropped this one on
      // purpose (most often an answer larger than its write-queue cap), which is no outage.
      if (e.exit_code() == exit_code::kUnavailable && unix_socket::is_live(socket_path_.string())) {
        throw CtlError(exit_code::kFailure,
                       "the daemon closed the connection without answering `" + method +
                           "` (an answer larger than [limits] max_write_queue_bytes? see its log)");
      }
      throw;
    }
    if (!msg) return std::nullopt;
    if (!msg->is_object()) continue;
    if (msg->contains("method")) {
      if (msg->value("method", "") == ctl_protocol::kEvent && msg->contains("params")) {
        events_.push_back((*msg)["params"]);
      }
      continue;
    }
    if (!msg->contains("id") || (*msg)["id"] != id) continue;
    if (msg->contains("error")) {
      const Json& e = (*msg)["error"];
      const int code = e.value("code", 0);
      std::string text = e.value("message", std::string("unknown error"));
      int status = exit_code::kFailure;
      if (code == ctl_protocol::kInvalidParams) status = exit_code::kUsage;
      if (code == ctl_protocol::kBadInputFile) status = exit_code::kDataErr;
      if (code == ctl_protocol::kMethodNotFound) {
        text = "the daemon does not know `" + method +
               "` (is it older than this claude-bridgectl? compare `claude-bridged --version`)";
      }
      throw CtlError(status, text);
    }
    return msg->value("result", Json::object());
  }
}

std::optional<Json> Client::next_event() {
  if (!events_.empty()) {
    Json e = std::move(events_.front());
    events_.erase(events_.begin());
    return e;
  }
  for (;;) {
    auto msg = read_message(-1, true);
    if (!msg) return std::nullopt;
    if (msg->is_object() && msg->value("method", "") == ctl_protocol::kEvent &&
        msg->contains("params")) {
      return (*msg)["params"];
    }
  }
}

}  // namespace cb::ctl
