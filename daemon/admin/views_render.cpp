#include "daemon/admin/views_render.h"

#include "common/clock.h"

namespace cb::admin {

namespace {

Json iso_or_null(const std::optional<std::int64_t>& ms) {
  return ms ? Json(iso8601(*ms)) : Json(nullptr);
}

Json text_or_null(const std::string& s) { return s.empty() ? Json(nullptr) : Json(s); }

// Stored JSON as it was stored (a corrupt value stays a discarded value, as before).
Json stored(const std::string& json) { return Json::parse(json, nullptr, false); }

Json seat(const bridge::SeatView& s) {
  const bool known = s.status.has_value();
  return Json{{"status", known ? *s.status : "unknown"},
              {"last_heartbeat", known ? iso_or_null(s.heartbeat_ms) : Json(nullptr)},
              {"connected", s.connected},
              {"waiting", s.waiting}};
}

Json members(const std::vector<bridge::MemberView>& list) {
  Json out = Json::array();
  for (const auto& m : list) {
    out.push_back(Json{{"agent", m.agent},
                       {"read_up_to", m.read_up_to},
                       {"unread", m.unread},
                       {"connected", m.connected}});
  }
  return out;
}

// What the list and the detail both say of a conversation; a conversation of agents has members
// instead of the two seats.
Json summary(const bridge::ConversationSummary& c) {
  Json j{{"conversation_id", c.conversation_id},
         {"kind", c.kind},
         {"role_a", c.role_a},
         {"role_b", c.role_b},
         {"created_at", iso8601(c.created_ms)},
         {"expires_at", iso8601(c.expires_ms)},
         {"active", c.active},
         {"exec_mode", c.exec_mode}};
  if (c.kind == "agents") j["members"] = members(c.members);
  return j;
}

}  // namespace

Json render(const bridge::OperatorAgentList& list) {
  Json out = Json::array();
  for (const auto& a : list.agents) {
    out.push_back(
        Json{{"name", a.name},
             {"project", a.project},
             {"client", text_or_null(a.client)},
             {"presence", a.waiting     ? "waiting"
                          : a.connected ? "connected"
                                        : "offline"},
             {"status", text_or_null(a.status)},
             {"note", a.note},
             {"unread", a.unread},
             {"last_seen", a.last_seen_ms ? Json(iso8601(a.last_seen_ms)) : Json(nullptr)}});
  }
  return Json{{"agents", std::move(out)}};
}

Json render(const bridge::ConversationList& list) {
  Json out = Json::array();
  for (const auto& c : list.conversations) {
    Json j = summary(c);
    j["messages"] = c.messages;
    j["unread_a"] = c.unread_a;
    j["unread_b"] = c.unread_b;
    j["connected"] = c.connected;
    out.push_back(std::move(j));
  }
  return Json{{"conversations", std::move(out)}};
}

Json render(const bridge::ConversationDetail& d) {
  Json messages = Json::array();
  for (const auto& m : d.messages) {
    messages.push_back(Json{{"id", m.id},
                            {"from", m.from},
                            {"to", m.to},
                            {"message", m.body},
                            {"action_type", m.action_type},
                            {"files_involved", stored(m.files_json)},
                            {"redactions", stored(m.redactions_json)},
                            {"timestamp", iso8601(m.created_ms)},
                            {"read", m.read_ms.has_value()},
                            {"read_at", iso_or_null(m.read_ms)},
                            {"reply_to", m.reply_to ? Json(*m.reply_to) : Json(nullptr)}});
  }
  Json out = summary(d.summary);
  out["statuses"] = Json{{"a", seat(d.seat_a)}, {"b", seat(d.seat_b)}};
  out["messages"] = std::move(messages);
  return out;
}

Json render(const bridge::SeatTokens& t) {
  return Json{{"conversation_id", t.conversation_id},
              {"session_a_token", t.session_a_token},
              {"session_b_token", t.session_b_token}};
}

Json render(const bridge::AuditPage& page) {
  Json entries = Json::array();
  for (const auto& r : page.entries) {
    entries.push_back(Json{{"id", r.id},
                           {"timestamp", iso8601(r.ts_ms)},
                           {"conversation_id", text_or_null(r.conversation_id)},
                           {"session_id", text_or_null(r.session_id)},
                           {"action", r.action},
                           {"outcome", r.outcome},
                           {"details", stored(r.details_json)}});
  }
  return Json{{"entries", std::move(entries)}};
}

Json render(const bridge::CleanupReport& report) {
  return Json{{"removed", report.removed}, {"count", report.removed.size()}};
}

Json render(const bridge::BridgeStats& s) {
  Json refusals = Json::object();
  for (const auto& [code, n] : s.refusals) refusals[code] = n;
  return Json{{"conversations", s.conversations},
              {"messages", s.messages},
              {"bound_connections", s.bound_connections},
              {"waiters", s.waiters},
              {"empty_polls", s.empty_polls},
              {"refusals", std::move(refusals)}};
}

Json render(const bridge::PendingApprovals& pending) {
  Json list = Json::array();
  for (const auto& a : pending.approvals) {
    list.push_back(Json{{"id", a.id},
                        {"conversation_id", a.conversation_id},
                        {"session_id", a.session_id},
                        {"role", a.role},
                        {"argv", a.argv},
                        {"command", a.command},
                        {"workspace", a.workspace},
                        {"mode", a.mode},
                        {"sandbox", true},
                        {"allow_network", a.allow_network},
                        {"timeout_seconds", a.timeout_seconds},
                        {"client_confirmation", a.client_confirmation},
                        {"created_at", iso8601(a.created_ms)},
                        {"expires_at", iso8601(a.expires_ms)}});
  }
  return Json{{"approvals", std::move(list)}};
}

Json render(const bridge::ApprovalDecision& d) {
  return Json{{"id", d.id},
              {"decision", d.approved ? "approved" : "denied"},
              {"conversation_id", d.conversation_id},
              {"session_id", d.session_id},
              {"command", d.command}};
}

}  // namespace cb::admin
