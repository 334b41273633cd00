// The daemon's signals: SIGHUP reloads the configuration, SIGTERM and SIGINT shut it down.
#include <spdlog/spdlog.h>

#include "daemon/bridge/bridge.h"
#include "daemon/daemon.h"
#include "daemon/net/sd_notify.h"
#include "daemon/net/server.h"
#include "daemon/tools/bridge_tools.h"
#include "daemon/tools/exec_tools.h"

namespace cb {

void Daemon::wait_signal() {
  signals_.async_wait([this](std::error_code ec, int sig) {
    if (ec) return;
    if (sig == SIGHUP) {
      reload();
      wait_signal();
      return;
    }
    shutdown(sig);
  });
}

void Daemon::reload() {
  auto next = load_runtime_config(options_.config_file, options_.config_required);
  if (!next.ok()) {
    spdlog::error("reload refused, keeping the running configuration: {}", next.status().message());
    return;
  }
  apply(std::move(next).value());
  spdlog::info("configuration reloaded from {}", options_.config_file.string());
  // A changed retention applies now, not at the next of the ten-minute rounds.
  purge_timer_.cancel();
}

// [conversation], [rate_limits], [redaction] and [yolo] take effect; [limits], [storage],
// [store] and [log] wait for the next start (README "Configuration").
void Daemon::apply(RuntimeConfig next) {
  bridge_->reconfigure(next.bridge, next.redactor);
  bridge_->exec().reconfigure(exec_settings(next));
  tools::refresh_bridge_tools(tools_, next.bridge);  // tools/list's maxLength, and validation
  tools::list_exec_tools(tools_, next.exec.enabled);
  config_.bridge = next.bridge;
  config_.redactor = std::move(next.redactor);
  config_.exec = std::move(next.exec);
  config_.exec_max_mode = std::move(next.exec_max_mode);
  config_.source = std::move(next.source);
}

void Daemon::shutdown(int sig) {
  spdlog::info("signal {}: shutting down", sig);
  net::sd_notify("STOPPING=1");
  stopping_ = true;
  server_->stop_accepting();
  server_->abort_all();
  purge_timer_.cancel();
  watchdog_timer_.cancel();
  team_timer_.cancel();
  // The aborts, cancelled waits and last writes run in the drain (run()'s run_for).
  io_.stop();
}

}  // namespace cb
