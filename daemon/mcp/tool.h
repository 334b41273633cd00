#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "daemon/async.h"
#include "daemon/frames.h"
#include "daemon/rpc/jsonrpc.h"

namespace cb::mcp {

// What a tool call returns. Success carries structuredContent (validated by clients against the
// tool's outputSchema) and the same JSON as text; a refusal is an isError result whose text
// tells the model what to fix (no structuredContent, since it would not match the schema and
// Claude Code shows structuredContent instead of text when present).
struct ToolResult {
  bool is_error = false;
  Json structured;    // success only
  std::string text;   // error text; success text is derived from `structured`

  static ToolResult ok(Json structured) { return ToolResult{false, std::move(structured), {}}; }
  static ToolResult error(std::string text) { return ToolResult{true, nullptr, std::move(text)}; }
  // The JSON-RPC response carrying this result, serialised (`modern` adds "resultType":
  // "complete"). The same bytes as dumping the response document, for a fraction of the work:
  // the structured content is serialised once and its text copy escaped from that, where the
  // document would copy it, hold it twice and serialise it twice over.
  std::string response_frame(const Json& id, bool modern) const;
};


// Services a running tool call may use. Owned by the session for the duration of the call.
class CallContext {
 public:
  virtual ~CallContext() = default;
  virtual const Peer& peer() const = 0;
  // The client session the connection serves (its verified hello); nullptr when unbound.
  virtual const ClientHello* hello() const = 0;
  // Sends notifications/progress when the request carried a progress token; otherwise a no-op.
  virtual void progress(std::string message) = 0;
  // Whether the request carried a progress token (so progress() reaches the client).
  virtual bool has_progress_token() const = 0;
  // The client's declared capabilities (legacy: from initialize; modern: from the request).
  virtual const Json& client_capabilities() const = 0;
  // Sends a request to the client and waits for its result. Throws nothing: returns nullopt
  // when the client answered with an error, the connection closed, or the call was cancelled.
  virtual awaitable<std::optional<Json>> request_client(std::string method, Json params) = 0;
  // Emitted when the client cancels the request or disconnects.
  virtual asio::cancellation_slot cancellation_slot() = 0;
  virtual bool cancelled() const = 0;
};

struct ToolAnnotations {
  bool read_only = false;
  bool destructive = false;
  bool idempotent = false;
  bool open_world = false;
};

using ToolHandler = std::function<awaitable<ToolResult>(Json arguments, CallContext& ctx)>;

struct Tool {
  std::string name;
  std::string title;
  std::string description;
  Json input_schema;
  Json output_schema;  // null: none
  ToolAnnotations annotations;
  ToolHandler handler;
};

}  // namespace cb::mcp
