// Cross-daemon wake-ups (issue 27): LISTEN cb_mail on a connection of its own, on a thread of
// its own, handing other daemons' notices to the loop. No polling of the tables: the thread
// sleeps in poll() on libpq's socket and an eventfd that stops it.
#include <libpq-fe.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <string_view>
#include <thread>

#include "daemon/store/pg/pg_database.h"

namespace cb::store::pg {

class Listener {
 public:
  Listener(std::string conninfo, std::string self_id, PgDatabase::Post post,
           std::function<void(const MailNotice&)> on_mail)
      : conninfo_(std::move(conninfo)),
        self_id_(std::move(self_id)),
        post_(std::move(post)),
        on_mail_(std::move(on_mail)),
        stop_fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
    if (stop_fd_ < 0) throw std::runtime_error("eventfd failed for the team store's listener");
    thread_ = std::thread([this] { run(); });
  }
  ~Listener() {
    const std::uint64_t one = 1;
    ssize_t n;
    do {
      n = ::write(stop_fd_, &one, sizeof one);
    } while (n < 0 && errno == EINTR);
    thread_.join();
    ::close(stop_fd_);
  }
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

 private:
  // Waits for `events` on `fd` (or only for the stop when fd < 0) up to `timeout`; false once
  // stopping.
  bool wait(int fd, short events, std::chrono::milliseconds timeout) {
    pollfd fds[2] = {{stop_fd_, POLLIN, 0}, {fd, events, 0}};
    const int n = ::poll(fds, fd >= 0 ? 2 : 1, static_cast<int>(timeout.count()));
    if (n < 0 && errno != EINTR) return false;
    return (fds[0].revents & POLLIN) == 0;
  }

  // A started connection driven to the end, or nullptr (stopping, or it failed: `why` says).
  pg_conn* connect(std::string& why) {
    pg_conn* c = connect_conn(conninfo_, /*start_only=*/true);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    PostgresPollingStatusType st = PGRES_POLLING_WRITING;
    while (c && PQstatus(c) != CONNECTION_BAD && st != PGRES_POLLING_OK &&
           st != PGRES_POLLING_FAILED) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        why = "timed out connecting";
        PQfinish(c);
        return nullptr;
      }
      const short events = st == PGRES_POLLING_READING ? POLLIN : POLLOUT;
      if (!wait(PQsocket(c), events, left)) {
        PQfinish(c);
        return nullptr;
      }
      st = PQconnectPoll(c);
    }
    if (!c || PQstatus(c) != CONNECTION_OK) {
      why = conn_error(c, "libpq could not start a connection");
      if (c) PQfinish(c);
      return nullptr;
    }
    pg_result* r = PQexec(c, "LISTEN cb_mail");
    const bool ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!ok) {
      why = conn_error(c, "LISTEN failed");
      PQfinish(c);
      return nullptr;
    }
    return c;
  }

  void deliver(const MailNotice& n) {
    post_([fn = on_mail_, n] { fn(n); });
  }

  // The pieces of `text` between `sep`s, empty ones included.
  static std::vector<std::string> split(std::string_view text, char sep) {
    std::vector<std::string> out;
    for (;;) {
      const auto end = text.find(sep);
      out.emplace_back(text.substr(0, end));
      if (end == std::string_view::npos) return out;
      text.remove_prefix(end + 1);
    }
  }

  // payload: daemon_id TAB conversation_id TAB id TAB sender TAB recipient [TAB members]
  // (PgMessages::insert)
  void handle(const char* payload) {
    std::vector<std::string> f = split(payload, '\t');
    if (f.size() != 5 && f.size() != 6) {
      spdlog::debug("team store: ignoring a cb_mail notice of {} fields", f.size());
      return;
    }
    if (f[0] == self_id_) return;  // our own: the loop knew before it committed
    MailNotice n;
    n.daemon_id = std::move(f[0]);
    n.conversation_id = std::move(f[1]);
    n.message_id = std::strtoll(f[2].c_str(), nullptr, 10);
    n.sender = std::move(f[3]);
    n.recipient = std::move(f[4]);
    if (f.size() == 6) {
      for (auto& name : split(f[5], ',')) {
        if (!name.empty()) n.members.push_back(std::move(name));
      }
    }
    if (n.message_id <= 0 || n.conversation_id.empty()) return;
    deliver(n);
  }

  void run() {
    auto backoff = std::chrono::seconds(1);
    bool missed = false;  // notices may have gone by while there was no LISTEN
    for (;;) {
      std::string why;
      pg_conn* c = connect(why);
      if (!c) {
        if (why.empty()) return;  // stopping
        spdlog::warn("team store listener: {}; retrying in {} s", why, backoff.count());
        missed = true;
        if (!wait(-1, 0, backoff)) return;
        backoff = std::min(backoff * 2, std::chrono::seconds(30));
        continue;
      }
      backoff = std::chrono::seconds(1);
      if (missed) {
        spdlog::info("team store listener reconnected; local waiters read again");
        deliver(MailNotice{});  // the resync notice
        missed = false;
      }
      bool stopping = false;
      while (PQstatus(c) == CONNECTION_OK) {
        if (!wait(PQsocket(c), POLLIN, std::chrono::milliseconds(-1))) {
          stopping = true;
          break;
        }
        if (PQconsumeInput(c) == 0) break;
        while (PGnotify* n = PQnotifies(c)) {
          handle(n->extra ? n->extra : "");
          PQfreemem(n);
        }
      }
      if (!stopping) spdlog::warn("team store listener: {}", conn_error(c, "connection lost"));
      PQfinish(c);
      if (stopping) return;
      missed = true;
    }
  }

  std::string conninfo_;
  std::string self_id_;
  PgDatabase::Post post_;
  std::function<void(const MailNotice&)> on_mail_;
  int stop_fd_ = -1;
  std::thread thread_;
};

void ListenerStop::operator()(Listener* l) const { delete l; }

void PgDatabase::listen(Post post, std::function<void(const MailNotice&)> on_mail) {
  listener_.reset();
  listener_.reset(new Listener(options_.conninfo, options_.self.daemon_id, std::move(post),
                               std::move(on_mail)));
}

}  // namespace cb::store::pg
