// The JSON of the named agents' answers (issue 23), each beside its output schema.
#include "common/clock.h"
#include "daemon/tools/mailbox_render.h"
#include "daemon/tools/schemas.h"

namespace cb::tools {

Json agent_list_schema() {
  const Json agent = schema::object(
      Json{{"name", {{"type", "string"}}},
           {"project", {{"type", "string"}}},
           {"client", {{"type", "string"}}},
           {"status", {{"type", "string"}}},
           {"note", {{"type", "string"}}},
           {"host", {{"type", "string"}}},
           {"connected", {{"type", "boolean"}}},
           {"waiting", {{"type", "boolean"}}},
           {"last_seen", schema::nullable(schema::iso_time())},
           {"unread_from_them", {{"type", "integer"}}}},
      Json::array({"name", "project", "client", "status", "note", "host", "connected", "waiting",
                   "last_seen", "unread_from_them"}));
  return schema::object(
      Json{{"you", schema::object(Json{{"name", {{"type", "string"}}},
                                       {"project", {{"type", "string"}}}},
                                  Json::array({"name", "project"}))},
           {"agents", {{"type", "array"}, {"items", agent}}}},
      Json::array({"you", "agents"}));
}

Json render(const bridge::AgentList& list) {
  Json agents = Json::array();
  for (const auto& a : list.agents) {
    agents.push_back(Json{{"name", a.name},
                          {"project", a.project},
                          {"client", a.client},
                          {"status", a.status.empty() ? std::string("unknown") : a.status},
                          {"note", a.note},
                          {"host", a.host},
                          {"connected", a.connected},
                          {"waiting", a.waiting},
                          {"last_seen", a.last_seen_ms > 0 ? Json(iso8601(a.last_seen_ms))
                                                           : Json(nullptr)},
                          {"unread_from_them", a.unread_from_them}});
  }
  return Json{{"you", Json{{"name", list.you}, {"project", list.your_project}}},
              {"agents", std::move(agents)}};
}

Json message_receipt_schema() {
  return schema::object(Json{{"message_id", {{"type", "integer"}}},
                             {"conversation_id", schema::conversation_id()},
                             {"to", {{"type", "array"}, {"items", {{"type", "string"}}}}},
                             {"redacted", {{"type", "boolean"}}},
                             {"redactions", {{"type", "object"},
                                             {"additionalProperties", {{"type", "integer"}}}}}},
                        Json::array({"message_id", "conversation_id", "to", "redacted",
                                     "redactions"}));
}

Json render(const bridge::MessageReceipt& r) {
  Json redactions = Json::object();
  int total = 0;
  for (const auto& [kind, n] : r.redactions) {
    redactions[kind] = n;
    total += n;
  }
  return Json{{"message_id", r.message_id},
              {"conversation_id", r.conversation_id},
              {"to", r.to},
              {"redacted", total > 0},
              {"redactions", std::move(redactions)}};
}

Json joined_schema() {
  return schema::object(Json{{"conversation_id", schema::conversation_id()},
                             {"session_id", schema::session_id()},
                             {"agent", {{"type", "string"}}},
                             {"my_role", {{"type", "string"}}},
                             {"partner_role", {{"type", "string"}}}},
                        Json::array({"conversation_id", "session_id", "agent", "my_role",
                                     "partner_role"}));
}

Json render(const bridge::JoinedSeat& j) {
  return Json{{"conversation_id", j.conversation_id},
              {"session_id", j.session_id},
              {"agent", j.agent},
              {"my_role", j.role},
              {"partner_role", j.partner_role}};
}

}  // namespace cb::tools
