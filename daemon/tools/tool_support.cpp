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

// Waits until group `generation` (open, or committed and waiting for its sync) has ended; ""
// when it committed (and is on disk, with background sync), else why it failed. The commit
// resumes the call directly (no further trip through the event loop), so its answer leaves
// within the same turn — unless the commit woke a waiter with its answer ready, which goes
// first (Database::answer_after_wakes). Not cancellable: the group ends within this turn of the
// loop anyway (or when its sync is done), and a cancelled call's answer is dropped by the
// session.
awaitable<std::string> group_outcome(store::Database* db, std::uint64_t generation) {
  return asio::async_initiate<const asio::use_awaitable_t<>&, void(std::string)>(
      [db, generation](auto handler) {
        // when_done keeps a copyable std::function; the handler is move-only.
        auto held = std::make_shared<std::optional<decltype(handler)>>(std::move(handler));
        db->when_done(generation, [held](const std::string& why) {
          if (!held->has_value()) return;
          auto h = std::move(**held);
          held->reset();
          std::move(h)(why);
        });
      },
      use_awaitable);
}

// A coroutine's state lives in its parameters (see Session::run_tool).
awaitable<ToolResult> run_durable(store::Database* db, mcp::ToolHandler handler,
                                  StorageFallback fallback, Json args, CallContext& ctx) {
  const std::uint64_t writes_before = db->write_seq();
  std::string failure;
  ToolResult result;
  try {
    result = co_await handler(args, ctx);
  } catch (const std::exception& e) {
    auto why = store::storage_failure(e);
    if (!why) throw;
    failure = *why;
  }
  // A call that wrote answers once its writes are committed (and with background sync, on
  // disk); with background sync every call also waits for what it may have read to be on disk.
  // newest_pending() is a group not yet done, so when_done() never answers inside
  // group_outcome's initiation.
  if (failure.empty() && (db->write_seq() != writes_before || db->background_sync())) {
    if (const std::uint64_t pending = db->newest_pending(); pending != 0) {
      failure = co_await group_outcome(db, pending);
    }
  }
  if (failure.empty()) co_return result;
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

mcp::ToolHandler durable(store::Database& db, mcp::ToolHandler handler, StorageFallback fallback) {
  store::Database* d = &db;
  return [d, handler = std::move(handler), fallback = std::move(fallback)](
             Json args, CallContext& ctx) -> awaitable<ToolResult> {
    return run_durable(d, handler, fallback, std::move(args), ctx);
  };
}

}  // namespace cb::tools
