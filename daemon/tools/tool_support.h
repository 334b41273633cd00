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

// Answers a call when the database could not store what it wrote; nullptr: the isError text.
using StorageFallback = std::function<mcp::ToolResult(const Json& args, mcp::CallContext& ctx)>;

// Wraps a tool handler for the database: the answer waits until the call's writes are committed
// (group commit: a send is acknowledged only once it is durable), and a storage failure (disk
// full, I/O error, …) becomes an isError result that says nothing was stored and what to do —
// or `fallback`'s answer — instead of an internal error.
mcp::ToolHandler durable(store::Database& db, mcp::ToolHandler handler,
                         StorageFallback fallback = nullptr);

// The isError text for a storage failure with `reason` (from store::storage_failure).
std::string storage_error_text(const std::string& reason);

}  // namespace cb::tools
