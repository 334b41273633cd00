// net::Connection over in-process socket pairs: fairness between connections, replies written
// straight to the socket, order and the write-queue cap when the socket is full, and reading
// paused while a client leaves its replies unread.
#include <doctest/doctest.h>

#include <asio/io_context.hpp>
#include <asio/local/connect_pair.hpp>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "daemon/net/connection.h"

using namespace cb;

namespace {

struct Recorder : FrameHandler {
  std::vector<std::string>* log = nullptr;
  std::string name;
  void handle_frame(std::string_view frame) override {
    log->push_back(name + ":" + std::string(frame));
  }
  void frame_too_long(std::size_t) override {}
  void closed() override {}
};

struct Ends {
  net::Socket daemon_side;
  net::Socket client_side;
};

Ends socket_pair(asio::io_context& io) {
  Ends e{net::Socket(io), net::Socket(io)};
  asio::local::connect_pair(e.daemon_side, e.client_side);
  return e;
}

std::shared_ptr<net::Connection> start(net::Socket socket, std::uint64_t id,
                                       std::vector<std::string>* log, bool* gone = nullptr,
                                       net::ConnectionLimits limits = {}) {
  auto conn = std::make_shared<net::Connection>(std::move(socket), Peer{id, -1, 0}, limits);
  auto handler = std::make_shared<Recorder>();
  handler->log = log;
  handler->name = std::to_string(id);
  conn->start(handler, [gone] {
    if (gone) *gone = true;
  });
  return conn;
}

// Reads what the client end has now, without blocking.
std::string available(net::Socket& s) {
  s.non_blocking(true);
  std::string out;
  char buf[65536];
  for (;;) {
    std::error_code ec;
    const std::size_t n = s.read_some(asio::buffer(buf), ec);
    if (ec) break;
    out.append(buf, n);
  }
  return out;
}

}  // namespace

TEST_CASE("a connection that sent a burst lets the others run between its batches") {
  asio::io_context io;
  std::vector<std::string> log;
  auto busy = socket_pair(io);
  auto other = socket_pair(io);
  std::string burst;
  for (int i = 0; i < 100; ++i) burst += "b" + std::to_string(i) + "\n";
  asio::write(busy.client_side, asio::buffer(burst));
  asio::write(other.client_side, asio::buffer(std::string("other\n")));
  auto c1 = start(std::move(busy.daemon_side), 1, &log);
  auto c2 = start(std::move(other.daemon_side), 2, &log);
  for (int i = 0; i < 10000 && log.size() < 101; ++i) io.run_one_for(std::chrono::seconds(1));
  REQUIRE(log.size() == 101);
  const auto pos = std::find(log.begin(), log.end(), "2:other") - log.begin();
  // Both were readable from the start: the burst is served 16 frames per turn, so the other
  // connection's frame is handled after the first batch, not after all 100.
  CHECK(pos >= 16);
  CHECK(pos < 100);
  CHECK(log.front() == "1:b0");
  CHECK(log.back() == "1:b99");
  c1->abort();
  c2->abort();
  io.poll();
}

TEST_CASE("a reply sent while nothing is queued is on the socket before the loop runs again") {
  asio::io_context io;
  std::vector<std::string> log;
  auto ends = socket_pair(io);
  auto conn = start(std::move(ends.daemon_side), 1, &log);
  io.poll();  // both coroutines park: the reader on the socket, the writer on its timer
  conn->send("hello");
  CHECK(available(ends.client_side) == "hello\n");
  conn->abort();
  io.poll();
}

TEST_CASE("what the socket cannot take is queued, in order, and a later reply waits its turn") {
  asio::io_context io;
  std::vector<std::string> log;
  auto ends = socket_pair(io);
  auto conn = start(std::move(ends.daemon_side), 1, &log);
  io.poll();
  const std::string big(std::size_t{1} << 20, 'x');  // far more than a socket buffer
  conn->send(big);
  conn->send("after");
  const std::string want = big + "\nafter\n";
  std::string got;
  for (int i = 0; i < 100000 && got.size() < want.size(); ++i) {
    got += available(ends.client_side);
    io.poll();
  }
  CHECK(got.size() == want.size());
  CHECK(got == want);
  conn->abort();
  io.poll();
}

TEST_CASE("a client that does not read is cut off once the queue passes the cap") {
  asio::io_context io;
  std::vector<std::string> log;
  auto ends = socket_pair(io);
  bool gone = false;
  net::ConnectionLimits limits;
  limits.max_write_queue_bytes = 65536;
  auto conn = start(std::move(ends.daemon_side), 1, &log, &gone, limits);
  io.poll();
  conn->send(std::string(std::size_t{2} << 20, 'y'));  // the socket takes some; the rest > cap
  for (int i = 0; i < 1000 && !gone; ++i) io.run_one_for(std::chrono::milliseconds(10));
  CHECK(gone);
  // What the socket had taken is all the client gets; then end of file.
  ends.client_side.non_blocking(false);
  std::string got;
  char buf[65536];
  for (;;) {
    std::error_code ec;
    const std::size_t n = ends.client_side.read_some(asio::buffer(buf), ec);
    if (ec) break;
    got.append(buf, n);
  }
  CHECK(got.size() < (std::size_t{2} << 20));
}

namespace {

// Answers every request with a reply of `reply_bytes`, numbered like the request.
struct Replier : FrameHandler {
  net::Connection* conn = nullptr;
  std::size_t reply_bytes = 0;
  int handled = 0;
  void handle_frame(std::string_view frame) override {
    ++handled;
    std::string reply(frame);
    reply.resize(reply_bytes, '.');
    conn->send(std::move(reply));
  }
  void frame_too_long(std::size_t) override {}
  void closed() override {}
};

}  // namespace

TEST_CASE("a client that does not read its replies is not read from until it catches up") {
  asio::io_context io;
  auto ends = socket_pair(io);
  bool gone = false;
  net::ConnectionLimits limits;
  limits.max_write_queue_bytes = std::size_t{1} << 20;
  auto conn = std::make_shared<net::Connection>(std::move(ends.daemon_side), Peer{1, -1, 0}, limits);
  auto handler = std::make_shared<Replier>();
  handler->conn = conn.get();
  handler->reply_bytes = 20000;
  conn->start(handler, [&gone] { gone = true; });
  constexpr int kRequests = 200;  // 4 MB of replies: four times the queue limit
  std::string requests;
  for (int i = 0; i < kRequests; ++i) requests += "r" + std::to_string(i) + "\n";
  asio::write(ends.client_side, asio::buffer(requests));
  for (int i = 0; i < 1000; ++i) io.poll();
  // The socket buffer and the queue up to the pause mark hold its replies; no more is read.
  CHECK_FALSE(gone);
  CHECK(handler->handled > 0);
  CHECK(handler->handled < kRequests);
  const int handled_while_unread = handler->handled;
  for (int i = 0; i < 1000; ++i) io.poll();
  CHECK(handler->handled == handled_while_unread);
  // Once it reads, every request is served and every reply arrives whole, in order.
  std::string got;
  const std::size_t want = std::size_t{kRequests} * (handler->reply_bytes + 1);
  for (int i = 0; i < 200000 && got.size() < want; ++i) {
    got += available(ends.client_side);
    io.poll();
  }
  CHECK_FALSE(gone);
  CHECK(handler->handled == kRequests);
  REQUIRE(got.size() == want);
  for (int i = 0; i < kRequests; ++i) {
    const std::string head = "r" + std::to_string(i) + ".";
    CHECK(got.compare(std::size_t(i) * (handler->reply_bytes + 1), head.size(), head) == 0);
  }
  conn->abort();
  io.poll();
}
