#pragma once

#include "common/status.h"
#include "daemon/bridge/bridge.h"
#include "daemon/mcp/tool_registry.h"
#include "daemon/tools/exec_render.h"
#include "daemon/tools/mailbox_render.h"
#include "daemon/tools/tool_support.h"

// Glue between the MCP tool registry and the bridge: each tool's schemas (the compatibility
// contract of SEED.md plus our additions) and a handler that turns arguments into a bridge
// call and its outcome into a tool result.
namespace cb::tools {

// Registers create_conversation, send_to_partner, check_messages, wait_for_messages,
// update_my_status and check_partner_status. Schemas embed limits from `settings`.
void register_bridge_tools(mcp::ToolRegistry& registry, bridge::Bridge& bridge,
                           const bridge::Settings& settings);
// Registers list_agents, send_message and join_conversation (agent_tools.cpp); called by
// register_bridge_tools.
void register_agent_tools(mcp::ToolRegistry& registry, bridge::Bridge& bridge,
                          const bridge::Settings& settings);
// After a configuration reload: the schemas that embed a setting (send_to_partner's message
// maxLength) follow `settings` in tools/list and in the validation of every later call.
void refresh_bridge_tools(mcp::ToolRegistry& registry, const bridge::Settings& settings);

// The text a refusal becomes for the model.
mcp::ToolResult refusal_result(const Status& refusal);
// A product's answer as a tool result: rendered beside its output schema, or the refusal.
template <class T>
mcp::ToolResult to_tool_result(Result<T> result) {
  if (!result) return refusal_result(result.status());
  return mcp::ToolResult::ok(render(result.value()));
}
// The same, with the ticket of the writes behind it (for durable()): a result type that wrote
// carries a `ticket`; a refusal carries none (its audit row is not waited for).
template <class T>
Answer answer(Result<T> result) {
  store::Ticket ticket;
  if constexpr (requires(const T& v) { v.ticket; }) {
    if (result) ticket = result->ticket;
  }
  return Answer{to_tool_result(std::move(result)), ticket};
}
bridge::Caller caller_of(const mcp::CallContext& ctx);
// The same with the named agent the connection is bound to.
bridge::Caller caller_of(const mcp::CallContext& ctx, const bridge::Agents& agents);

// Server instructions shown to the model at connect time.
const char* server_instructions();

}  // namespace cb::tools
