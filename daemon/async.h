#pragma once

// The one place that spells Asio's coroutine vocabulary for code outside net/. Asio 1.22's
// default completion token is void, so every async call names use_awaitable explicitly.
#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <exception>
#include <string>

namespace cb {

using asio::awaitable;
using asio::use_awaitable;
using Executor = asio::any_io_executor;

// Logs an exception that escaped a spawned coroutine (defined in daemon/async.cpp).
void log_coroutine_failure(const std::string& what, std::exception_ptr error);

// co_spawn whose completion logs any escaped exception: nothing is spawned silently.
template <typename Awaitable>
void spawn_logged(const Executor& ex, Awaitable&& aw, std::string what) {
  asio::co_spawn(ex, std::forward<Awaitable>(aw), [what = std::move(what)](std::exception_ptr e) {
    if (e) log_coroutine_failure(what, e);
  });
}

// A one-shot wake-up usable from the single-threaded loop: waiters co_await wait(); notify()
// wakes all of them. Built on a steady_timer that never expires on its own.
class Event {
 public:
  explicit Event(const Executor& ex) : timer_(ex, asio::steady_timer::time_point::max()) {}
  // Returns when notify() is called, or throws operation_aborted-free: cancellation of the
  // awaiting coroutine also returns (check your own state afterwards).
  awaitable<void> wait() {
    std::error_code ec;
    co_await timer_.async_wait(asio::redirect_error(use_awaitable, ec));
  }
  void notify() { timer_.cancel(); }
  void notify_one() { timer_.cancel_one(); }

 private:
  asio::steady_timer timer_;
};

}  // namespace cb
