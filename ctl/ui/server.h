#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "ctl/ui/auth.h"
#include "ctl/ui/events.h"
#include "ctl/ui/feed.h"

struct MHD_Daemon;
struct MHD_Connection;

// The console's HTTP server (libmicrohttpd, docs/architecture.md "ctl/ui"): one listening
// socket on 127.0.0.1, a small pool of epoll threads, bounded connections and per-connection
// memory. Every request passes the Gate (Host, cookie, Origin) before it reaches a route; the
// routes reach the daemon through fresh ctl.sock connections. Only POSTs change its state: the
// operator's post and the end of a conversation (and the audit check, which records itself).
namespace cb::ctl::ui {

struct ServerOptions {
  int port = 0;  // 0: a free port chosen by the kernel
  std::filesystem::path socket_dir;
  // How the person runs claude-bridgectl against this daemon (shown in approve commands).
  std::string ctl_command = "claude-bridgectl";
};

class Server {
 public:
  // The largest request body accepted (the operator's post, as JSON: room for a message of the
  // daemon's default 50,000 characters); larger ones get 413.
  static constexpr std::size_t kMaxBody = 64 * 1024;
  // Per-connection memory for headers and buffers; a request whose headers do not fit gets 431.
  static constexpr std::size_t kConnectionMemory = 32 * 1024;
  static constexpr unsigned kThreads = 2;
  static constexpr unsigned kIdleTimeoutSeconds = 30;
  // Identical reads within this time share one daemon call: pages refresh on the same events,
  // so twenty open pages cost the daemon about what one does.
  static constexpr std::chrono::milliseconds kCoalesce{1000};
  // Message text per /api/messages answer (`export`'s page_bytes); the page asks again for more.
  static constexpr std::int64_t kMessagePageBytes = 1 << 20;
  // The graph of who talks to whom covers this many minutes.
  static constexpr int kTalkMinutes = 60;

  Server(ServerOptions options, Hub& hub, Feed& feed);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts serving; returns the port. The gate is made by `make_gate` once the port
  // is known. Throws std::runtime_error naming what failed.
  int start(const std::string& token, const std::string& session);
  // Ends the event streams, then stops.
  void stop();

  // Used by the request handler (server.cpp).
  int handle(MHD_Connection* c, const char* url, const char* method, const char* upload,
             std::size_t* upload_size, void** state);

 private:
  int route(MHD_Connection* c, const std::string& url, const std::string& method,
            const std::string& body);
  int serve_api(MHD_Connection* c, const std::string& url, bool post, const std::string& body);
  // POST /api/post and /api/end: the operator's state changes, a JSON body each.
  int serve_change(MHD_Connection* c, const std::string& url, const std::string& body);
  int serve_events(MHD_Connection* c);
  // A read-only admin call, answered from a result at most kCoalesce old when there is one.
  // `shape`, when given, makes the answer from the daemon's result.
  int read_daemon(MHD_Connection* c, const char* method, const Json& params,
                  Json (*shape)(const Json&) = nullptr);

  struct Cached {
    std::chrono::steady_clock::time_point at;
    unsigned status;
    std::string body;
  };
  std::mutex cache_m_;
  std::map<std::string, Cached> cache_;

  ServerOptions options_;
  Hub& hub_;
  Feed& feed_;
  std::unique_ptr<Gate> gate_;
  MHD_Daemon* daemon_ = nullptr;
  int port_ = 0;
};

}  // namespace cb::ctl::ui
