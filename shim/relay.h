#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/fd.h"
#include "shim/peek.h"

namespace cb::shim {

// The shim's byte pump between the client (stdin/stdout) and the daemon (mcp.sock), across
// daemon restarts. Bytes pass unchanged; a LineScanner on each direction keeps what a restart
// needs and nothing more:
//  - the raw ids of the client's requests the daemon has not answered yet, so that when the
//    connection drops each of them gets a JSON-RPC error (-32000, "call again") with its own
//    id instead of silence; notifications/cancelled takes its requestId off that list;
//  - the raw line of the client's initialize request (once the daemon answered it with a
//    result) and of its notifications/initialized, replayed first on the new connection so a
//    legacy-era session goes on; the reply to the replayed initialize is swallowed (the first
//    line the new daemon writes, recognised by the id the shim sent). Modern-era (2026-07-28)
//    clients are stateless and need nothing replayed.
// Every connection, the first and each one after a restart, begins with the shim's hello line
// (shim/hello.h) when it has one, before any replayed or forwarded byte.
class Relay {
 public:
  // Returns a connected socket, or an invalid one when no daemon could be reached (the
  // connector has said why on stderr).
  using Connector = std::function<UniqueFd()>;

  explicit Relay(Connector reconnect) : reconnect_(std::move(reconnect)) {
    daemon_scan_.set_skip_when_known(true);
  }

  // The line written first on every connection (newline-terminated); none when empty.
  void set_hello(std::string line) { hello_ = std::move(line); }

  // Pumps until stdin ends and the daemon has closed (exit code 0), or until the daemon is gone
  // and cannot be reached again (cb::exit_code::kUnavailable).
  int run(UniqueFd sock);

  // What the client sent or received, for tests: bytes in, bytes out.
  void from_client(std::string_view data);
  void from_daemon(std::string_view data);
  // The connection dropped: answers every request in flight, forgets the unsent rest.
  void connection_lost();
  // A new connection: queues the hello and the replay of the session's initialize, if any,
  // ahead of whatever the client sent meanwhile.
  void connection_made();

  const std::vector<std::string>& in_flight() const { return in_flight_; }
  std::string& to_daemon() { return to_daemon_; }
  std::string& to_client() { return to_client_; }

  // Requests remembered at most; the oldest is forgotten beyond (a request the daemon never
  // answers, such as one it could not parse, must not grow the list for ever).
  static constexpr std::size_t kMaxInFlight = 4096;
  // A client line longer than this is never taken for an initialize.
  static constexpr std::size_t kMaxInitializeLine = 64 * 1024;

 private:
  void client_line(const LineScanner::Line& line, std::string_view tail);
  void daemon_line(const LineScanner::Line& line);
  void forget(const std::string& id);

  Connector reconnect_;
  std::string hello_;
  LineScanner client_scan_;
  LineScanner daemon_scan_;
  std::string to_daemon_;  // read from stdin, not yet taken by the socket
  std::string to_client_;  // for stdout, not yet written
  std::vector<std::string> in_flight_;
  std::string head_;       // the current client line, while it may be an initialize
  bool head_overflow_ = false;
  std::string init_line_, init_id_;          // answered with a result: replayed
  std::string pending_line_, pending_id_;    // sent, not answered yet
  std::string initialized_line_;
  bool discard_line_ = false;  // the rest of a client line cut by a lost connection
  bool swallow_ = false;       // the next daemon line answers the replayed initialize
  std::string swallowed_;
};

}  // namespace cb::shim
