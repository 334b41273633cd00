#include "daemon/tools/bridge_tools.h"

#include "daemon/tools/mailbox_render.h"
#include "daemon/tools/schemas.h"
#include "daemon/tools/tool_support.h"

namespace cb::tools {

using Json = nlohmann::json;
using mcp::CallContext;
using mcp::ToolResult;

namespace {

Json read_properties() {
  Json p = schema::auth_properties();
  p["since_id"] = Json{{"type", "integer"},
                       {"minimum", 0},
                       {"description",
                        "Re-read every message to you with an id above this one, read or not "
                        "(recovery after a crash). Omit to get unread messages."}};
  p["limit"] = Json{{"type", "integer"},
                    {"minimum", 1},
                    {"maximum", 200},
                    {"description", "At most this many messages (default 50); has_more tells "
                                    "whether more are waiting."}};
  return p;
}

// send_to_partner's inputSchema: the message's maxLength is [conversation] message_max_chars.
Json send_input_schema(const bridge::Settings& settings) {
  Json send_props = schema::auth_properties();
  send_props["message"] = Json{{"type", "string"},
                               {"minLength", 1},
                               {"maxLength", settings.message_max_chars},
                               {"description", "The message (secrets are redacted before storing)."}};
  send_props["action_type"] = Json{{"type", "string"},
                                   {"enum", {"question", "info", "proposal", "blocked", "complete"}},
                                   {"default", "info"}};
  send_props["files_involved"] = Json{{"type", "array"},
                                      {"maxItems", 20},
                                      {"items", {{"type", "string"}, {"maxLength", 1000}}},
                                      {"description", "Paths this message is about (at most 20)."}};
  return schema::object(send_props,
                        Json::array({"conversation_id", "session_id", "token", "message"}));
}

}  // namespace

const char* server_instructions() {
  return "Claude Bridge connects two Claude sessions in an authenticated conversation. One "
         "session calls create_conversation and becomes session \"a\"; it gives its partner the "
         "conversation_id and session_b_token out of band, and the partner uses session_id "
         "\"b\". Exchange messages with send_to_partner; instead of polling, call "
         "wait_for_messages (it returns as soon as a message arrives). Report progress with "
         "update_my_status and look at the partner with check_partner_status. Secrets in "
         "messages are redacted before they are stored. Conversations expire after 3 hours.";
}

bridge::Caller caller_of(const CallContext& ctx) {
  return bridge::Caller{ctx.peer().connection_id, ctx.peer().pid, ctx.peer().uid};
}

ToolResult refusal_result(const Status& refusal) {
  std::string text = "Error (" + refusal.code() + "): " + refusal.message();
  if (refusal.retry_after_seconds()) {
    text += " [retry_after_seconds=" + std::to_string(*refusal.retry_after_seconds()) + "]";
  }
  return ToolResult::error(std::move(text));
}

void register_bridge_tools(mcp::ToolRegistry& registry, bridge::Bridge& bridge,
                           const bridge::Settings& settings) {
  bridge::Mailbox* b = &bridge.mailbox();
  store::Database* db = &bridge.database();
  // Every tool answers only once its writes are durable; storage failures are isError results.
  auto add = [&registry, db](mcp::Tool tool, DurableHandler handler,
                             StorageFallback fallback = nullptr) {
    tool.handler = durable(*db, std::move(handler), std::move(fallback));
    registry.add(std::move(tool));
  };
  // When a read cannot be recorded (disk full), the messages are still served, unmarked.
  StorageFallback unmarked_read = [b](const Json& args, CallContext& ctx) {
    return to_tool_result(b->peek_messages(caller_of(ctx), credentials(args),
                                           optional_int(args, "since_id"),
                                           optional_int(args, "limit")));
  };

  add(mcp::Tool{
      "create_conversation",
      "Create conversation",
      "Start a conversation with a partner session. You become session \"a\" and receive both "
      "tokens; hand conversation_id and session_b_token to your partner.",
      schema::object(
          Json{{"my_role", schema::role("Your role, e.g. backend_developer")},
               {"partner_role", schema::role("Your partner's role, e.g. frontend_developer")}},
          Json::array({"my_role", "partner_role"})),
      created_schema(),
      mcp::ToolAnnotations{false, false, false, false}},
      [b](Json args, CallContext& ctx) -> awaitable<Answer> {
        if (std::string problem = schema::role_problem(args); !problem.empty()) {
          co_return nothing_written(ToolResult::error(std::move(problem)));
        }
        co_return answer(b->create_conversation(caller_of(ctx),
                                                        args.at("my_role").get<std::string>(),
                                                        args.at("partner_role").get<std::string>()));
      });

  add(mcp::Tool{
      "send_to_partner",
      "Send to partner",
      "Send a message to your partner session. Secrets (keys, tokens, passwords) are replaced "
      "by placeholders before the message is stored; the result says which kinds were.",
      send_input_schema(settings),
      send_receipt_schema(),
      mcp::ToolAnnotations{false, false, false, false}},
      [b](Json args, CallContext& ctx) -> awaitable<Answer> {
        std::vector<std::string> files;
        if (auto it = args.find("files_involved"); it != args.end()) {
          files = it->get<std::vector<std::string>>();
        }
        co_return answer(b->send(caller_of(ctx), credentials(args),
                                         args.at("message").get<std::string>(),
                                         args.value("action_type", "info"), files));
      });

  add(mcp::Tool{
      "check_messages",
      "Check messages",
      "Return your unread messages, oldest first, and mark them read. Prefer "
      "wait_for_messages, which blocks until something arrives instead of polling.",
      schema::object(read_properties(), schema::auth_required()),
      inbox_schema(),
      mcp::ToolAnnotations{false, false, false, false}},
      [b](Json args, CallContext& ctx) -> awaitable<Answer> {
        co_return answer(b->check_messages(caller_of(ctx), credentials(args),
                                                   optional_int(args, "since_id"),
                                                   optional_int(args, "limit")));
      },
      unmarked_read);

  Json wait_props = read_properties();
  wait_props["timeout_seconds"] = Json{{"type", "integer"},
                                       {"minimum", 1},
                                       {"maximum", 600},
                                       {"default", 60},
                                       {"description", "Give up after this many seconds and "
                                                       "return an empty list (default 60)."}};
  add(mcp::Tool{
      "wait_for_messages",
      "Wait for messages",
      "Block until your partner sends something (or timeout_seconds pass), then return the "
      "unread messages like check_messages. Use this in a loop instead of polling.",
      schema::object(wait_props, schema::auth_required()),
      inbox_schema(),
      mcp::ToolAnnotations{false, false, false, false}},
      [b](Json args, CallContext& ctx) -> awaitable<Answer> {
        CallContext* c = &ctx;
        std::function<void(const std::string&)> progress = [c](const std::string& msg) {
          c->progress(msg);
        };
        std::function<bool()> cancelled = [c] { return c->cancelled(); };
        const std::int64_t timeout = args.value("timeout_seconds", 60);
        auto result = co_await b->wait_for_messages(caller_of(ctx), credentials(args),
                                                    optional_int(args, "since_id"),
                                                    optional_int(args, "limit"), timeout,
                                                    std::move(progress), std::move(cancelled));
        co_return answer(std::move(result));
      },
      unmarked_read);

  Json status_props = schema::auth_properties();
  status_props["status"] = Json{{"type", "string"},
                                {"enum", {"working", "waiting", "blocked", "complete"}}};
  add(mcp::Tool{
      "update_my_status",
      "Update my status",
      "Tell your partner what you are doing; also records a heartbeat.",
      schema::object(status_props, Json::array({"conversation_id", "session_id", "token", "status"})),
      status_update_schema(),
      mcp::ToolAnnotations{false, false, true, false}},
      [b](Json args, CallContext& ctx) -> awaitable<Answer> {
        co_return answer(b->update_status(caller_of(ctx), credentials(args),
                                                  args.at("status").get<std::string>()));
      });

  add(mcp::Tool{
      "check_partner_status",
      "Check partner status",
      "Your partner's last status and heartbeat, whether it is connected right now and whether "
      "it is waiting for your message.",
      schema::object(schema::auth_properties(), schema::auth_required()),
      partner_status_schema(),
      mcp::ToolAnnotations{true, false, true, false}},
      [b](Json args, CallContext& ctx) -> awaitable<Answer> {
        co_return answer(b->partner_status(caller_of(ctx), credentials(args)));
      });
}

void refresh_bridge_tools(mcp::ToolRegistry& registry, const bridge::Settings& settings) {
  registry.replace_input_schema("send_to_partner", send_input_schema(settings));
}

}  // namespace cb::tools
