// The named agents' tools (issue 23): list_agents, send_message, join_conversation. The token
// tools' agent paths (no credentials) are in bridge_tools.cpp.
#include "daemon/tools/agent_tools.h"

#include "daemon/tools/bridge_tools.h"
#include "daemon/tools/mailbox_render.h"
#include "daemon/tools/schemas.h"
#include "daemon/tools/tool_support.h"

namespace cb::tools {

using mcp::CallContext;
using mcp::ToolResult;

namespace {

// `to`: one name or conversation id, or an array of names.
bridge::AgentMail::Recipients recipients(const Json& to) {
  bridge::AgentMail::Recipients r;
  if (to.is_string()) {
    const auto& s = to.get_ref<const std::string&>();
    if (s.rfind("conv_", 0) == 0) {
      r.conversation_id = s;
    } else {
      r.names.push_back(s);
    }
  } else {
    r.names = to.get<std::vector<std::string>>();
  }
  return r;
}

}  // namespace

Json send_message_input_schema(const bridge::Settings& settings) {
  Json p = Json::object();
  p["to"] = Json{{"type", {"string", "array"}},
                 {"items", {{"type", "string"}, {"maxLength", 32}}},
                 {"minItems", 1},
                 {"maxItems", 49},
                 {"description", "An agent's name, an array of names, or a conversation_id."}};
  p["message"] = Json{{"type", "string"},
                      {"minLength", 1},
                      {"maxLength", settings.message_max_chars}};
  p["action_type"] = Json{{"type", "string"},
                          {"enum", {"question", "info", "proposal", "blocked", "complete"}},
                          {"default", "info"}};
  p["files_involved"] = Json{{"type", "array"},
                             {"maxItems", 20},
                             {"items", {{"type", "string"}, {"maxLength", 1000}}}};
  p["reply_to"] = Json{{"type", "integer"}, {"minimum", 1}, {"description", "A message id."}};
  return schema::object(p, Json::array({"to", "message"}));
}

void register_agent_tools(mcp::ToolRegistry& registry, bridge::Bridge& bridge,
                          const bridge::Settings& settings) {
  bridge::AgentMail* b = &bridge.agent_mail();
  const bridge::Agents* ag = &bridge.agents();
  store::Database* db = &bridge.database();
  auto add = [&registry, db](mcp::Tool tool, DurableHandler handler) {
    tool.handler = durable(*db, std::move(handler));
    registry.add(std::move(tool));
  };

  add(mcp::Tool{"list_agents",
                "List agents",
                "The agents on this bridge (you first): who is connected or waiting, their "
                "status and note, and how many of their messages you have not read.",
                schema::object(Json{{"scope",
                                     {{"type", "string"},
                                      {"enum", {"project", "all"}},
                                      {"default", "all"}}}},
                               Json::array()),
                agent_list_schema(),
                mcp::ToolAnnotations{true, false, true, false}},
      [b, ag](Json args, CallContext& ctx) -> awaitable<Answer> {
        const bool project = args.value("scope", "all") == "project";
        co_return answer(b->list_agents(caller_of(ctx, *ag), project));
      });

  add(mcp::Tool{"send_message",
                "Send message",
                "Send to agents by name (no tokens; the conversation of you and them is made on "
                "first use) or to a conversation_id. Secrets are redacted before storing.",
                send_message_input_schema(settings),
                message_receipt_schema(),
                mcp::ToolAnnotations{false, false, false, false}},
      [b, ag](Json args, CallContext& ctx) -> awaitable<Answer> {
        std::vector<std::string> files;
        if (auto it = args.find("files_involved"); it != args.end()) {
          files = it->get<std::vector<std::string>>();
        }
        Result<bridge::MessageReceipt> sent = b->send_message(
            caller_of(ctx, *ag), recipients(args.at("to")), args.at("message").get<std::string>(),
            args.value("action_type", "info"), files, optional_int(args, "reply_to"));
        if (!sent || !sent->stored_id) co_return answer(std::move(sent));
        // The id comes with the commit: the receipt is written then.
        Answer late;
        late.ticket = sent->ticket;
        late.settle = [receipt = std::move(*sent)]() -> std::optional<mcp::ToolResult> {
          const std::int64_t id = receipt.stored_id->value_or(0);
          if (id == 0) return std::nullopt;
          bridge::MessageReceipt done = receipt;
          done.message_id = id;
          return mcp::ToolResult::ok(render(done));
        };
        co_return late;
      });

  add(mcp::Tool{"join_conversation",
                "Join conversation",
                "Bind your agent to a token conversation's seat once; later calls need only "
                "its conversation_id.",
                schema::object(schema::auth_properties(), schema::auth_required()),
                joined_schema(),
                mcp::ToolAnnotations{false, false, true, false}},
      [b, ag](Json args, CallContext& ctx) -> awaitable<Answer> {
        co_return answer(b->join(caller_of(ctx, *ag), credentials(args)));
      });
}

}  // namespace cb::tools
