#pragma once

#include <cstdint>

// The product's tunables, filled from the config file (daemon/config.h) and swapped on reload.
namespace cb::bridge {

struct Settings {
  std::int64_t ttl_seconds = 10800;            // conversations expire 3 h after creation
  std::int64_t message_max_chars = 50000;      // Unicode code points
  std::int64_t retention_days = 7;             // expired data is purged after this
  std::int64_t alive_seconds = 120;            // heartbeat younger than this: alive
  // Per (conversation, session); 0 turns a window off.
  std::int64_t send_per_minute = 10;
  std::int64_t send_per_hour = 100;
  std::int64_t send_per_day = 500;
  std::int64_t read_per_minute = 600;          // check_messages, wait, status calls
  std::int64_t auth_failures_per_minute = 10;  // per connection, then refused for the window
  std::int64_t default_read_limit = 50;        // messages per check_messages page
  // [agents] accept_from = "project": agents of different project directories cannot start a
  // conversation with each other.
  bool accept_from_project_only = false;
  // A wait answered after blocking this long, to a request without a progress token, may have
  // been abandoned by its client (it got no sign of life): what it handed out is offered again.
  std::int64_t redeliver_after_seconds = 25;
};

}  // namespace cb::bridge
