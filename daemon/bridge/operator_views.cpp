// What the operator sees and does through ctl.sock (never reachable from mcp.sock).
#include "daemon/bridge/operator_views.h"

namespace cb::bridge {

Json OperatorViews::list_conversations() {
  const std::int64_t now = ctx_.clock.now_ms();
  Json out = Json::array();
  for (const auto& s : ctx_.conversations.list()) {
    const auto& c = s.row;
    Json connected = Json::array();
    for (const char* who : {"a", "b"}) {
      if (ctx_.presence.connected(SessionKey{c.id, who})) connected.push_back(who);
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

Result<Json> OperatorViews::show_conversation(const std::string& id) {
  auto c = ctx_.conversations.find(id);
  if (!c) {
    return Status::error("unknown_conversation",
                         "no conversation " + id + " — see: claude-bridgectl list");
  }
  const std::int64_t now = ctx_.clock.now_ms();
  Json statuses = Json::object();
  for (const char* who : {"a", "b"}) {
    auto st = ctx_.statuses.find(id, who);
    statuses[who] = Json{{"status", st ? st->status : "unknown"},
                         {"last_heartbeat", st ? Json(iso8601(st->heartbeat_ms)) : Json(nullptr)},
                         {"connected", ctx_.presence.connected(SessionKey{id, who})},
                         {"waiting", ctx_.presence.waiting(SessionKey{id, who})}};
  }
  Json messages = Json::array();
  for (const auto& m : ctx_.messages.all(id)) {
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

Result<Json> OperatorViews::tokens(const std::string& id, const std::string& who) {
  auto c = ctx_.conversations.find(id);
  if (!c) {
    return Status::error("unknown_conversation",
                         "no conversation " + id + " — see: claude-bridgectl list");
  }
  ctx_.audit.record(id, "", "admin_tokens", "ok", Json{{"by", who}});
  return Json{{"conversation_id", id},
              {"session_a_token", auth_.derive_token(id, "a", c->nonce)},
              {"session_b_token", auth_.derive_token(id, "b", c->nonce)}};
}

Json OperatorViews::audit_entries(const std::string& conversation_id, std::int64_t limit) {
  store::AuditTable table(ctx_.db);
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

Json OperatorViews::cleanup(std::optional<std::int64_t> before_ms) {
  const std::int64_t cutoff = before_ms.value_or(ctx_.clock.now_ms());
  Json removed = Json::array();
  store::WriteTransaction tx(ctx_.db);
  for (const auto& id : ctx_.conversations.expired_before(cutoff)) {
    if (ctx_.conversations.remove(id)) removed.push_back(id);
  }
  if (!removed.empty()) {
    ctx_.audit.record("", "", "cleanup", "ok",
                  Json{{"removed", removed.size()}, {"automatic", before_ms.has_value()}});
  }
  tx.commit();
  return Json{{"removed", removed}, {"count", removed.size()}};
}

Json OperatorViews::stats() {
  Json refusals = Json::object();
  for (const auto& [code, n] : ctx_.refusals) refusals[code] = n;
  return Json{{"conversations", ctx_.conversations.count()},
              {"messages", ctx_.messages.count()},
              {"bound_connections", ctx_.presence.connections()},
              {"waiters", ctx_.presence.waiters()},
              {"empty_polls", mailbox_.empty_polls()},
              {"refusals", refusals}};
}

}  // namespace cb::bridge

namespace cb::bridge {

void OperatorViews::audit_admin(const std::string& action, const std::string& conversation_id,
                                const std::string& outcome, const Json& details) {
  ctx_.audit.record(conversation_id, "", action, outcome, details);
}

}  // namespace cb::bridge
