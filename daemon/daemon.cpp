#include "daemon/daemon.h"

#include <pwd.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "cb_config.h"
#include "common/exit_codes.h"
#include "common/paths.h"
#include "daemon/admin/admin_api.h"
#include "daemon/admin/approval_methods.h"
#include "daemon/admin/extra_methods.h"
#include "daemon/bridge/bridge.h"
#include "daemon/crypto/crypto.h"
#include "daemon/exec/sandbox.h"
#include "daemon/net/sd_notify.h"
#include "daemon/net/server.h"
#include "daemon/store/pg/pg_database.h"
#include "daemon/tools/bridge_tools.h"
#include "daemon/tools/exec_tools.h"

namespace cb {
namespace {

void configure_logging(const std::string& level) {
  auto logger = spdlog::stderr_color_mt("claude-bridged");
  // journald adds its own timestamps; a terminal gets ours.
  logger->set_pattern(std::getenv("JOURNAL_STREAM") ? "%l: %v" : "%Y-%m-%d %H:%M:%S.%e %l: %v");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(level));
}

// Everything the daemon creates (database, WAL, key, sockets) is private to this user, and no
// core dump may hold the server key or messages.
void harden_process() {
  ::umask(077);
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  rlimit no_core{0, 0};
  ::setrlimit(RLIMIT_CORE, &no_core);
}

std::filesystem::path home_dir() {
  if (const char* h = std::getenv("HOME"); h != nullptr && h[0] == '/') return h;
  if (const passwd* pw = ::getpwuid(::getuid()); pw != nullptr && pw->pw_dir != nullptr) {
    return pw->pw_dir;
  }
  return {};
}

int fail(int code, const std::string& line) {
  std::fprintf(stderr, "claude-bridged: %s\n", line.c_str());
  return code;
}

}  // namespace

Daemon::StopSync::~StopSync() {
  if (db) db->stop_background_sync();
  if (pg) pg->stop_listening();
}

Daemon::Daemon(DaemonOptions options) : options_(std::move(options)) {}
Daemon::~Daemon() = default;

Status Daemon::start(RuntimeConfig config) {
  config_ = std::move(config);
  configure_logging(options_.log_level.empty() ? config_.log_level : options_.log_level);
  harden_process();
  if (Status dir = paths::ensure_private_dir(options_.state_dir, paths::kStateDirUse); !dir.ok()) {
    return Status::invalid("state dir: " + dir.message());
  }
  Result<std::string> key = crypto::load_or_create_key(options_.state_dir / "server.key");
  if (!key) return Status::invalid(key.status().message());
  if (Status opened = open_store(key.value()); !opened.ok()) {
    crypto::wipe(key.value());
    return opened;
  }
  Result<net::ListenFds> fds = net::acquire(options_.socket_dir);
  if (!fds) {
    crypto::wipe(key.value());
    return Status::invalid(fds.status().message());
  }
  fds_ = std::move(fds).value();
  open_database();
  open_team();
  build_services(std::move(key).value());
  listen();
  return {};
}

void Daemon::open_database() {
  if (!sqlite_) return;
  // Group commit: the writes of every request handled in one turn of the loop share a commit.
  sqlite_->enable_group_commit(
      [ex = io_.get_executor()](std::function<void()> flush) { asio::post(ex, std::move(flush)); });
  // With synchronous = "full", each group's fsync runs on a thread of its own while the loop
  // serves the next group (daemon/store/background_sync.h). A failed fsync is fatal.
  sqlite_->enable_background_sync(
      [ex = io_.get_executor()](std::function<void()> fn) { asio::post(ex, std::move(fn)); },
      [](const std::string& why) {
        spdlog::critical("{}; exiting so that a restart recovers what is on disk", why);
        spdlog::default_logger()->flush();
        std::_Exit(exit_code::kIoErr);
      });
  // A checkpoint (two fsyncs, milliseconds) waits for a tenth of a second without commits, so
  // that it falls between bursts of traffic; under sustained load a thread syncs the WAL
  // before it (daemon/store/checkpoints.cpp).
  sqlite_->enable_idle_checkpoint(
      [this](std::chrono::milliseconds after, std::function<void()> fn) {
        auto timer = std::make_shared<asio::steady_timer>(io_, after);
        timer->async_wait([timer, fn = std::move(fn)](const std::error_code& ec) {
          if (!ec) fn();
        });
      },
      std::chrono::milliseconds(100),
      [ex = io_.get_executor()](std::function<void()> fn) { asio::post(ex, std::move(fn)); });
  stop_sync_.db = sqlite_;
}

bridge::ExecSettings Daemon::exec_settings(const RuntimeConfig& config) const {
  bridge::ExecSettings s = config.exec;
  // The sandbox must never reach ctl.sock (it could approve its own commands), mcp.sock,
  // server.key or bridge.db, wherever flags put them.
  s.extra_hidden_paths = {std::filesystem::absolute(options_.socket_dir),
                          std::filesystem::absolute(options_.state_dir)};
  if (!options_.config_file.empty()) {
    s.extra_hidden_paths.push_back(std::filesystem::absolute(options_.config_file));
  }
  s.home = home_dir();
  if (s.enabled) {
    s.unavailable = exec::sandbox_available().message();  // "" when it is available
    if (s.unavailable.empty()) {
      spdlog::info("command execution is on: ceiling {}, {} workspace root(s), network {}",
                   config.exec_max_mode, s.workspaces.size(), s.allow_network ? "allowed" : "off");
    } else {
      spdlog::warn("command execution is on but cannot run here: {}", s.unavailable);
    }
  }
  return s;
}

nlohmann::json Daemon::runtime_stats() const {
  const auto up =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started_)
          .count();
  const auto& c = server_->counters();
  return nlohmann::json{{"connections", server_->connections()},
                        {"uptime_seconds", up},
                        {"accepted", c.accepted},
                        {"refused_other_uid", c.refused_uid},
                        {"refused_capacity", c.refused_capacity},
                        {"latency", metrics_.summary()}};
}

void Daemon::build_services(std::string key) {
  started_ = std::chrono::steady_clock::now();
  bridge_ = std::make_unique<bridge::Bridge>(*db_, clock_, std::move(key), config_.bridge,
                                             config_.redactor);
  bridge_->set_notifier(&notifier_);
  bridge_->exec().reconfigure(exec_settings(config_));

  tools::register_bridge_tools(tools_, *bridge_, config_.bridge);
  tools::register_exec_tools(tools_, *bridge_);
  tools::list_exec_tools(tools_, config_.exec.enabled);
  info_.version = CB_VERSION;
  info_.metrics = &metrics_;
  info_.instructions = tools::server_instructions();
  // A verified hello binds its connection to a named agent before any other frame of it.
  info_.on_hello = [this](std::uint64_t id, const ClientHello& hello) {
    bridge::ClientIdentity who;
    who.client_pid = hello.client_pid;
    who.client_start = hello.client_start;
    who.session_id = hello.session_id;
    who.project_dir = hello.project_dir;
    who.agent = hello.agent;
    who.client = hello.client;
    if (auto bound = bridge_->bind_agent(id, who); !bound) {
      spdlog::warn("connection {}: not bound to an agent: {}", id, bound.status().message());
    }
  };

  net::ServerOptions server_options;
  server_options.limits.max_frame_bytes = static_cast<std::size_t>(config_.limits.max_frame_bytes);
  server_options.limits.max_write_queue_bytes =
      static_cast<std::size_t>(config_.limits.max_write_queue_bytes);
  server_options.max_connections = static_cast<std::size_t>(config_.limits.max_connections);
  server_ = std::make_unique<net::Server>(io_.get_executor(), server_options);
  server_->on_closed = [this](std::uint64_t id) {
    notifier_.remove(id);
    bridge_->connection_closed(id);
  };
  server_->on_refused_uid = [this](const Peer& peer, const std::string& endpoint) {
    try {
      bridge_->ops().audit_admin(
          "connection_refused", "", "refused",
          nlohmann::json{{"uid", peer.uid}, {"pid", peer.pid}, {"socket", endpoint}});
    } catch (const std::exception& e) {
      spdlog::error("audit of a refused connection failed: {}", e.what());
    }
  };

  admin_api_ = std::make_unique<admin::AdminApi>(
      *bridge_, admin::DaemonInfo{[this] { return runtime_stats(); },
                                  [this] {
                                    return nlohmann::json{
                                        {"socket_dir", options_.socket_dir.string()},
                                        {"state_dir", options_.state_dir.string()},
                                        {"database", db_->location()},
                                        {"store", db_->backend()},
                                        {"config", options_.config_file.string()}};
                                  },
                                  db_.get()});
  admin::register_core_methods(*admin_api_);
  admin::register_extra_methods(*admin_api_);
  admin::register_approval_methods(*admin_api_);
}

void Daemon::listen() {
  server_->listen(
      std::move(fds_.mcp), "mcp", [this](std::shared_ptr<Outbox> out, const Peer& peer) {
        auto s =
            std::make_shared<mcp::Session>(io_.get_executor(), tools_, info_, std::move(out), peer);
        notifier_.add(peer.connection_id, s);
        return s;
      });
  if (fds_.ctl) {
    server_->listen(
        std::move(fds_.ctl), "ctl", [this](std::shared_ptr<Outbox> out, const Peer& peer) {
          return std::make_shared<admin::AdminSession>(*admin_api_, std::move(out), peer);
        });
  }
}

int Daemon::run() {
  spawn_logged(io_.get_executor(), purge_loop(), "retention purge");
  if (pg_) spawn_logged(io_.get_executor(), team_loop(), "team heartbeat");
  // Watchdog pings come from the event loop itself, so a wedged loop stops them.
  if (auto interval = net::watchdog_interval()) {
    spawn_logged(io_.get_executor(), watchdog_loop(*interval / 2), "watchdog");
  }
  wait_signal();

  spdlog::info("claude-bridged {} serving {} (mcp.sock, ctl.sock){}; state in {}", CB_VERSION,
               options_.socket_dir.string(), fds_.from_systemd ? " via systemd" : "",
               options_.state_dir.string());
  net::sd_notify("READY=1");
  io_.run();
  bool drained = true;
  if (stopping_) {
    // Drain: what the stop set going (closing connections, ending waits, their last writes)
    // finishes, and the loop returns as soon as nothing is left, in a few milliseconds.
    // Whatever still runs after two seconds gets no more time.
    io_.restart();
    io_.run_for(std::chrono::seconds(2));
    drained = io_.stopped();
  }
  db_->flush();  // what the last turn wrote, while the bridge and its listeners still exist
  if (!fds_.from_systemd) {
    std::error_code ec;
    std::filesystem::remove(options_.socket_dir / paths::kMcpSocket, ec);
    std::filesystem::remove(options_.socket_dir / paths::kCtlSocket, ec);
  }
  if (drained) {
    spdlog::info("stopped: every connection closed, nothing left running");
  } else {
    spdlog::warn("stopped: work was still running 2 s after the signal and was cut off");
  }
  return exit_code::kOk;
}

int run_daemon(const DaemonOptions& options) {
  auto config = load_runtime_config(options.config_file, options.config_required);
  if (!config.ok()) return fail(exit_code::kConfig, config.status().message());
  Daemon daemon(options);
  if (auto s = daemon.start(std::move(config).value()); !s.ok()) {
    return fail(exit_code::kConfig, s.message());
  }
  return daemon.run();
}

int check_config(const DaemonOptions& options) {
  auto config = load_runtime_config(options.config_file, options.config_required);
  if (!config.ok()) return fail(exit_code::kConfig, config.status().message());
  if (config->source.empty()) {
    std::printf("claude-bridged: no configuration file at %s; the defaults apply\n",
                options.config_file.c_str());
  } else {
    std::printf("claude-bridged: configuration OK: %s\n", config->source.c_str());
  }
  return exit_code::kOk;
}

}  // namespace cb
