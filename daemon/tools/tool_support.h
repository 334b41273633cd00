#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "daemon/bridge/bridge.h"
#include "daemon/mcp/tool.h"
#include "daemon/store/database.h"

// What every tool handler shares: reading common arguments, and answering only once the call's
// writes are durable.
namespace cb::tools {

using Json = nlohmann::json;

// conversation_id, session_id and token (the input schema made them present strings).
bridge::Credentials credentials(const Json& args);
// An optional integer argument (absent or null: nullopt).
std::optional<std::int64_t> optional_int(const Json& args, const char* key);

// A tool's result and the ticket of the writes behind it (empty when it wrote nothing).
struct Answer {
  mcp::ToolResult result;
  store::Ticket ticket;
  // Set when the result is known only once the ticket is durable (a team's store gives a
  // group's messages their ids as it commits): called then instead of using `result`.
  // std::nullopt runs the call again: the commit refused what it meant to store, and nothing of
  // it was stored (a conversation ended by another daemon meanwhile).
  std::function<std::optional<mcp::ToolResult>()> settle;
};
using DurableHandler = std::function<awaitable<Answer>(Json args, mcp::CallContext& ctx)>;
// A result with nothing written behind it (an argument refused before the product was asked).
inline Answer nothing_written(mcp::ToolResult result) { return Answer{std::move(result), {}}; }

// Answers a call when the database could not store what it wrote; nullptr: the isError text.
using StorageFallback = std::function<mcp::ToolResult(const Json& args, mcp::CallContext& ctx)>;

// The tool handler of `handler` for the database: the result is sent once its ticket is
// durable (group commit: a send is acknowledged only once it is on disk; with background sync
// every result also waits for what it may have read), and a storage failure (disk full, I/O
// error, …) becomes an isError result that says nothing was stored and what to do — or
// `fallback`'s answer — instead of an internal error.
mcp::ToolHandler durable(store::Database& db, DurableHandler handler,
                         StorageFallback fallback = nullptr);

// The isError text for a storage failure with `reason` (from store::storage_failure).
std::string storage_error_text(const std::string& reason);

}  // namespace cb::tools
