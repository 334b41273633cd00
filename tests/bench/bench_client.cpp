#include "tests/bench/bench_client.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <numeric>
#include <sstream>

#include "common/unix_socket.h"

extern char** environ;

namespace cb::bench {

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

const Json& Reply::json() {
  if (!parsed_) parsed_ = Json::parse(line, nullptr, false);
  return *parsed_;
}

bool Reply::is_error_result() const {
  // Cheap checks first: both markers are written by the daemon, never by the generator's text.
  if (line.find("\"error\":{") != std::string::npos && line.find("\"result\":") == std::string::npos) {
    return true;
  }
  return line.find("\"isError\":true") != std::string::npos;
}

namespace {

void set_nonblocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

// The integer id at the front of a response frame: {"id":123,...}. nullopt when the frame does
// not start that way (notifications, server requests, or an unexpected layout: then the caller
// parses the whole frame).
std::optional<std::int64_t> leading_id(std::string_view line) {
  constexpr std::string_view kPrefix = "{\"id\":";
  if (line.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  std::size_t i = kPrefix.size();
  std::int64_t v = 0;
  bool any = false;
  while (i < line.size() && line[i] >= '0' && line[i] <= '9') {
    v = v * 10 + (line[i] - '0');
    ++i;
    any = true;
  }
  if (!any || i >= line.size() || line[i] != ',') return std::nullopt;
  return v;
}

}  // namespace

// ---- Endpoint ----

Endpoint::Endpoint(Loop& loop, int rfd, int wfd, pid_t child)
    : loop_(loop), rfd_(rfd), wfd_(wfd), child_(child) {}

Endpoint::~Endpoint() { close(); }

void Endpoint::close() {
  if (rfd_ < 0 && wfd_ < 0) return;
  if (wfd_ >= 0 && wfd_ != rfd_) {
    loop_.unwatch(wfd_);
    ::close(wfd_);
  } else if (wfd_ >= 0) {
    ::shutdown(wfd_, SHUT_WR);
  }
  if (rfd_ >= 0) {
    loop_.unwatch(rfd_);
    ::close(rfd_);
  }
  rfd_ = wfd_ = -1;
  if (child_ > 0) {
    int status = 0;
    // The shim exits on stdin EOF once the daemon closes; give it a moment, then insist.
    for (int i = 0; i < 200; ++i) {
      if (::waitpid(child_, &status, WNOHANG) == child_) {
        child_ = -1;
        return;
      }
      ::usleep(5000);
    }
    ::kill(child_, SIGKILL);
    ::waitpid(child_, &status, 0);
    child_ = -1;
  }
}

void Endpoint::fail(std::string why) {
  if (failed_) return;
  failed_ = true;
  failure_ = std::move(why);
  if (loop_.failure_.empty()) loop_.failure_ = failure_;
}

std::int64_t Endpoint::request(std::string_view method, const Json& params, Handler on_reply) {
  const std::int64_t id = next_id_++;
  Json msg{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}};
  if (!params.is_null()) msg["params"] = params;
  const std::string frame = msg.dump();
  const std::int64_t t = now_ns();
  pending_.emplace(id, Pending{std::move(on_reply), t});
  send_line(frame);
  return t;
}

void Endpoint::cancel_pending() {
  for (const auto& [id, p] : pending_) {
    notify("notifications/cancelled", Json{{"requestId", id}, {"reason", "benchmark phase over"}});
    cancelled_.insert(id);
  }
  pending_.clear();
}

void Endpoint::notify(std::string_view method, const Json& params) {
  Json msg{{"jsonrpc", "2.0"}, {"method", method}};
  if (!params.is_null()) msg["params"] = params;
  send_line(msg.dump());
}

void Endpoint::send_line(std::string_view frame) {
  if (wfd_ < 0) return;
  if (out_off_ == out_.size()) {
    out_.clear();
    out_off_ = 0;
  }
  out_.append(frame);
  out_.push_back('\n');
  flush();
}

void Endpoint::flush() {
  while (out_off_ < out_.size()) {
    const ssize_t n = ::write(wfd_, out_.data() + out_off_, out_.size() - out_off_);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      fail(std::string("write: ") + std::strerror(errno));
      return;
    }
    out_off_ += static_cast<std::size_t>(n);
  }
  const bool want = out_off_ < out_.size();
  if (want != want_write_) {
    want_write_ = want;
    loop_.set_write_interest(this, want);
  }
}

void Endpoint::on_writable() { flush(); }

void Endpoint::on_readable() {
  char buf[65536];
  std::int64_t arrived = 0;
  for (;;) {
    const ssize_t n = ::read(rfd_, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      fail(std::string("read: ") + std::strerror(errno));
      return;
    }
    if (n == 0) {
      if (!pending_.empty()) fail("the daemon closed the connection with requests pending");
      loop_.unwatch(rfd_);
      break;
    }
    if (arrived == 0) arrived = now_ns();
    framer_.append(std::string_view(buf, static_cast<std::size_t>(n)));
    if (static_cast<std::size_t>(n) < sizeof buf) break;
  }
  std::string line;
  for (;;) {
    const auto status = framer_.next(line);
    if (status == LineFramer::Status::kNeedMore) break;
    if (status == LineFramer::Status::kTooLong) {
      fail("a reply longer than 64 MiB");
      return;
    }
    std::optional<std::int64_t> id = leading_id(line);
    if (!id && line.rfind("{\"jsonrpc\":\"2.0\",\"method\":", 0) == 0) continue;  // notification
    if (!id) {
      // Notifications (progress, channel push) and anything else: routed only if it is a
      // response in an unexpected layout.
      Json j = Json::parse(line, nullptr, false);
      if (!j.is_object() || j.contains("method") || !j.contains("id") ||
          !j["id"].is_number_integer()) {
        continue;
      }
      id = j["id"].get<std::int64_t>();
    }
    auto it = pending_.find(*id);
    if (it == pending_.end()) {
      if (!cancelled_.erase(*id)) fail("a reply to unknown request id " + std::to_string(*id));
      continue;
    }
    Pending p = std::move(it->second);
    pending_.erase(it);
    Reply r;
    r.line = std::move(line);
    r.arrived_ns = arrived;
    r.sent_ns = p.sent_ns;
    p.handler(r);
    line.clear();
  }
}

// ---- Loop ----

Loop::Loop() : epfd_(::epoll_create1(EPOLL_CLOEXEC)) {}

Loop::~Loop() { ::close(epfd_); }

void Loop::watch(int fd, Endpoint* ep, bool write) {
  by_fd_[fd] = ep;
  epoll_event ev{};
  ev.events = write ? 0u : static_cast<std::uint32_t>(EPOLLIN);
  ev.data.fd = fd;
  ::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev);
}

void Loop::unwatch(int fd) {
  if (by_fd_.erase(fd)) ::epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);
}

void Loop::set_write_interest(Endpoint* ep, bool on) {
  epoll_event ev{};
  ev.data.fd = ep->wfd_;
  if (ep->wfd_ == ep->rfd_) {
    ev.events = EPOLLIN | (on ? EPOLLOUT : 0u);
  } else {
    ev.events = on ? EPOLLOUT : 0u;
  }
  ::epoll_ctl(epfd_, EPOLL_CTL_MOD, ep->wfd_, &ev);
}

std::unique_ptr<Endpoint> Loop::connect(const std::string& socket_path, std::string* error) {
  int err = 0;
  UniqueFd fd = unix_socket::connect(socket_path, &err);
  if (!fd) {
    if (error) *error = "connect " + socket_path + ": " + std::strerror(err);
    return nullptr;
  }
  set_nonblocking(fd.get());
  const int raw = fd.release();
  std::unique_ptr<Endpoint> ep(new Endpoint(*this, raw, raw, -1));
  watch(raw, ep.get(), false);
  return ep;
}

std::unique_ptr<Endpoint> Loop::spawn(const std::vector<std::string>& argv, std::string* error) {
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0) {
    if (error) *error = std::string("pipe: ") + std::strerror(errno);
    return nullptr;
  }
  if (::pipe2(out, O_CLOEXEC) != 0) {
    if (error) *error = std::string("pipe: ") + std::strerror(errno);
    ::close(in[0]);
    ::close(in[1]);
    return nullptr;
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(in[0]);
  ::close(out[1]);
  if (rc != 0) {
    if (error) *error = "spawn " + argv[0] + ": " + std::strerror(rc);
    ::close(in[1]);
    ::close(out[0]);
    return nullptr;
  }
  set_nonblocking(in[1]);
  set_nonblocking(out[0]);
  std::unique_ptr<Endpoint> ep(new Endpoint(*this, out[0], in[1], pid));
  watch(out[0], ep.get(), false);
  watch(in[1], ep.get(), true);
  return ep;
}

bool Loop::poll_once(int timeout_ms) {
  epoll_event events[256];
  const int n = ::epoll_wait(epfd_, events, 256, timeout_ms);
  if (n < 0) return errno == EINTR;
  for (int i = 0; i < n; ++i) {
    auto it = by_fd_.find(events[i].data.fd);
    if (it == by_fd_.end()) continue;
    Endpoint* ep = it->second;
    if ((events[i].events & EPOLLOUT) && ep->wfd_ == events[i].data.fd) ep->on_writable();
    if ((events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && ep->rfd_ == events[i].data.fd) {
      ep->on_readable();
    } else if ((events[i].events & (EPOLLHUP | EPOLLERR)) && ep->wfd_ == events[i].data.fd) {
      ep->fail("the peer closed its end");
      unwatch(events[i].data.fd);
    }
  }
  return true;
}

bool Loop::run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const std::int64_t deadline = now_ns() + timeout.count() * 1'000'000;
  while (!done()) {
    if (!failure_.empty()) return false;
    const std::int64_t left = deadline - now_ns();
    if (left <= 0) return false;
    poll_once(static_cast<int>(std::min<std::int64_t>(left / 1'000'000 + 1, 100)));
  }
  return failure_.empty();
}

void Loop::run_for(std::chrono::milliseconds d) {
  const std::int64_t deadline = now_ns() + d.count() * 1'000'000;
  for (;;) {
    const std::int64_t left = deadline - now_ns();
    if (left <= 0) return;
    poll_once(static_cast<int>(left / 1'000'000 + 1));
  }
}

// ---- Measurements ----

Percentiles percentiles_us(std::vector<std::int64_t> s) {
  Percentiles p;
  p.count = s.size();
  if (s.empty()) return p;
  std::sort(s.begin(), s.end());
  auto at = [&](double q) {
    const std::size_t i = std::min(s.size() - 1, static_cast<std::size_t>(q * static_cast<double>(s.size())));
    return static_cast<double>(s[i]) / 1000.0;
  };
  p.p50 = at(0.50);
  p.p90 = at(0.90);
  p.p99 = at(0.99);
  p.max = static_cast<double>(s.back()) / 1000.0;
  p.mean = static_cast<double>(std::accumulate(s.begin(), s.end(), std::int64_t{0})) /
           static_cast<double>(s.size()) / 1000.0;
  return p;
}

std::int64_t proc_status_kib(pid_t pid, const char* field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  const std::string key = std::string(field) + ":";
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0) return std::strtoll(line.c_str() + key.size(), nullptr, 10);
  }
  return -1;
}

std::int64_t proc_rollup_kib(pid_t pid, const char* field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/smaps_rollup");
  std::string line;
  const std::string key = std::string(field) + ":";
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0) return std::strtoll(line.c_str() + key.size(), nullptr, 10);
  }
  return -1;
}

std::int64_t proc_private_kib(pid_t pid) {
  const auto clean = proc_rollup_kib(pid, "Private_Clean");
  const auto dirty = proc_rollup_kib(pid, "Private_Dirty");
  return clean < 0 || dirty < 0 ? -1 : clean + dirty;
}

double proc_cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close_paren = all.rfind(')');
  if (close_paren == std::string::npos) return 0;
  std::istringstream fields(all.substr(close_paren + 2));
  std::string f;
  std::vector<std::string> v;
  while (fields >> f) v.push_back(f);
  // After "pid (comm) ", field 3 (state) is v[0]; utime is field 14 → v[11], stime v[12].
  if (v.size() < 13) return 0;
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  return (std::stod(v[11]) + std::stod(v[12])) / ticks;
}

pid_t listener_pid(const std::string& socket_path) {
  int err = 0;
  UniqueFd fd = unix_socket::connect(socket_path, &err);
  if (!fd) return -1;
  unix_socket::PeerCred cred;
  if (!unix_socket::peer_cred(fd.get(), &cred)) return -1;
  return cred.pid;
}

}  // namespace cb::bench
