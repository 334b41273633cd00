// What the operator sees and does through ctl.sock (never reachable from mcp.sock).
#include "daemon/bridge/operator_views.h"

#include <algorithm>
#include <map>
#include <optional>

namespace cb::bridge {

namespace {

ConversationSummary summary_of(const store::ConversationRow& c, std::int64_t now) {
  ConversationSummary s;
  s.conversation_id = c.id;
  s.role_a = c.role_a;
  s.role_b = c.role_b;
  s.created_ms = c.created_ms;
  s.expires_ms = c.expires_ms;
  s.active = now < c.expires_ms;
  s.exec_mode = c.exec_mode;
  s.kind = c.kind;
  return s;
}

}  // namespace

std::vector<MemberView> OperatorViews::members_of(const std::string& conversation_id) {
  std::vector<MemberView> out;
  for (auto& m : ctx_.members.of_conversation(conversation_id)) {
    MemberView v;
    v.unread = ctx_.inboxes.member_unread(conversation_id, m.agent);
    v.connected = agents_.live(m.agent);
    v.agent = std::move(m.agent);
    v.read_up_to = m.read_up_to;
    out.push_back(std::move(v));
  }
  return out;
}

OperatorAgentList OperatorViews::list_agents() {
  OperatorAgentList out;
  // Bridge's list without a caller: every agent, with presence and the last call of live ones.
  for (auto& v : agents_.list("", false).agents) {
    OperatorAgent a;
    a.unread = ctx_.inboxes.agent_unread(v.name);
    a.name = std::move(v.name);
    a.project = std::move(v.project);
    a.client = std::move(v.client);
    a.status = std::move(v.status);
    a.note = std::move(v.note);
    a.connected = v.connected;
    a.waiting = v.waiting;
    a.last_seen_ms = v.last_seen_ms;
    out.agents.push_back(std::move(a));
  }
  std::sort(out.agents.begin(), out.agents.end(),
            [](const OperatorAgent& x, const OperatorAgent& y) { return x.name < y.name; });
  return out;
}

ConversationList OperatorViews::list_conversations() {
  const std::int64_t now = ctx_.clock.now_ms();
  ConversationList out;
  for (const auto& s : ctx_.conversations.list()) {
    ConversationSummary c = summary_of(s.row, now);
    c.messages = s.messages;
    c.unread_a = s.unread_a;
    c.unread_b = s.unread_b;
    if (s.row.kind == "agents") {
      c.members = members_of(s.row.id);
      for (const auto& m : c.members) {
        if (m.connected) c.connected.push_back(m.agent);
      }
    } else {
      for (const char* who : {"a", "b"}) {
        if (ctx_.presence.connected(SessionKey{s.row.id, who})) c.connected.push_back(who);
      }
    }
    out.conversations.push_back(std::move(c));
  }
  return out;
}

Result<ConversationDetail> OperatorViews::show_conversation(const std::string& id) {
  auto c = ctx_.conversations.find(id);
  if (!c) {
    return Status::error("unknown_conversation",
                         "no conversation " + id + " — see: claude-bridgectl list");
  }
  ConversationDetail out;
  out.summary = summary_of(*c, ctx_.clock.now_ms());
  if (c->kind == "agents") out.summary.members = members_of(id);
  for (const char* who : {"a", "b"}) {
    SeatView& seat = std::string(who) == "a" ? out.seat_a : out.seat_b;
    if (auto st = ctx_.statuses.find(id, who)) {
      seat.status = st->status;
      seat.heartbeat_ms = st->heartbeat_ms;
    }
    seat.connected = ctx_.presence.connected(SessionKey{id, who});
    seat.waiting = ctx_.presence.waiting(SessionKey{id, who});
  }
  for (auto& m : ctx_.messages.all(id)) {
    out.messages.push_back(StoredMessage{m.id, std::move(m.sender), std::move(m.recipient),
                                         std::move(m.body), std::move(m.action_type),
                                         std::move(m.files_json), std::move(m.redactions_json),
                                         m.created_ms, m.read_ms, m.reply_to});
  }
  return out;
}

Result<SeatTokens> OperatorViews::tokens(const std::string& id, const std::string& who) {
  auto c = ctx_.conversations.find(id);
  if (!c) {
    return Status::error("unknown_conversation",
                         "no conversation " + id + " — see: claude-bridgectl list");
  }
  if (c->kind == "agents") {
    return Status::error("agents_conversation",
                         "conversation " + id +
                             " is a conversation of agents; it has no tokens — see: "
                             "claude-bridgectl show " +
                             id);
  }
  ctx_.audit.record(id, "", "admin_tokens", "ok", Json{{"by", who}});
  return SeatTokens{id, auth_.derive_token(id, "a", c->nonce),
                    auth_.derive_token(id, "b", c->nonce)};
}

AuditPage OperatorViews::audit_entries(const std::string& conversation_id, std::int64_t limit) {
  store::AuditTable& table = ctx_.db.audit_table();
  AuditPage out;
  for (auto& r : table.newest(conversation_id, limit)) {
    out.entries.push_back(AuditEntry{r.id, r.ts_ms, std::move(r.conversation_id),
                                     std::move(r.session_id), std::move(r.action),
                                     std::move(r.outcome), std::move(r.details_json)});
  }
  return out;
}

CleanupReport OperatorViews::cleanup(std::optional<std::int64_t> before_ms) {
  const std::int64_t cutoff = before_ms.value_or(ctx_.clock.now_ms());
  CleanupReport out;
  store::WriteTransaction tx(ctx_.db);
  for (const auto& id : ctx_.conversations.expired_before(cutoff)) {
    if (ctx_.conversations.remove(id)) out.removed.push_back(id);
  }
  if (!out.removed.empty()) {
    ctx_.audit.record("", "", "cleanup", "ok",
                      Json{{"removed", out.removed.size()}, {"automatic", before_ms.has_value()}});
  }
  tx.commit();
  return out;
}

BridgeStats OperatorViews::stats() {
  BridgeStats out;
  out.conversations = ctx_.conversations.count();
  out.messages = ctx_.messages.count();
  out.bound_connections = static_cast<std::int64_t>(ctx_.presence.connections());
  out.waiters = static_cast<std::int64_t>(ctx_.presence.waiters());
  out.empty_polls = mailbox_.empty_polls();
  out.refusals = ctx_.refusals;
  return out;
}

TalkGraph OperatorViews::talk(std::int64_t window_ms) {
  const std::int64_t since_ms = ctx_.clock.now_ms() - window_ms;
  std::map<std::pair<std::string, std::string>, std::int64_t> counts;
  std::map<std::string, std::optional<store::ConversationRow>> convs;
  std::map<std::string, std::vector<std::string>> members;
  // A token seat's name: the agent that joined it, else its role (what its messages call it).
  auto seat_name = [&](const std::string& conv, const std::string& seat) -> std::string {
    if (seat != "a" && seat != "b") return seat;  // "system"
    if (auto holder = ctx_.members.seat_holder(conv, seat)) return *holder;
    auto it = convs.find(conv);
    if (it == convs.end()) it = convs.emplace(conv, ctx_.conversations.find(conv)).first;
    if (!it->second) return seat;
    return seat == "a" ? it->second->role_a : it->second->role_b;
  };
  for (const auto& c : ctx_.inboxes.senders_since(since_ms)) {
    if (c.recipient == "*") {
      auto it = members.find(c.conversation_id);
      if (it == members.end()) {
        std::vector<std::string> names;
        for (auto& m : ctx_.members.of_conversation(c.conversation_id)) {
          if (m.seat.empty()) names.push_back(std::move(m.agent));
        }
        it = members.emplace(c.conversation_id, std::move(names)).first;
      }
      for (const auto& m : it->second) {
        if (m != c.sender) counts[{c.sender, m}] += c.messages;
      }
    } else {
      counts[{seat_name(c.conversation_id, c.sender), seat_name(c.conversation_id, c.recipient)}] +=
          c.messages;
    }
  }
  TalkGraph out;
  out.since_ms = since_ms;
  for (auto& [pair, n] : counts) out.pairs.push_back(TalkPair{pair.first, pair.second, n});
  return out;
}

void OperatorViews::audit_admin(const std::string& action, const std::string& conversation_id,
                                const std::string& outcome, const Json& details) {
  ctx_.audit.record(conversation_id, "", action, outcome, details);
}

}  // namespace cb::bridge
