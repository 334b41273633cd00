#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/framing.h"

// The load generator's plumbing: MCP endpoints (a raw mcp.sock connection, or a real shim
// process on pipes) driven by one epoll loop on one thread, so the generator uses one core and
// the daemon the other on a 2-core machine. Nothing here parses more JSON than it must: replies
// are routed by their id, read off the front of the frame (the daemon dumps objects with sorted
// keys, so "id" comes first in every response).
namespace cb::bench {

using Json = nlohmann::json;

// Monotonic nanoseconds.
std::int64_t now_ns();

// A reply line and the moment the read() that brought it returned.
struct Reply {
  std::string line;
  std::int64_t arrived_ns = 0;
  std::int64_t sent_ns = 0;  // when the request was written
  // The whole frame, parsed on first use.
  const Json& json();
  bool is_error_result() const;  // a JSON-RPC error, or a tool result with isError:true

 private:
  std::optional<Json> parsed_;
};

class Loop;

class Endpoint {
 public:
  using Handler = std::function<void(Reply&)>;

  ~Endpoint();
  Endpoint(const Endpoint&) = delete;
  Endpoint& operator=(const Endpoint&) = delete;

  // Sends a request; `on_reply` runs when its response arrives. Returns the send time.
  std::int64_t request(std::string_view method, const Json& params, Handler on_reply);
  void notify(std::string_view method, const Json& params);
  // Cancels every request still in flight (notifications/cancelled); their handlers never run
  // and a reply that crosses the cancellation is ignored.
  void cancel_pending();
  // Writes a frame as is (newline added).
  void send_line(std::string_view frame);

  // Closes the write side (EOF for a shim, SHUT_WR for a socket) and then everything.
  void close();
  pid_t child() const { return child_; }
  bool failed() const { return failed_; }
  const std::string& failure() const { return failure_; }
  std::size_t pending() const { return pending_.size(); }

 private:
  friend class Loop;
  Endpoint(Loop& loop, int rfd, int wfd, pid_t child);
  void on_readable();
  void on_writable();
  void flush();
  void fail(std::string why);

  struct Pending {
    Handler handler;
    std::int64_t sent_ns;
  };

  Loop& loop_;
  int rfd_;
  int wfd_;
  pid_t child_;
  std::string out_;
  std::size_t out_off_ = 0;
  bool want_write_ = false;
  LineFramer framer_{64u << 20};
  std::unordered_map<std::int64_t, Pending> pending_;
  std::unordered_set<std::int64_t> cancelled_;
  std::int64_t next_id_ = 1;
  bool failed_ = false;
  std::string failure_;
};

class Loop {
 public:
  Loop();
  ~Loop();

  // A direct connection to `socket_path`; nullptr (and *error) when it cannot connect.
  std::unique_ptr<Endpoint> connect(const std::string& socket_path, std::string* error);
  // A shim child process: `argv` with stdin/stdout on pipes, stderr to /dev/null.
  std::unique_ptr<Endpoint> spawn(const std::vector<std::string>& argv, std::string* error);

  // Runs until `done()` is true; false if `timeout` passed first or an endpoint failed.
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout);
  // Runs for `d` regardless.
  void run_for(std::chrono::milliseconds d);
  // First failure seen on any endpoint (empty if none).
  const std::string& failure() const { return failure_; }

 private:
  friend class Endpoint;
  void watch(int fd, Endpoint* ep, bool write);
  void unwatch(int fd);
  void set_write_interest(Endpoint* ep, bool on);
  bool poll_once(int timeout_ms);

  int epfd_;
  std::unordered_map<int, Endpoint*> by_fd_;
  std::string failure_;
};

// ---- Measurements ----

struct Percentiles {
  std::size_t count = 0;
  double p50 = 0, p90 = 0, p99 = 0, max = 0, mean = 0;
};
// Of samples in nanoseconds, reported in microseconds.
Percentiles percentiles_us(std::vector<std::int64_t> samples_ns);

// Fields of /proc/<pid>/status in KiB (VmRSS, VmHWM, RssAnon, RssFile); -1 if absent.
std::int64_t proc_status_kib(pid_t pid, const char* field);
// Fields of /proc/<pid>/smaps_rollup in KiB (Pss, Private_Clean, Private_Dirty, Shared_Clean);
// -1 if unavailable.
std::int64_t proc_rollup_kib(pid_t pid, const char* field);
inline std::int64_t proc_pss_kib(pid_t pid) { return proc_rollup_kib(pid, "Pss"); }
// Pages no other process maps: Private_Clean + Private_Dirty (the USS); -1 if unavailable.
std::int64_t proc_private_kib(pid_t pid);
// utime + stime of a process in seconds.
double proc_cpu_seconds(pid_t pid);
// The pid of the process listening on a Unix socket, via SO_PEERCRED of a fresh connection.
pid_t listener_pid(const std::string& socket_path);

}  // namespace cb::bench
