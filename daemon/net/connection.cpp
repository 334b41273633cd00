#include "daemon/net/connection.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>

#include "common/framing.h"

namespace cb::net {
namespace {

// Frames one connection may have handled before the reader yields to the rest of the loop.
constexpr std::uint64_t kFramesPerTurn = 16;
// Unread reply bytes past which a connection's requests are no longer read (see the header).
constexpr std::size_t kPauseReadingAbove = 256 * 1024;

}  // namespace

Connection::Connection(Socket socket, Peer peer, ConnectionLimits limits)
    : socket_(std::move(socket)),
      peer_(peer),
      limits_(limits),
      wake_writer_(socket_.get_executor(), asio::steady_timer::time_point::max()),
      wake_reader_(socket_.get_executor(), asio::steady_timer::time_point::max()) {}

Connection::~Connection() = default;

std::size_t Connection::pause_reading_above() const {
  return std::min(limits_.max_write_queue_bytes / 2, kPauseReadingAbove);
}

void Connection::start(std::shared_ptr<FrameHandler> handler, std::function<void()> on_gone) {
  handler_ = std::move(handler);
  on_gone_ = std::move(on_gone);
  running_ = 2;
  std::error_code ec;
  socket_.non_blocking(true, ec);  // send() must never block the loop
  auto self = shared_from_this();
  const std::string what = "connection " + std::to_string(peer_.connection_id);
  spawn_logged(socket_.get_executor(), [self]() -> awaitable<void> { co_await self->reader(); },
               what + " reader");
  spawn_logged(socket_.get_executor(), [self]() -> awaitable<void> { co_await self->writer(); },
               what + " writer");
}

void Connection::send(std::string frame) {
  if (closing_) return;
  frame.push_back('\n');
  if (queue_.empty() && !writing_ && socket_.is_open()) {
    // Nothing ahead of it: hand it to the socket now (non-blocking, whatever fits).
    std::error_code ec;
    const std::size_t n = socket_.send(asio::buffer(frame), 0, ec);
    if (!ec && n == frame.size()) return;
    if (ec && ec != asio::error::would_block && ec != asio::error::try_again) {
      abort();  // the peer is gone
      return;
    }
    frame.erase(0, n);
  }
  queued_bytes_ += frame.size();
  queue_.push_back(std::move(frame));
  if (queued_bytes_ > limits_.max_write_queue_bytes) {
    spdlog::warn("connection {} (pid {}) does not read its replies ({} bytes queued); closing it",
                 peer_.connection_id, peer_.pid, queued_bytes_);
    abort();
    return;
  }
  wake_writer_.cancel_one();
}

void Connection::close() {
  closing_ = true;
  wake_writer_.cancel_one();
  wake_reader_.cancel();
}

void Connection::abort() {
  closing_ = true;
  queue_.clear();
  queued_bytes_ = 0;
  std::error_code ec;
  socket_.shutdown(Socket::shutdown_both, ec);
  socket_.close(ec);
  wake_writer_.cancel();
  wake_reader_.cancel();
}

awaitable<void> Connection::reader() {
  LineFramer framer(limits_.max_frame_bytes);
  std::array<char, 65536> buf;
  std::string line;
  std::uint64_t handled = 0;
  for (bool done = false; !done;) {
    std::error_code ec;
    const std::size_t n =
        co_await socket_.async_read_some(asio::buffer(buf), asio::redirect_error(use_awaitable, ec));
    if (ec) break;
    framer.append(std::string_view(buf.data(), n));
    for (;;) {
      const auto status = framer.next(line);
      if (status == LineFramer::Status::kNeedMore) break;
      // Backpressure: a client that does not read its replies gets no more work done for it
      // (and nothing is dropped) until it has read them down again.
      if (queued_bytes_ > pause_reading_above() && !closing_) co_await wait_until_read();
      if (closing_) {
        done = true;
        break;
      }
      if (status == LineFramer::Status::kTooLong) {
        spdlog::warn("connection {} (pid {}) sent a frame over {} bytes; closing it",
                     peer_.connection_id, peer_.pid, limits_.max_frame_bytes);
        handler_->frame_too_long(limits_.max_frame_bytes);
        done = true;
        break;
      }
      try {
        handler_->handle_frame(line);
      } catch (const std::exception& e) {
        // Handlers answer every request themselves; reaching here is a bug, not the client's.
        spdlog::error("connection {}: frame handler failed: {}", peer_.connection_id, e.what());
      }
      if (closing_) {
        done = true;
        break;
      }
      // Fairness: a client that sends requests back to back (64 KiB of them per read) lets
      // every other connection's ready work run between its batches.
      if (++handled % kFramesPerTurn == 0) {
        co_await asio::post(socket_.get_executor(), use_awaitable);
      }
    }
  }
  handler_->closed();
  close();
  if (--running_ == 0) finish();
}

awaitable<void> Connection::wait_until_read() {
  reader_paused_ = true;
  std::uint64_t written_before = written_bytes_;
  while (queued_bytes_ > pause_reading_above() && !closing_) {
    wake_reader_.expires_after(limits_.max_unread_wait);
    std::error_code ec;
    co_await wake_reader_.async_wait(asio::redirect_error(use_awaitable, ec));
    if (ec || closing_ || queued_bytes_ <= pause_reading_above()) continue;  // woken
    if (written_bytes_ != written_before) {  // slow, but reading: wait on
      written_before = written_bytes_;
      continue;
    }
    spdlog::warn("connection {} (pid {}) does not read its replies ({} bytes unread for {} ms); "
                 "closing it",
                 peer_.connection_id, peer_.pid, queued_bytes_, limits_.max_unread_wait.count());
    abort();
  }
  reader_paused_ = false;
}

awaitable<void> Connection::writer() {
  for (;;) {
    while (!queue_.empty() && socket_.is_open()) {
      std::string frame = std::move(queue_.front());
      queue_.pop_front();
      queued_bytes_ -= frame.size();
      if (reader_paused_ && queued_bytes_ <= pause_reading_above()) wake_reader_.cancel();
      writing_ = true;
      std::error_code ec;
      // Piece by piece, counting the bytes: a paused reader takes any of them as progress.
      for (std::size_t done = 0; done < frame.size() && !ec;) {
        const std::size_t n = co_await socket_.async_write_some(
            asio::buffer(frame.data() + done, frame.size() - done),
            asio::redirect_error(use_awaitable, ec));
        done += n;
        written_bytes_ += n;
      }
      writing_ = false;
      if (ec) {
        abort();
        break;
      }
    }
    if (closing_ || !socket_.is_open()) break;
    std::error_code ec;
    co_await wake_writer_.async_wait(asio::redirect_error(use_awaitable, ec));
  }
  std::error_code ec;
  socket_.shutdown(Socket::shutdown_both, ec);
  socket_.close(ec);
  if (--running_ == 0) finish();
}

void Connection::finish() {
  if (finished_) return;
  finished_ = true;
  handler_.reset();
  if (on_gone_) {
    auto fn = std::move(on_gone_);
    fn();
  }
}

}  // namespace cb::net
