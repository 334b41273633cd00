#include "daemon/net/server.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include "common/unix_socket.h"

namespace cb::net {

Server::Server(Executor ex, ServerOptions options) : ex_(std::move(ex)), options_(options) {}

void Server::listen(UniqueFd fd, std::string name, HandlerFactory factory) {
  auto acceptor = std::make_shared<Acceptor>(ex_, Protocol(), fd.release());
  acceptors_.push_back(acceptor);
  spawn_logged(ex_, accept_loop(acceptor, name, std::move(factory)), name + " accept loop");
}

void Server::stop_accepting() {
  for (auto& a : acceptors_) {
    std::error_code ec;
    a->close(ec);
  }
  acceptors_.clear();
}

void Server::abort_all() {
  auto conns = connections_;
  for (auto& [id, weak] : conns) {
    if (auto c = weak.lock()) c->abort();
  }
}

awaitable<void> Server::accept_loop(std::shared_ptr<Acceptor> acceptor, std::string name,
                                    HandlerFactory factory) {
  const uid_t me = ::geteuid();
  while (acceptor->is_open()) {
    std::error_code ec;
    Socket socket = co_await acceptor->async_accept(asio::redirect_error(use_awaitable, ec));
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor->is_open()) break;
      // EMFILE and friends: back off briefly instead of spinning.
      spdlog::warn("{}: accept failed: {}", name, ec.message());
      asio::steady_timer t(ex_, std::chrono::milliseconds(50));
      co_await t.async_wait(asio::redirect_error(use_awaitable, ec));
      continue;
    }
    Peer peer;
    peer.connection_id = next_id_++;
    unix_socket::PeerCred cred;
    if (unix_socket::peer_cred(socket.native_handle(), &cred)) {
      peer.pid = cred.pid;
      peer.uid = cred.uid;
    }
    if (peer.uid != me) {
      ++counters_.refused_uid;
      spdlog::warn("{}: refused a connection from uid {} (pid {}): only uid {} may connect", name,
                   peer.uid, peer.pid, me);
      if (on_refused_uid) on_refused_uid(peer, name);
      continue;  // socket closes here
    }
    if (connections_.size() >= options_.max_connections) {
      ++counters_.refused_capacity;
      spdlog::warn("{}: refused pid {}: {} connections already open (limits.max_connections)", name,
                   peer.pid, connections_.size());
      continue;
    }
    ++counters_.accepted;
    auto conn = std::make_shared<Connection>(std::move(socket), peer, options_.limits);
    connections_[peer.connection_id] = conn;
    auto handler = factory(conn, peer);
    const std::uint64_t id = peer.connection_id;
    conn->start(std::move(handler), [this, id] {
      connections_.erase(id);
      if (on_closed) on_closed(id);
    });
  }
}

}  // namespace cb::net
