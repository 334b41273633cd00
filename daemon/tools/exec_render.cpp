#include "daemon/tools/exec_render.h"

#include <string>

#include "daemon/tools/schemas.h"

namespace cb::tools {

Json exec_mode_schema(const char* description) {
  return Json{
      {"type", "string"}, {"enum", {"safe", "restricted", "yolo"}}, {"description", description}};
}

Json mode_set_schema() {
  return schema::object(Json{{"conversation_id", schema::conversation_id()},
                             {"session_id", schema::session_id()},
                             {"mode", exec_mode_schema("The mode now in force.")},
                             {"previous_mode", {{"type", "string"}}},
                             {"max_mode", exec_mode_schema("The operator's ceiling.")},
                             {"workspace", {{"type", "string"}}},
                             {"timeout", {{"type", "integer"}}},
                             {"sandbox", {{"type", "boolean"}}},
                             {"allow_network", {{"type", "boolean"}}},
                             {"approval", {{"type", "string"}}},
                             {"partner_notified", {{"type", "boolean"}}}},
                        Json::array({"conversation_id", "session_id", "mode", "previous_mode",
                                     "max_mode", "workspace", "timeout", "sandbox", "allow_network",
                                     "approval", "partner_notified"}));
}

Json render(const bridge::ModeSet& m) {
  return Json{{"conversation_id", m.conversation_id},
              {"session_id", m.session_id},
              {"mode", m.mode},
              {"previous_mode", m.previous_mode},
              {"max_mode", m.max_mode},
              {"workspace", m.workspace},
              {"timeout", m.timeout_seconds},
              {"sandbox", true},
              {"allow_network", m.allow_network},
              {"approval",
               "Every command waits for a person's approval on a terminal (claude-bridgectl "
               "approve ID) for up to " +
                   std::to_string(m.approval_timeout_seconds) +
                   " s; execute_command reports the ID while it waits."},
              {"partner_notified", true}};
}

Json command_run_schema() {
  Json props{{"approval_id", {{"type", "string"}}},
             {"command", {{"type", "string"}}},
             {"mode", {{"type", "string"}}},
             {"workspace", {{"type", "string"}}},
             {"exit_code", {{"type", "integer"}, {"description", "-1 when killed on timeout"}}},
             {"signal", {{"type", "integer"}}},
             {"timed_out", {{"type", "boolean"}}},
             {"stdout", {{"type", "string"}}},
             {"stderr", {{"type", "string"}}},
             {"stdout_truncated", {{"type", "boolean"}}},
             {"stderr_truncated", {{"type", "boolean"}}},
             {"stdout_bytes", {{"type", "integer"}}},
             {"stderr_bytes", {{"type", "integer"}}},
             {"duration_ms", {{"type", "integer"}}},
             {"duration", {{"type", "number"}, {"description", "seconds"}}},
             {"redacted", {{"type", "boolean"}}},
             {"redactions", {{"type", "object"}, {"additionalProperties", {{"type", "integer"}}}}},
             {"snapshot_ref", {{"type", "string"}}},
             {"partner_message_id", {{"type", "integer"}}}};
  Json required = Json::array({"approval_id", "command", "mode", "workspace", "exit_code",
                               "timed_out", "stdout", "stderr", "stdout_truncated",
                               "stderr_truncated", "stdout_bytes", "stderr_bytes", "duration_ms",
                               "duration", "redacted", "redactions", "partner_message_id"});
  return schema::object(std::move(props), std::move(required));
}

Json render(const bridge::CommandRun& r) {
  Json redactions = Json::object();
  int total = 0;
  for (const auto& [kind, n] : r.redactions) {
    redactions[kind] = n;
    total += n;
  }
  Json out{{"approval_id", r.approval_id},
           {"command", r.command},
           {"mode", r.mode},
           {"workspace", r.workspace},
           {"exit_code", r.exit_code},
           {"timed_out", r.timed_out},
           {"stdout", r.stdout_text},
           {"stderr", r.stderr_text},
           {"stdout_truncated", r.stdout_truncated},
           {"stderr_truncated", r.stderr_truncated},
           {"stdout_bytes", r.stdout_bytes},
           {"stderr_bytes", r.stderr_bytes},
           {"duration_ms", r.duration_ms},
           {"duration", static_cast<double>(r.duration_ms) / 1000.0},
           {"redacted", total > 0},
           {"redactions", std::move(redactions)},
           {"partner_message_id", r.partner_message_id}};
  if (r.signal != 0) out["signal"] = r.signal;
  if (!r.snapshot_ref.empty()) out["snapshot_ref"] = r.snapshot_ref;
  return out;
}

}  // namespace cb::tools
