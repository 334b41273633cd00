#include "daemon/daemon.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>

#include "cb_config.h"
#include "common/exit_codes.h"
#include "common/paths.h"
#include "daemon/admin/admin_api.h"
#include "daemon/admin/extra_methods.h"
#include "daemon/admin/approval_methods.h"
#include "daemon/bridge/bridge.h"
#include "daemon/crypto/crypto.h"
#include "daemon/exec/sandbox.h"
#include "daemon/exec/workspace.h"
#include "daemon/config.h"
#include "daemon/mcp/session.h"
#include "daemon/net/listeners.h"
#include "daemon/net/sd_notify.h"
#include "daemon/net/server.h"
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

// Pushes notifications into MCP sessions by connection id.
class SessionNotifier final : public bridge::Notifier {
 public:
  void add(std::uint64_t id, std::weak_ptr<mcp::Session> s) { sessions_[id] = std::move(s); }
  void remove(std::uint64_t id) { sessions_.erase(id); }
  void mail_waiting(std::uint64_t id, const bridge::MailNotice& notice) override {
    auto it = sessions_.find(id);
    if (it == sessions_.end()) return;
    if (auto s = it->second.lock(); s && s->initialized()) {
      tools::Push push = tools::render_push(notice);
      s->notify(push.method, std::move(push.params));
    }
  }

 private:
  std::map<std::uint64_t, std::weak_ptr<mcp::Session>> sessions_;
};

int fail(int code, const std::string& line) {
  std::fprintf(stderr, "claude-bridged: %s\n", line.c_str());
  return code;
}

std::variant<std::shared_ptr<const redact::Redactor>, std::string> build_redactor(const Config& c) {
  std::string error;
  auto r = redact::Redactor::create(c.redaction_rules, &error);
  if (!r) return (c.source.empty() ? std::string("config") : c.source.string()) + ": " + error;
  return r;
}

std::filesystem::path home_dir() {
  if (const char* h = std::getenv("HOME"); h != nullptr && h[0] == '/') return h;
  if (const passwd* pw = ::getpwuid(::getuid()); pw != nullptr && pw->pw_dir != nullptr) {
    return pw->pw_dir;
  }
  return {};
}

// The [yolo] section as the bridge uses it. Every allowed root is checked here, so a bad one
// fails start-up (or the reload) with one line; when execution is on, the sandbox is probed once
// and the reason it cannot run, if any, is kept for the tools to report.
std::variant<bridge::ExecSettings, std::string> build_exec_settings(const Config& c,
                                                                    const DaemonOptions& o) {
  const std::string where = c.source.empty() ? std::string("config") : c.source.string();
  bridge::ExecSettings s;
  s.enabled = c.exec.enabled;
  s.max_mode = cb::exec::parse_mode(c.exec.max_mode).value_or(cb::exec::Mode::kSafe);
  for (const auto& root : c.exec.workspaces) {
    if (auto err = cb::exec::check_allowed_root(root); !err.empty()) {
      return where + ": [yolo] workspaces: " + err;
    }
    s.workspaces.emplace_back(root);
  }
  if (s.enabled && s.workspaces.empty()) {
    return where + ": [yolo] enabled = true needs at least one directory in [yolo] workspaces";
  }
  s.max_timeout_seconds = c.exec.max_timeout_seconds;
  s.allow_network = c.exec.allow_network;
  s.approval_timeout_seconds = c.exec.approval_timeout_seconds;
  s.output_max_bytes = static_cast<std::size_t>(c.exec.output_max_bytes);
  // The sandbox must never reach ctl.sock (it could approve its own commands), mcp.sock,
  // server.key or bridge.db, wherever flags put them.
  s.extra_hidden_paths = {std::filesystem::absolute(o.socket_dir),
                          std::filesystem::absolute(o.state_dir)};
  if (!o.config_file.empty()) s.extra_hidden_paths.push_back(std::filesystem::absolute(o.config_file));
  s.home = home_dir();
  if (s.enabled) {
    s.unavailable = cb::exec::sandbox_unavailable_reason();
    if (s.unavailable.empty()) {
      spdlog::info("command execution is on: ceiling {}, {} workspace root(s), network {}",
                   c.exec.max_mode, s.workspaces.size(), s.allow_network ? "allowed" : "off");
    } else {
      spdlog::warn("command execution is on but cannot run here: {}", s.unavailable);
    }
  }
  return s;
}

}  // namespace

int run_daemon(const DaemonOptions& options) {
  auto loaded = load_config(options.config_file, options.config_required);
  if (auto* err = std::get_if<std::string>(&loaded)) return fail(exit_code::kConfig, *err);
  Config config = std::get<Config>(std::move(loaded));
  configure_logging(options.log_level.empty() ? config.log_level : options.log_level);

  // Everything the daemon creates (database, WAL, key, sockets) is private to this user.
  ::umask(077);
  // Secrets discipline: no core dumps (they would hold the server key and messages).
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  rlimit no_core{0, 0};
  ::setrlimit(RLIMIT_CORE, &no_core);

  if (auto err = paths::ensure_private_dir(options.state_dir); !err.empty()) {
    return fail(exit_code::kConfig, "state dir: " + err);
  }
  auto redactor = build_redactor(config);
  if (auto* err = std::get_if<std::string>(&redactor)) return fail(exit_code::kConfig, *err);
  auto exec_settings = build_exec_settings(config, options);
  if (auto* err = std::get_if<std::string>(&exec_settings)) return fail(exit_code::kConfig, *err);

  std::string key;
  std::unique_ptr<store::Database> db;
  try {
    key = cb::crypto::load_or_create_key(options.state_dir / "server.key");
    db = store::Database::open(options.state_dir / "bridge.db", config.synchronous);
  } catch (const std::exception& e) {
    return fail(exit_code::kConfig, e.what());
  }

  net::ListenFds fds;
  if (auto err = net::acquire(options.socket_dir, &fds); !err.empty()) {
    return fail(exit_code::kConfig, err);
  }

  asio::io_context io(1);
  // Group commit: the writes of every request handled in one turn of the loop share a commit.
  db->enable_group_commit([ex = io.get_executor()](std::function<void()> flush) {
    asio::post(ex, std::move(flush));
  });
  // With synchronous = "full", each group's fsync runs on a thread of its own while the loop
  // serves the next group (daemon/store/background_sync.h). A failed fsync is fatal.
  db->enable_background_sync(
      [ex = io.get_executor()](std::function<void()> fn) { asio::post(ex, std::move(fn)); },
      [](const std::string& why) {
        spdlog::critical("{}; exiting so that a restart recovers what is on disk", why);
        spdlog::default_logger()->flush();
        std::_Exit(exit_code::kIoErr);
      });
  // A checkpoint (two fsyncs, milliseconds) waits for a tenth of a second without commits, so
  // that it falls between bursts of traffic; under sustained load a thread syncs the WAL
  // before it (daemon/store/checkpoints.cpp).
  db->enable_idle_checkpoint(
      [&io](std::chrono::milliseconds after, std::function<void()> fn) {
        auto timer = std::make_shared<asio::steady_timer>(io, after);
        timer->async_wait([timer, fn = std::move(fn)](const std::error_code& ec) {
          if (!ec) fn();
        });
      },
      std::chrono::milliseconds(100),
      [ex = io.get_executor()](std::function<void()> fn) { asio::post(ex, std::move(fn)); });
  // The sync threads post to the loop: they stop (after a last sync) before the loop goes away.
  struct StopSync {
    store::Database& db;
    ~StopSync() { db.stop_background_sync(); }
  } stop_sync{*db};
  const auto started = std::chrono::steady_clock::now();
  cb::SystemClock clock;
  bridge::Bridge bridge(*db, clock, std::move(key), config.bridge,
                        std::get<std::shared_ptr<const redact::Redactor>>(redactor));
  SessionNotifier notifier;
  bridge.set_notifier(&notifier);
  bridge.exec().reconfigure(std::get<bridge::ExecSettings>(std::move(exec_settings)));

  mcp::ToolRegistry tools;
  tools::register_bridge_tools(tools, bridge, config.bridge);
  tools::register_exec_tools(tools, bridge);
  mcp::Metrics metrics;
  mcp::ServerInfo info;
  info.version = CB_VERSION;
  info.metrics = &metrics;
  info.instructions = tools::server_instructions();

  net::ServerOptions server_options;
  server_options.limits.max_frame_bytes = static_cast<std::size_t>(config.limits.max_frame_bytes);
  server_options.limits.max_write_queue_bytes =
      static_cast<std::size_t>(config.limits.max_write_queue_bytes);
  server_options.max_connections = static_cast<std::size_t>(config.limits.max_connections);
  net::Server server(io.get_executor(), server_options);
  server.on_closed = [&](std::uint64_t id) {
    notifier.remove(id);
    bridge.connection_closed(id);
  };
  server.on_refused_uid = [&](const Peer& peer, const std::string& endpoint) {
    try {
      bridge.ops().audit_admin("connection_refused", "", "refused",
                         nlohmann::json{{"uid", peer.uid}, {"pid", peer.pid}, {"socket", endpoint}});
    } catch (const std::exception& e) {
      spdlog::error("audit of a refused connection failed: {}", e.what());
    }
  };

  admin::AdminApi admin_api(
      bridge, admin::DaemonInfo{
                  [&] {
                    const auto up = std::chrono::duration_cast<std::chrono::seconds>(
                                        std::chrono::steady_clock::now() - started)
                                        .count();
                    const auto& c = server.counters();
                    return nlohmann::json{{"connections", server.connections()},
                                          {"uptime_seconds", up},
                                          {"accepted", c.accepted},
                                          {"refused_other_uid", c.refused_uid},
                                          {"refused_capacity", c.refused_capacity},
                                          {"latency", metrics.summary()}};
                  },
                  [&] {
                    return nlohmann::json{{"socket_dir", options.socket_dir.string()},
                                          {"state_dir", options.state_dir.string()},
                                          {"database", db->path().string()},
                                          {"config", options.config_file.string()}};
                  },
                  db.get()});
  admin::register_core_methods(admin_api);
  admin::register_extra_methods(admin_api);
  admin::register_approval_methods(admin_api);

  server.listen(std::move(fds.mcp), "mcp", [&](std::shared_ptr<Outbox> out, const Peer& peer) {
    auto s = std::make_shared<mcp::Session>(io.get_executor(), tools, info, std::move(out), peer);
    notifier.add(peer.connection_id, s);
    return s;
  });
  if (fds.ctl) {
    server.listen(std::move(fds.ctl), "ctl", [&](std::shared_ptr<Outbox> out, const Peer& peer) {
      return std::make_shared<admin::AdminSession>(admin_api, std::move(out), peer);
    });
  }

  // Expired conversations are purged once their retention has passed.
  bool stopping = false;
  asio::steady_timer purge_timer(io);
  auto purge = [&]() -> awaitable<void> {
    while (!stopping) {
      try {
        const std::int64_t cutoff = clock.now_ms() - config.bridge.retention_days * 86'400'000;
        const auto purged = bridge.ops().cleanup(cutoff).removed.size();
        if (purged > 0) spdlog::info("purged {} conversations past retention", purged);
      } catch (const std::exception& e) {
        spdlog::error("automatic purge failed: {}", e.what());
      }
      purge_timer.expires_after(std::chrono::minutes(10));
      std::error_code ec;
      co_await purge_timer.async_wait(asio::redirect_error(use_awaitable, ec));
    }
  };
  spawn_logged(io.get_executor(), purge(), "retention purge");

  // Watchdog pings come from the event loop itself, so a wedged loop stops them.
  asio::steady_timer watchdog_timer(io);
  // The lambda lives at function scope and takes the period as a parameter: a coroutine keeps
  // a pointer to its lambda, so a lambda local to the if-block would dangle once it ends.
  auto ping = [&](std::chrono::microseconds period) -> awaitable<void> {
    while (!stopping) {
      net::sd_notify("WATCHDOG=1");
      watchdog_timer.expires_after(period);
      std::error_code ec;
      co_await watchdog_timer.async_wait(asio::redirect_error(use_awaitable, ec));
    }
  };
  if (auto interval = net::watchdog_interval()) {
    spawn_logged(io.get_executor(), ping(*interval / 2), "watchdog");
  }

  asio::signal_set signals(io, SIGINT, SIGTERM, SIGHUP);
  std::function<void()> wait_signal;
  wait_signal = [&] {
    signals.async_wait([&](std::error_code ec, int sig) {
      if (ec) return;
      if (sig == SIGHUP) {
        auto reloaded = load_config(options.config_file, options.config_required);
        if (auto* err = std::get_if<std::string>(&reloaded)) {
          spdlog::error("reload refused, keeping the running configuration: {}", *err);
        } else {
          Config next = std::get<Config>(std::move(reloaded));
          auto r = build_redactor(next);
          auto next_exec = build_exec_settings(next, options);
          if (auto* rerr = std::get_if<std::string>(&r)) {
            spdlog::error("reload refused, keeping the running configuration: {}", *rerr);
          } else if (auto* xerr = std::get_if<std::string>(&next_exec)) {
            spdlog::error("reload refused, keeping the running configuration: {}", *xerr);
          } else {
            bridge.reconfigure(next.bridge, std::get<std::shared_ptr<const redact::Redactor>>(r));
            bridge.exec().reconfigure(std::get<bridge::ExecSettings>(std::move(next_exec)));
            config.bridge = next.bridge;
            spdlog::info("configuration reloaded from {}", options.config_file.string());
          }
        }
        wait_signal();
        return;
      }
      spdlog::info("signal {}: shutting down", sig);
      net::sd_notify("STOPPING=1");
      stopping = true;
      server.stop_accepting();
      server.abort_all();
      purge_timer.cancel();
      watchdog_timer.cancel();
      // The aborts, cancelled waits and last writes run in the drain below (main's run_for).
      io.stop();
    });
  };
  wait_signal();

  spdlog::info("claude-bridged {} serving {} (mcp.sock, ctl.sock){}; state in {}", CB_VERSION,
               options.socket_dir.string(), fds.from_systemd ? " via systemd" : "",
               options.state_dir.string());
  net::sd_notify("READY=1");
  io.run();
  bool drained = true;
  if (stopping) {
    // Drain: what the stop set going (closing connections, ending waits, their last writes)
    // finishes, and the loop returns as soon as nothing is left, in a few milliseconds.
    // Whatever still runs after two seconds gets no more time.
    io.restart();
    io.run_for(std::chrono::seconds(2));
    drained = io.stopped();
  }
  db->flush();  // what the last turn wrote, while the bridge and its listeners still exist
  if (!fds.from_systemd) {
    std::error_code ec;
    std::filesystem::remove(options.socket_dir / paths::kMcpSocket, ec);
    std::filesystem::remove(options.socket_dir / paths::kCtlSocket, ec);
  }
  if (drained) {
    spdlog::info("stopped: every connection closed, nothing left running");
  } else {
    spdlog::warn("stopped: work was still running 2 s after the signal and was cut off");
  }
  return exit_code::kOk;
}

}  // namespace cb
