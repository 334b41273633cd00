#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include "daemon/frames.h"
#include "daemon/net/net.h"

namespace cb::net {

struct ConnectionLimits {
  std::size_t max_frame_bytes = 1 << 20;
  std::size_t max_write_queue_bytes = 16 << 20;
  // How long a paused reader (see below) waits for its client to read anything at all before
  // the connection is closed.
  std::chrono::milliseconds max_unread_wait{60000};
};

// One client connection: a reader coroutine that frames lines (bounded while reading) and
// hands them to the handler, and a writer coroutine that drains the outgoing queue. send()
// writes a frame at once when nothing is queued and the socket takes it (the common case: no
// trip through the event loop); the rest waits for the writer. A client that stops reading
// costs only itself: once its unread replies pass pause_reading_above() the reader takes no
// more of its requests until it catches up; it is disconnected if it reads nothing at all for
// max_unread_wait meanwhile, or if replies it did not ask for (answers to earlier waits,
// notifications) take the queue past max_write_queue_bytes.
class Connection : public Outbox, public std::enable_shared_from_this<Connection> {
 public:
  Connection(Socket socket, Peer peer, ConnectionLimits limits);
  ~Connection() override;

  // Starts both coroutines; `on_gone` runs once when the connection has fully closed.
  void start(std::shared_ptr<FrameHandler> handler, std::function<void()> on_gone);
  void send(std::string frame) override;
  void close() override;
  // Closes at once, dropping whatever is queued (shutdown, misbehaving client).
  void abort();

  const Peer& peer() const { return peer_; }
  // Queued reply bytes above which no further requests are read: half the queue limit, at
  // most 256 KiB.
  std::size_t pause_reading_above() const;

 private:
  awaitable<void> reader();
  awaitable<void> writer();
  // Parks the reader while the client leaves more than pause_reading_above() unread.
  awaitable<void> wait_until_read();
  void finish();

  Socket socket_;
  Peer peer_;
  ConnectionLimits limits_;
  std::shared_ptr<FrameHandler> handler_;
  std::function<void()> on_gone_;
  std::deque<std::string> queue_;  // frames with their newline
  std::size_t queued_bytes_ = 0;
  bool writing_ = false;  // the writer holds a frame taken off the queue
  asio::steady_timer wake_writer_;
  asio::steady_timer wake_reader_;  // the paused reader waits here for the queue to drain
  bool reader_paused_ = false;
  std::uint64_t written_bytes_ = 0;  // by the writer; a paused reader watches it for progress
  bool closing_ = false;   // no new frames; close once the queue is flushed
  bool finished_ = false;
  int running_ = 0;        // coroutines still alive
};

}  // namespace cb::net
