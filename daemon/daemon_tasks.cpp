// What runs beside the daemon's sockets: the retention purge and the systemd watchdog.
#include <spdlog/spdlog.h>

#include "daemon/bridge/bridge.h"
#include "daemon/daemon.h"
#include "daemon/net/sd_notify.h"

namespace cb {

// Expired conversations are purged once their retention has passed: at start-up, then every ten
// minutes.
awaitable<void> Daemon::purge_loop() {
  while (!stopping_) {
    purge_once();
    purge_timer_.expires_after(std::chrono::minutes(10));
    std::error_code ec;
    co_await purge_timer_.async_wait(asio::redirect_error(use_awaitable, ec));
  }
}

void Daemon::purge_once() {
  try {
    const std::int64_t cutoff = clock_.now_ms() - config_.bridge.retention_days * 86'400'000;
    const std::size_t purged = bridge_->ops().cleanup(cutoff).removed.size();
    if (purged > 0) spdlog::info("purged {} conversations past retention", purged);
  } catch (const std::exception& e) {
    spdlog::error("automatic purge failed: {}", e.what());
  }
}

// Pings come from the event loop itself, so a wedged loop stops them.
awaitable<void> Daemon::watchdog_loop(std::chrono::microseconds period) {
  while (!stopping_) {
    net::sd_notify("WATCHDOG=1");
    watchdog_timer_.expires_after(period);
    std::error_code ec;
    co_await watchdog_timer_.async_wait(asio::redirect_error(use_awaitable, ec));
  }
}

}  // namespace cb
