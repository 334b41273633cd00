#include "daemon/tools/exec_tools.h"

#include "daemon/exec/command_line.h"
#include "daemon/tools/bridge_tools.h"
#include "daemon/tools/exec_render.h"
#include "daemon/tools/schemas.h"
#include "daemon/tools/tool_support.h"

namespace cb::tools {

using Json = nlohmann::json;
using mcp::CallContext;
using mcp::ToolResult;

namespace {

Json enable_input() {
  Json p = schema::auth_properties();
  p["mode"] = exec_mode_schema(
      "safe: read-only programs, workspace read-only; restricted: developer tools (build, test, "
      "git) with destructive forms refused, workspace writable; yolo: any program, still "
      "sandboxed. At most the operator's ceiling; lowering is always allowed.");
  p["workspace"] = Json{{"type", "string"},
                        {"minLength", 1},
                        {"maxLength", 4096},
                        {"description",
                         "Absolute path of the directory commands run in; it must lie inside one "
                         "of the operator's allowed roots (default: the first root)."}};
  p["timeout"] = Json{{"type", "integer"},
                      {"minimum", 1},
                      {"maximum", 3600},
                      {"default", 30},
                      {"description",
                       "Seconds a command may run before its whole process tree is killed "
                       "(default 30, at most the operator's max_timeout_seconds)."}};
  p["sandbox"] = Json{{"type", "boolean"},
                      {"default", true},
                      {"description",
                       "Always true: commands run in a bubblewrap sandbox; false is refused."}};
  return schema::object(p, Json::array({"conversation_id", "session_id", "token", "mode"}));
}

Json execute_input() {
  Json p = schema::auth_properties();
  p["command"] = Json{
      {"type", "string"},
      {"minLength", 1},
      {"maxLength", static_cast<std::int64_t>(exec::kMaxCommandLength)},
      {"description",
       "One command line, split like a shell would split words and run WITHOUT a shell: no ; "
       "&& || | > < $ ` * or other shell syntax (refused with the reason). Runs in the "
       "conversation's workspace after a person approves it."}};
  return schema::object(p, Json::array({"conversation_id", "session_id", "token", "command"}));
}

// ---- Elicitation: the requesting client's own dialog ----

bool declares_elicitation(const Json& caps) {
  if (!caps.is_object()) return false;
  auto it = caps.find("elicitation");
  return it != caps.end() && it->is_object();
}

Json elicitation_params(const std::string& message) {
  return Json{{"message", message},
              {"requestedSchema",
               {{"type", "object"},
                {"properties",
                 {{"allow", {{"type", "boolean"}, {"title", "Allow this command?"}}}}},
                {"required", {"allow"}}}}};
}

// "accepted" only for an accept whose content says allow = true.
std::string elicitation_answer(const std::optional<Json>& reply) {
  if (!reply || !reply->is_object()) return "no_answer";
  const Json action = reply->value("action", Json());
  if (action == "accept") {
    auto content = reply->find("content");
    const bool allow = content != reply->end() && content->is_object() &&
                       content->value("allow", Json()) == Json(true);
    return allow ? "accepted" : "declined";
  }
  if (action == "decline") return "declined";
  if (action == "cancel") return "cancelled";
  return "no_answer";
}

std::string elicitation_method() { return "elicitation/create"; }

// Coroutines keep their state in parameters (GCC 12: a lambda's captures die with it).
awaitable<std::string> elicit(CallContext* c, std::string message) {
  std::optional<Json> reply =
      co_await c->request_client(elicitation_method(), elicitation_params(message));
  co_return elicitation_answer(reply);
}

bridge::ExecHooks exec_hooks(CallContext* c) {
  bridge::ExecHooks h;
  h.progress = [c](const std::string& message) { c->progress(message); };
  h.cancelled = [c] { return c->cancelled(); };
  if (declares_elicitation(c->client_capabilities())) {
    h.ask_client = [c](std::string message) { return elicit(c, std::move(message)); };
  }
  return h;
}

awaitable<Answer> run_execute(bridge::ExecService* b, Json args, CallContext* c) {
  bridge::ExecHooks hooks = exec_hooks(c);
  Result<bridge::CommandRun> result = co_await b->execute_command(
      caller_of(*c), credentials(args), args.at("command").get<std::string>(), std::move(hooks));
  co_return answer(std::move(result));
}

awaitable<Answer> ready(Answer result) { co_return result; }

Answer run_enable(bridge::ExecService* b, const Json& args, const CallContext& ctx) {
  std::optional<std::string> workspace;
  if (auto it = args.find("workspace"); it != args.end()) workspace = it->get<std::string>();
  std::optional<std::int64_t> timeout;
  if (auto it = args.find("timeout"); it != args.end()) timeout = it->get<std::int64_t>();
  std::optional<bool> sandbox;
  if (auto it = args.find("sandbox"); it != args.end()) sandbox = it->get<bool>();
  return answer(b->enable_exec(caller_of(ctx), credentials(args),
                                       args.at("mode").get<std::string>(), workspace, timeout,
                                       sandbox));
}

}  // namespace

void list_exec_tools(mcp::ToolRegistry& registry, bool enabled) {
  registry.set_listed("enable_yolo_mode", enabled);
  registry.set_listed("execute_command", enabled);
}

void register_exec_tools(mcp::ToolRegistry& registry, bridge::Bridge& bridge) {
  bridge::ExecService* b = &bridge.exec();
  store::Database* db = &bridge.database();
  auto add = [&registry, db](mcp::Tool tool, DurableHandler handler) {
    tool.handler = durable(*db, std::move(handler));
    registry.add(std::move(tool));
  };

  add(mcp::Tool{
      "enable_yolo_mode",
      "Enable command execution",
      "Set this conversation's command-execution mode (safe, restricted or yolo, up to the "
      "ceiling a person set in the daemon's config), its workspace and timeout. Both sessions "
      "are told. Only works when a person turned command execution on in the config file; no "
      "tool call can. Every command still needs a person's approval on a terminal.",
      enable_input(),
      mode_set_schema(),
      mcp::ToolAnnotations{false, false, true, false}},
      [b](Json args, CallContext& ctx) -> awaitable<Answer> {
        return ready(run_enable(b, args, ctx));
      });

  add(mcp::Tool{
      "execute_command",
      "Execute command",
      "Run one command (no shell) in the conversation's workspace, inside a sandbox, after a "
      "person approves it: the call waits, reporting the approval id (the person runs "
      "`claude-bridgectl approve ID`), then returns exit code, stdout and stderr (secrets "
      "redacted). Your partner receives the result as a message from system. Call "
      "enable_yolo_mode first.",
      execute_input(),
      command_run_schema(),
      mcp::ToolAnnotations{false, true, false, false}},
      [b](Json args, CallContext& ctx) -> awaitable<Answer> {
        return run_execute(b, std::move(args), &ctx);
      });
}

}  // namespace cb::tools
