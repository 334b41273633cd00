#pragma once

#include <chrono>
#include <optional>
#include <string>

// The sd_notify(3) datagram protocol, without libsystemd: a no-op when $NOTIFY_SOCKET is unset.
namespace cb::net {

// Sends `state` (e.g. "READY=1") to $NOTIFY_SOCKET (a path or an @abstract name).
bool sd_notify(const std::string& state);

// The watchdog interval systemd asked for (WATCHDOG_USEC, for this pid), if any.
std::optional<std::chrono::microseconds> watchdog_interval();

}  // namespace cb::net
