// What the operator sees and does through ctl.sock (never reachable from mcp.sock).
#include "daemon/bridge/bridge.h"

namespace cb::bridge {

Json Bridge::list_conversations() {
  const std::int64_t now = clock_.now_ms();
  Json out = Json::array();
  for (const auto& s : conversations_.list()) {
    const auto& c = s.row;
    Json connected = Json::array();
    for (const char* who : {"a", "b"}) {
      if (presence_.connected(SessionKey{c.id, who})) connected.push_back(who);
    }
    out.push_back(Json{{"conversation_id", c.id},
                       {"role_a", c.role_a},
                       {"role_b", c.role_b},
                       {"created_at", iso8601(c.created_ms)},
                       {"expires_at", iso8601(c.expires_ms)},
                       {"active", now < c.expires_ms},
                       {"messages", s.messages},
                       {"unread_a", s.unread_a},
                       {"unread_b", s.unread_b},
                       {"connected", connected},
                       {"exec_mode", c.exec_mode}});
  }
  return Json{{"conversations", std::move(out)}};
}

Result Bridge::show_conversation(const std::string& id) {
  auto c = conversations_.find(id);
  if (!c) {
    return Refusal{"unknown_conversation", "no conversation " + id + " — see: claude-bridgectl list",
                   std::nullopt};
  }
  const std::int64_t now = clock_.now_ms();
  Json statuses = Json::object();
  for (const char* who : {"a", "b"}) {
    auto st = statuses_.find(id, who);
    statuses[who] = Json{{"status", st ? st->status : "unknown"},
                         {"last_heartbeat", st ? Json(iso8601(st->heartbeat_ms)) : Json(nullptr)},
                         {"connected", presence_.connected(SessionKey{id, who})},
                         {"waiting", presence_.waiting(SessionKey{id, who})}};
  }
  Json messages = Json::array();
  for (const auto& m : messages_.all(id)) {
    messages.push_back(Json{{"id", m.id},
                            {"from", m.sender},
                            {"to", m.recipient},
                            {"message", m.body},
                            {"action_type", m.action_type},
                            {"files_involved", Json::parse(m.files_json, nullptr, false)},
                            {"redactions", Json::parse(m.redactions_json, nullptr, false)},
                            {"timestamp", iso8601(m.created_ms)},
                            {"read", m.read_ms.has_value()},
                            {"read_at", m.read_ms ? Json(iso8601(*m.read_ms)) : Json(nullptr)}});
  }
  return Json{{"conversation_id", c->id},
              {"role_a", c->role_a},
              {"role_b", c->role_b},
              {"created_at", iso8601(c->created_ms)},
              {"expires_at", iso8601(c->expires_ms)},
              {"active", now < c->expires_ms},
              {"exec_mode", c->exec_mode},
              {"statuses", statuses},
              {"messages", messages}};
}

Result Bridge::tokens(const std::string& id, const std::string& who) {
  auto c = conversations_.find(id);
  if (!c) {
    return Refusal{"unknown_conversation", "no conversation " + id + " — see: claude-bridgectl list",
                   std::nullopt};
  }
  audit_.record(id, "", "admin_tokens", "ok", Json{{"by", who}});
  return Json{{"conversation_id", id},
              {"session_a_token", derive_token(id, "a", c->nonce)},
              {"session_b_token", derive_token(id, "b", c->nonce)}};
}

Json Bridge::audit_entries(const std::string& conversation_id, std::int64_t limit) {
  store::AuditTable table(db_);
  Json entries = Json::array();
  for (const auto& r : table.newest(conversation_id, limit)) {
    entries.push_back(Json{{"id", r.id},
                           {"timestamp", iso8601(r.ts_ms)},
                           {"conversation_id", r.conversation_id.empty() ? Json(nullptr)
                                                                         : Json(r.conversation_id)},
                           {"session_id", r.session_id.empty() ? Json(nullptr) : Json(r.session_id)},
                           {"action", r.action},
                           {"outcome", r.outcome},
                           {"details", Json::parse(r.details_json, nullptr, false)}});
  }
  return Json{{"entries", std::move(entries)}};
}

Json Bridge::cleanup(std::optional<std::int64_t> before_ms) {
  const std::int64_t cutoff = before_ms.value_or(clock_.now_ms());
  Json removed = Json::array();
  store::WriteTransaction tx(db_);
  for (const auto& id : conversations_.expired_before(cutoff)) {
    if (conversations_.remove(id)) removed.push_back(id);
  }
  if (!removed.empty()) {
    audit_.record("", "", "cleanup", "ok",
                  Json{{"removed", removed.size()}, {"automatic", before_ms.has_value()}});
  }
  tx.commit();
  return Json{{"removed", removed}, {"count", removed.size()}};
}

Json Bridge::stats() {
  Json refusals = Json::object();
  for (const auto& [code, n] : refusals_) refusals[code] = n;
  return Json{{"conversations", conversations_.count()},
              {"messages", messages_.count()},
              {"bound_connections", presence_.connections()},
              {"waiters", presence_.waiters()},
              {"empty_polls", empty_polls_total_},
              {"refusals", refusals}};
}

}  // namespace cb::bridge
