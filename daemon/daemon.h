#pragma once

#include <asio/signal_set.hpp>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <memory>
#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "daemon/async.h"
#include "daemon/mcp/metrics.h"
#include "daemon/mcp/session.h"
#include "daemon/mcp/tool_registry.h"
#include "daemon/net/listeners.h"
#include "daemon/runtime_config.h"
#include "daemon/session_notifier.h"
#include "daemon/store/sqlite_database.h"

namespace cb {

namespace bridge {
class Bridge;
}
namespace admin {
class AdminApi;
}
namespace net {
class Server;
}
namespace store {
class Database;
namespace pg {
class PgDatabase;
}
}

struct DaemonOptions {
  std::filesystem::path socket_dir;
  std::filesystem::path state_dir;
  std::filesystem::path config_file;
  bool config_required = false;  // named by flag or environment: a missing file is an error
  std::string log_level;         // overrides the config when non-empty
};

// The daemon's lifetime: start-up (daemon.cpp), then one event loop serving both sockets until
// SIGTERM/SIGINT, with SIGHUP reloading the configuration (daemon_reload.cpp), the retention
// purge and the systemd watchdog running beside it (daemon_tasks.cpp), and the drain at the end.
class Daemon {
 public:
  explicit Daemon(DaemonOptions options);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Everything up to serving: the configuration, the process's hardening, the state directory,
  // the key and database, the sockets. A failure is one line for stderr (exit status 78).
  Status start(RuntimeConfig config);
  // Serves until SIGTERM/SIGINT, then drains; the process exit status.
  int run();

 private:
  // [store]: the SQLite file, or the team's PostgreSQL with its key check (daemon_store.cpp).
  Status open_store(const std::string& key);
  void open_database();
  // A team's store: group commit, the listener for other daemons' mail (daemon_store.cpp).
  void open_team();
  awaitable<void> team_loop();
  void build_services(std::string key);
  void listen();
  // The [yolo] settings with what only the daemon knows: its paths (hidden from every sandbox),
  // the home directory, and whether the sandbox can run here (probed when execution is on).
  bridge::ExecSettings exec_settings(const RuntimeConfig& config) const;
  nlohmann::json runtime_stats() const;

  void wait_signal();
  // SIGHUP: the whole file again through the one config path; refused as a whole (the running
  // configuration stays, one error line) or applied to every reloadable part.
  void reload();
  void apply(RuntimeConfig next);
  void shutdown(int signal);
  awaitable<void> purge_loop();
  void purge_once();
  awaitable<void> watchdog_loop(std::chrono::microseconds period);

  DaemonOptions options_;
  RuntimeConfig config_;
  // Destroyed in reverse order: the loop's objects before the loop, the loop before the database.
  std::unique_ptr<store::Database> db_;
  net::ListenFds fds_;
  asio::io_context io_{1};
  store::SqliteDatabase* sqlite_ = nullptr;  // db_, when it is the embedded SQLite store
  store::pg::PgDatabase* pg_ = nullptr;       // db_, when it is a team's PostgreSQL store
  struct StopSync {
    store::SqliteDatabase* db = nullptr;
    store::pg::PgDatabase* pg = nullptr;
    ~StopSync();
  } stop_sync_;  // the sync and listener threads post to the loop: they stop before it goes away
  std::chrono::steady_clock::time_point started_;
  SystemClock clock_;
  std::unique_ptr<bridge::Bridge> bridge_;
  SessionNotifier notifier_;
  mcp::ToolRegistry tools_;
  mcp::Metrics metrics_;
  mcp::ServerInfo info_;
  std::unique_ptr<net::Server> server_;
  std::unique_ptr<admin::AdminApi> admin_api_;
  asio::steady_timer purge_timer_{io_};
  asio::steady_timer watchdog_timer_{io_};
  asio::steady_timer team_timer_{io_};
  asio::signal_set signals_{io_, SIGINT, SIGTERM, SIGHUP};
  bool stopping_ = false;
};

// main()'s entry: validates through the one config path, starts a Daemon and runs it. Returns
// the process exit status; start-up failures are reported as one line on stderr.
int run_daemon(const DaemonOptions& options);

// --check-config: the same path as start-up and SIGHUP, touching no socket, state directory or
// sandbox. One line on stdout (exit 0) or stderr (exit 78).
int check_config(const DaemonOptions& options);

}  // namespace cb
