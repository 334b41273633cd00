#include "daemon/tools/tool_support.h"

#include <spdlog/spdlog.h>

#include <memory>
#include <optional>

#include <asio/async_result.hpp>

#include "daemon/async.h"

namespace cb::tools {
namespace {

using mcp::CallContext;
using mcp::ToolResult;

// Waits until a pending `ticket` is durable: "" then, else why its group failed. The commit
// resumes the call directly (no further trip through the event loop), so its answer leaves
// within the same turn — unless the ticket asks to be answered behind queued work (a receipt
// behind the wake-up of the reader that took its message). Not cancellable: the group ends
// within this turn of the loop anyway (or when its sync is done), and a cancelled call's answer
// is dropped by the session.
awaitable<std::string> durable_outcome(store::Database* db, store::Ticket ticket) {
  return asio::async_initiate<const asio::use_awaitable_t<>&, void(std::string)>(
      [db, ticket](auto handler) {
        // when_durable keeps a copyable std::function; the handler is move-only.
        auto held = std::make_shared<std::optional<decltype(handler)>>(std::move(handler));
        db->when_durable(ticket, [held](const std::string& why) {
          if (!held->has_value()) return;
          auto h = std::move(**held);
          held->reset();
          std::move(h)(why);
        });
      },
      use_awaitable);
}

// How often a call whose writes the commit refused (Answer::settle) runs: each run looks again.
constexpr int kRuns = 3;

// A coroutine's state lives in its parameters (see Session::run_tool).
awaitable<ToolResult> run_durable(store::Database* db, DurableHandler handler,
                                  StorageFallback fallback, Json args, CallContext& ctx) {
  std::string failure;
  for (int run = 1;; ++run) {
    Answer answer;
    try {
      answer = co_await handler(args, ctx);
    } catch (const std::exception& e) {
      auto why = store::storage_failure(e);
      if (!why) throw;
      failure = *why;
    }
    if (!failure.empty()) break;
    // With background sync every call also waits for what it may have read to be on disk.
    const store::Ticket ticket =
        db->background_sync() ? store::Ticket::later(answer.ticket, db->latest()) : answer.ticket;
    // Only a pending ticket is awaited, so when_durable never answers inside the initiation.
    if (std::optional<std::string> outcome = db->outcome(ticket)) {
      failure = std::move(*outcome);
    } else {
      failure = co_await durable_outcome(db, ticket);
    }
    if (!failure.empty()) break;
    if (!answer.settle) co_return std::move(answer.result);
    if (std::optional<ToolResult> settled = answer.settle()) co_return std::move(*settled);
    if (run == kRuns) {
      failure = "the conversation kept changing while the message was being stored";
      break;
    }
  }
  spdlog::warn("a tool call could not store its writes: {}", failure);
  if (fallback) co_return fallback(args, ctx);
  co_return ToolResult::error(storage_error_text(failure));
}

}  // namespace

bridge::Credentials credentials(const Json& args) {
  return bridge::Credentials{args.at("conversation_id").get<std::string>(),
                             args.at("session_id").get<std::string>(),
                             args.at("token").get<std::string>()};
}

std::optional<std::int64_t> optional_int(const Json& args, const char* key) {
  auto it = args.find(key);
  if (it == args.end() || it->is_null()) return std::nullopt;
  return it->get<std::int64_t>();
}

std::string storage_error_text(const std::string& reason) {
  const bool full = reason.find("full") != std::string::npos;
  return std::string("Error (") + (full ? "storage_full" : "storage_error") +
         "): nothing of this call was stored — " + reason +
         ". Retry in a minute; if it keeps failing, tell the user to run `claude-bridgectl "
         "doctor`" +
         (full ? " and free disk space." : " and read the daemon's log.");
}

mcp::ToolHandler durable(store::Database& db, DurableHandler handler, StorageFallback fallback) {
  store::Database* d = &db;
  return [d, handler = std::move(handler), fallback = std::move(fallback)](
             Json args, CallContext& ctx) -> awaitable<ToolResult> {
    return run_durable(d, handler, fallback, std::move(args), ctx);
  };
}

}  // namespace cb::tools
