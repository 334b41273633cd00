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

struct Replying {
  std::shared_ptr<net::Connection> conn;
  std::shared_ptr<Replier> handler;
  bool gone = false;
};

// A connection (reading pauses above 256 KiB unread) whose handler answers each request with
// `reply_bytes`, and `requests` requests already written by the client.
constexpr int kRequests = 200;  // of 20,000 bytes: 4 MB of replies, four times the queue limit
std::unique_ptr<Replying> start_replying(net::Socket daemon_side, net::Socket& client_side,
                                         std::chrono::milliseconds max_unread_wait,
                                         int requests = kRequests,
                                         std::size_t reply_bytes = 20000,
                                         std::size_t queue_limit = std::size_t{1} << 20) {
  auto r = std::make_unique<Replying>();
  net::ConnectionLimits limits;
  limits.max_write_queue_bytes = queue_limit;
  limits.max_unread_wait = max_unread_wait;
  r->conn = std::make_shared<net::Connection>(std::move(daemon_side), Peer{1, -1, 0}, limits);
  r->handler = std::make_shared<Replier>();
  r->handler->conn = r->conn.get();
  r->handler->reply_bytes = reply_bytes;
  r->conn->start(r->handler, [gone = &r->gone] { *gone = true; });
  std::string text;
  for (int i = 0; i < requests; ++i) text += "r" + std::to_string(i) + "\n";
  asio::write(client_side, asio::buffer(text));
  return r;
}

}  // namespace

TEST_CASE("a client that does not read its replies is not read from until it catches up") {
  asio::io_context io;
  auto ends = socket_pair(io);
  auto r = start_replying(std::move(ends.daemon_side), ends.client_side, std::chrono::minutes(1));
  for (int i = 0; i < 1000; ++i) io.poll();
  // The socket buffer and the queue up to the pause mark hold its replies; no more is read.
  CHECK_FALSE(r->gone);
  CHECK(r->handler->handled > 0);
  CHECK(r->handler->handled < kRequests);
  const int handled_while_unread = r->handler->handled;
  for (int i = 0; i < 1000; ++i) io.poll();
  CHECK(r->handler->handled == handled_while_unread);
  // Once it reads, every request is served and every reply arrives whole, in order.
  std::string got;
  const std::size_t want = std::size_t{kRequests} * (r->handler->reply_bytes + 1);
  for (int i = 0; i < 200000 && got.size() < want; ++i) {
    got += available(ends.client_side);
    io.poll();
  }
  CHECK_FALSE(r->gone);
  CHECK(r->handler->handled == kRequests);
  REQUIRE(got.size() == want);
  for (int i = 0; i < kRequests; ++i) {
    const std::string head = "r" + std::to_string(i) + ".";
    CHECK(got.compare(std::size_t(i) * (r->handler->reply_bytes + 1), head.size(), head) == 0);
  }
  r->conn->abort();
  io.poll();
}

TEST_CASE("a paused client that reads nothing at all is cut off after max_unread_wait") {
  asio::io_context io;
  auto ends = socket_pair(io);
  auto r = start_replying(std::move(ends.daemon_side), ends.client_side,
                          std::chrono::milliseconds(50));
  for (int i = 0; i < 1000 && !r->gone; ++i) io.run_one_for(std::chrono::milliseconds(10));
  CHECK(r->gone);
  CHECK(r->handler->handled < kRequests);
}

TEST_CASE("a paused client that reads slowly is waited for, however long it takes") {
  asio::io_context io;
  auto ends = socket_pair(io);
  // Replies of 3 MB, each alone past the pause mark, read 16 KiB per ~5 ms of loop time: the
  // third request waits while the first reply drains (~0.9 s), past the reader's 400 ms limit,
  // while the socket takes more of the reply every ~50 ms (a Unix socket turns writable again
  // once three quarters of its buffer are read). Not a timing assertion: the outcome is the
  // same unless this process is not scheduled at all for ~350 ms.
  constexpr int kSlowRequests = 3;
  auto r = start_replying(std::move(ends.daemon_side), ends.client_side,
                          std::chrono::milliseconds(400), kSlowRequests, 3000000,
                          std::size_t{8} << 20);
  ends.client_side.non_blocking(true);
  const std::size_t want = std::size_t{kSlowRequests} * (r->handler->reply_bytes + 1);
  std::size_t got = 0;
  char buf[16384];
  for (int i = 0; i < 20000 && got < want && !r->gone; ++i) {
    io.run_for(std::chrono::milliseconds(5));
    std::error_code ec;
    got += ends.client_side.read_some(asio::buffer(buf), ec);
  }
  CHECK_FALSE(r->gone);
  CHECK(got == want);
  CHECK(r->handler->handled == kSlowRequests);
  r->conn->abort();
  io.poll();
}
