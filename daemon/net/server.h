#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/fd.h"
#include "daemon/frames.h"
#include "daemon/net/connection.h"
#include "daemon/net/net.h"

namespace cb::net {

struct ServerOptions {
  ConnectionLimits limits;
  std::size_t max_connections = 1024;
};

using HandlerFactory =
    std::function<std::shared_ptr<FrameHandler>(std::shared_ptr<Outbox> out, const Peer& peer)>;

struct ServerCounters {
  std::uint64_t accepted = 0;
  std::uint64_t refused_uid = 0;
  std::uint64_t refused_capacity = 0;
};

// Accept loops for the listening sockets. Each connection gets a handler from the factory of
// the socket it came in on — so which socket a client used decides what it may call. Peers of
// another uid are refused (SO_PEERCRED); past max_connections new ones are refused.
class Server {
 public:
  Server(Executor ex, ServerOptions options);

  // Takes a listening fd and serves it. `name` appears in logs ("mcp", "ctl").
  void listen(UniqueFd fd, std::string name, HandlerFactory factory);
  void stop_accepting();
  // Closes every connection now (shutdown).
  void abort_all();

  std::size_t connections() const { return connections_.size(); }
  const ServerCounters& counters() const { return counters_; }

  std::function<void(std::uint64_t connection_id)> on_closed;
  std::function<void(const Peer& peer, const std::string& endpoint)> on_refused_uid;

 private:
  awaitable<void> accept_loop(std::shared_ptr<Acceptor> acceptor, std::string name,
                              HandlerFactory factory);

  Executor ex_;
  ServerOptions options_;
  std::vector<std::shared_ptr<Acceptor>> acceptors_;
  std::map<std::uint64_t, std::weak_ptr<Connection>> connections_;
  std::uint64_t next_id_ = 1;
  ServerCounters counters_;
};

}  // namespace cb::net
