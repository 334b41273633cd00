// Conversations of named agents (issue 23): sending by name or conversation id, groups made by
// create_conversation, and a token seat joined once by an agent.
#include <algorithm>

#include "common/utf8.h"
#include "daemon/bridge/agent_mail.h"
#include "daemon/crypto/crypto.h"

namespace cb::bridge {
namespace {

constexpr std::size_t kMaxOthers = 49;  // a conversation has at most 50 members
constexpr std::int64_t kExpiryStepMs = 60'000;
// Names' conversations remembered (AgentMail::by_key_) before the memory starts over.
constexpr std::size_t kKnownConversations = 4096;

// Thrown inside a send's transaction when the conversation its names had is no longer theirs:
// nothing was stored, and send_message sends again after a fresh lookup.
struct ConversationMoved {};

std::string joined(const std::vector<std::string>& names, const char* sep) {
  std::string out;
  for (const auto& n : names) {
    if (!out.empty()) out += sep;
    out += n;
  }
  return out;
}

Status not_bound_error(const char* tool) {
  return Status::error("not_bound",
                       std::string(tool) +
                           " needs a named agent and this connection has none: run the client "
                           "through claude-bridge-shim (it names the session), or use the token "
                           "tools (create_conversation without members, send_to_partner)");
}

Json created_event(const std::string& id, const std::vector<std::string>& members,
                   std::int64_t now) {
  return Json{{"event", "conversation_created"},
              {"conversation_id", id},
              {"members", members},
              {"timestamp", iso8601(now)}};
}

}  // namespace

Status AgentMail::unknown_agent(const std::string& name, const char* action) {
  const std::vector<std::string> live = agents_.live_names();
  const std::string online = live.empty() ? "no agent is online" : "online: " + joined(live, ", ");
  if (!Agents::valid_name(name)) {
    return Status::error("invalid_agent_name",
                         "\"" + name.substr(0, 40) +
                             "\" is not an agent name (lower-case letters, digits, _ and -, "
                             "starting with a letter, at most 32); " +
                             online + " — call list_agents");
  }
  return ctx_.refuse("", name, action,
                     Status::error("unknown_agent", "There is no agent named " + name + " (" +
                                                        online + ") — call list_agents for every "
                                                                 "name"));
}

Result<std::vector<std::string>> AgentMail::other_members(const std::string& me,
                                                        std::vector<std::string> names,
                                                        const char* field, const char* action) {
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  if (names.empty()) {
    return Status::error("invalid_params",
                         std::string(field) + " is empty: name at least one other agent");
  }
  if (names.size() > kMaxOthers) {
    return Status::error("too_many_recipients",
                         "A conversation has at most 50 members: name at most 49 agents");
  }
  const store::AgentRow* self = agents_.find(me);
  for (const auto& name : names) {
    if (name == me) {
      return Status::error("invalid_params",
                           "You are " + me + ": name the other agents only (list_agents)");
    }
    const store::AgentRow* row = agents_.find(name);
    if (!row) return unknown_agent(name, action);
    if (ctx_.settings.accept_from_project_only && self && row->project != self->project) {
      return ctx_.refuse("", me, action,
                         Status::error("other_project",
                                       "Agent " + name +
                                           " works in another project, and this bridge only lets "
                                           "agents of the same project start a conversation "
                                           "([agents] accept_from = \"project\")"),
                         Json{{"to", name}});
    }
  }
  return names;
}

std::vector<std::string> AgentMail::members_but(const std::string& conv, const std::string& agent) {
  std::vector<std::string> out;
  for (auto& m : ctx_.members.of_conversation(conv)) {
    if (m.agent != agent && m.seat.empty()) out.push_back(std::move(m.agent));
  }
  return out;
}

Result<Authed> AgentMail::seat_of(const Caller& caller, const std::string& conversation_id,
                                const char* action) {
  if (caller.agent.empty()) {
    return ctx_.refuse(conversation_id, "", action,
                       Status::error("missing_credentials",
                                     "session_id and token are required on a connection without a "
                                     "named agent: pass the ones create_conversation returned"));
  }
  auto conv = ctx_.conversations.find(conversation_id);
  auto member = conv ? ctx_.members.find(caller.agent, conversation_id) : std::nullopt;
  if (conv && conv->kind == "agents") {
    return ctx_.refuse(conversation_id, caller.agent, action,
                       Status::error("not_a_token_conversation",
                                     conversation_id +
                                         " is a conversation of agents, without seats: use "
                                         "send_message and check_messages with its id, and "
                                         "list_agents for its members' status"));
  }
  if (!conv || !member || member->seat.empty()) {
    return ctx_.refuse(conversation_id, caller.agent, action,
                       Status::error("not_joined",
                                     "Agent " + caller.agent + " holds no seat of " +
                                         conversation_id +
                                         ": pass its session_id and token once (or call "
                                         "join_conversation), then the id alone is enough"));
  }
  if (ctx_.clock.now_ms() >= conv->expires_ms) {
    return ctx_.refuse(conv->id, member->seat, action,
                       Status::error("expired", "Conversation " + conv->id + " expired at " +
                                                    iso8601(conv->expires_ms) +
                                                    "; start a new one with send_message"));
  }
  agents_.seen(caller.agent);
  return auth_.seat(caller, std::move(*conv), member->seat);
}

std::vector<SessionKey> AgentMail::seats_of(const std::string& agent) {
  std::vector<SessionKey> out;
  for (auto& m : ctx_.members.seats_of(agent)) {
    out.push_back(SessionKey{std::move(m.conversation_id), std::move(m.seat)});
  }
  return out;
}

Result<AgentList> AgentMail::list_agents(const Caller& caller, bool project_only) {
  const char* action = "list_agents";
  if (caller.agent.empty()) return ctx_.refuse("", "", action, not_bound_error(action));
  agents_.seen(caller.agent);
  if (Status s = auth_.read_budget(inbox_key(caller.agent), action); !s.ok()) return s;
  return agents_.list(caller.agent, project_only);
}

Result<AgentStatusUpdate> AgentMail::update_agent_status(const Caller& caller,
                                                       const std::string& status,
                                                       const std::string& note) {
  const char* action = "update_my_status";
  if (caller.agent.empty()) return ctx_.refuse("", "", action, not_bound_error(action));
  agents_.seen(caller.agent);
  if (Status s = auth_.read_budget(inbox_key(caller.agent), action); !s.ok()) return s;
  return agents_.set_status(caller.agent, status, note);
}

Result<MessageReceipt> AgentMail::send_message(const Caller& caller, const Recipients& to,
                                             const std::string& message,
                                             const std::string& action_type,
                                             const std::vector<std::string>& files,
                                             std::optional<std::int64_t> reply_to) {
  try {
    try {
      return send_once(caller, to, message, action_type, files, reply_to);
    } catch (const ConversationMoved&) {
      // The names' conversation remembered here was ended, removed or replaced meanwhile:
      // forgotten, it is looked up again.
      return send_once(caller, to, message, action_type, files, reply_to);
    }
  } catch (const std::exception& e) {
    // Two daemons of a team made these names' conversation at the same moment and the other
    // one's committed first: this call wrote nothing, and sent again it finds that one.
    if (!store::lost_race(e)) throw;
    return send_once(caller, to, message, action_type, files, reply_to);
  }
}

void AgentMail::remember(const std::string& member_key, const std::string& id,
                         std::int64_t expires_ms) {
  if (by_key_.size() >= kKnownConversations && by_key_.count(member_key) == 0) by_key_.clear();
  by_key_[member_key] = KnownConversation{id, expires_ms};
}

Result<MessageReceipt> AgentMail::send_once(const Caller& caller, const Recipients& to,
                                          const std::string& message,
                                          const std::string& action_type,
                                          const std::vector<std::string>& files,
                                          std::optional<std::int64_t> reply_to) {
  const char* action = "send_message";
  const std::string& me = caller.agent;
  if (me.empty()) return ctx_.refuse("", "", action, not_bound_error(action));
  agents_.seen(me);
  const std::int64_t now = ctx_.clock.now_ms();
  std::string conv_id;
  std::string member_key;
  std::string names_key;  // addressed by names: their member key
  std::string known_key;  // remembered: the insert checks the conversation is still theirs
  std::vector<std::string> others;
  std::int64_t stored_expiry = 0;
  if (!to.conversation_id.empty()) {
    auto conv = ctx_.conversations.find(to.conversation_id);
    if (!conv) {
      return ctx_.refuse(to.conversation_id, me, action,
                         Status::error("unknown_conversation",
                                       "Unknown conversation " + to.conversation_id +
                                           ": address agents by name instead (to: \"name\" or "
                                           "[\"a\", \"b\"]), or check the id"));
    }
    if (conv->kind == "token") {
      // A seat the agent joined: the original send, to the partner seat.
      auto seat = seat_of(caller, conv->id, action);
      if (!seat) return std::move(seat).status();
      auto sent = box_.send_as(*seat, message, action_type, files, reply_to, action);
      if (!sent) return std::move(sent).status();
      MessageReceipt out;
      out.message_id = sent->message_id;
      out.conversation_id = sent->conversation_id;
      const auto holder = ctx_.members.seat_holder(conv->id, seat->partner.session);
      out.to = {holder ? *holder : sent->to_role};
      out.redactions = std::move(sent->redactions);
      out.created_ms = sent->created_ms;
      out.ticket = sent->ticket;
      return out;
    }
    if (!ctx_.members.find(me, conv->id)) {
      return ctx_.refuse(conv->id, me, action,
                         Status::error("not_member", "Agent " + me + " is not a member of " +
                                                         conv->id +
                                                         ": only members read or write it"));
    }
    if (now >= conv->expires_ms) {
      return ctx_.refuse(conv->id, me, action,
                         Status::error("expired",
                                       "Conversation " + conv->id + " expired at " +
                                           iso8601(conv->expires_ms) +
                                           "; address its members by name to start a new one"));
    }
    conv_id = conv->id;
    stored_expiry = conv->expires_ms;
    others = members_but(conv_id, me);
  } else {
    auto named = other_members(me, to.names, "to", action);
    if (!named) return std::move(named).status();
    others = std::move(*named);
    std::vector<std::string> all = others;
    all.push_back(me);
    std::sort(all.begin(), all.end());
    member_key = joined(all, ",");
    names_key = member_key;
    if (auto known = by_key_.find(member_key);
        known != by_key_.end() && now < known->second.expires_ms) {
      conv_id = known->second.id;
      stored_expiry = known->second.expires_ms;
      known_key = std::move(member_key);
      member_key.clear();  // exists, as far as this daemon knows
    } else if (auto conv = ctx_.conversations.by_members(member_key)) {
      if (now < conv->expires_ms) {
        conv_id = conv->id;
        stored_expiry = conv->expires_ms;
        member_key.clear();  // exists
      }
    }
  }
  if (Status s = box_.check_length(conv_id, me, message, action); !s.ok()) return s;
  if (!conv_id.empty()) {
    Authed budget;
    budget.self = SessionKey{conv_id, me};
    if (Status s = auth_.send_budget(budget, action); !s.ok()) return s;
  }
  if (reply_to) {
    const auto where = ctx_.inboxes.conversation_of(*reply_to);
    if (!where || conv_id.empty() || *where != conv_id) {
      return Status::error("invalid_reply_to",
                           "reply_to " + std::to_string(*reply_to) +
                               " is not a message of this conversation: use the id of a message "
                               "you received from these agents, or leave reply_to out");
    }
  }

  MessageReceipt receipt;
  store::MessageRow row;
  const Json redactions = box_.redact_into(row, message, files, receipt.redactions);
  row.sender = me;
  row.recipient = "*";
  row.action_type = action_type;
  row.reply_to = reply_to;
  row.created_ms = now;
  const bool create = conv_id.empty();
  std::vector<Presence::Waiter*> takers;
  std::set<std::string> took;  // members whose wait took the message
  // The message's id: known at once, or on a team's store when the group commits (then 0 says
  // nothing was stored: the conversation was ended, removed or replaced meanwhile).
  auto stored = std::make_shared<std::optional<std::int64_t>>();
  {
    store::WriteTransaction tx(ctx_.db);
    if (create) {
      // The names' conversation: new, or the expired one's key moves to a new one.
      if (auto old = ctx_.conversations.by_members(member_key)) {
        ctx_.conversations.retire_member_key(old->id);
      }
      store::ConversationRow conv;
      conv.id = "conv_" + crypto::hex(crypto::random_bytes(8));
      conv.kind = "agents";
      conv.member_key = member_key;
      conv.created_ms = now;
      conv.expires_ms = now + ctx_.settings.ttl_seconds * 1000;
      ctx_.conversations.insert(conv);
      for (const auto& name : others) ctx_.members.insert({name, conv.id, "", 0, now});
      ctx_.members.insert({me, conv.id, "", 0, now});
      conv_id = conv.id;
      stored_expiry = conv.expires_ms;
      ctx_.audit.record(conv_id, me, "create_conversation", "ok",
                        Json{{"members", others}, {"by", "send_message"}});
    }
    row.conversation_id = conv_id;
    ctx_.messages.insert_at_commit(row, known_key, now,
                                   [stored](std::int64_t id) { *stored = id; });
    if (stored->has_value() && **stored == 0) {
      by_key_.erase(known_key);
      throw ConversationMoved{};  // the transaction rolls back what little it holds
    }
    // Sliding expiry: an agents' conversation lives ttl_seconds after its last message, to the
    // minute — the row is rewritten only when the expiry moved by a minute or more, so a burst
    // of messages does not rewrite it (and its index) with every one.
    const std::int64_t expiry = now + ctx_.settings.ttl_seconds * 1000;
    const bool slide = !create && expiry - stored_expiry >= kExpiryStepMs;
    if (slide) stored_expiry = expiry;
    // With the id: the expiry and the audit entry, only for a message stored.
    ctx_.db.at_commit([this, stored, conv_id, me, action, slide, expiry, known_key,
                       details = Json{{"to", others},
                                      {"chars", code_points(message)},
                                      {"action_type", action_type},
                                      {"files", files.size()},
                                      {"redactions", redactions}}]() mutable {
      const std::int64_t id = stored->value_or(0);
      if (id == 0) {
        if (!known_key.empty()) by_key_.erase(known_key);
        return;
      }
      if (slide) ctx_.conversations.set_expiry(conv_id, expiry);
      details["message_id"] = id;
      ctx_.audit.record(conv_id, me, action, "ok", details);
    });
    // Members blocked in a wait take the message in this transaction (see send_as); a message
    // held for the commit is written first, so that their reads find it.
    struct HandOffs {
      std::vector<Presence::Waiter*>& w;
      ~HandOffs() {
        for (auto* x : w) x->took = false;
      }
    } guard{takers};
    if (!stored->has_value() &&
        std::any_of(others.begin(), others.end(),
                    [&](const std::string& m) { return ctx_.presence.waiting(inbox_key(m)); })) {
      ctx_.db.write_held_now();
    }
    for (const auto& name : others) {
      if (auto* w = ctx_.presence.hand_off(inbox_key(name))) takers.push_back(w);
    }
    if (stored->has_value() && **stored == 0) {  // written for them, and refused
      by_key_.erase(known_key);
      throw ConversationMoved{};  // the takers' marks roll back with the call
    }
    receipt.ticket = tx.commit();
    for (auto* w : takers) {
      w->handed = receipt.ticket;
      took.insert(w->key.session);
    }
    if (!takers.empty()) receipt.ticket.behind_queued = true;
    takers.clear();  // they stand: the guard resets nothing
  }
  if (!names_key.empty()) remember(names_key, conv_id, stored_expiry);
  if (create && ctx_.events.watched()) {
    std::vector<std::string> members = others;
    members.insert(members.begin(), me);
    ctx_.events.emit(created_event(conv_id, members, now));
  }
  if (stored->has_value()) {
    row.id = **stored;
    deliver_to_members(row, others, took);
    receipt.message_id = row.id;
  } else {
    ctx_.db.after_commit([this, row, others, stored]() mutable {
      row.id = stored->value_or(0);
      if (row.id != 0) deliver_to_members(row, others, {});
    });
    receipt.stored_id = stored;
  }
  receipt.conversation_id = conv_id;
  receipt.to = std::move(others);
  receipt.created_ms = now;
  return receipt;
}

Result<CreatedGroup> AgentMail::create_group(const Caller& caller,
                                           const std::vector<std::string>& names) {
  const char* action = "create_conversation";
  const std::string& me = caller.agent;
  if (me.empty()) return ctx_.refuse("", "", action, not_bound_error("create_conversation with members"));
  agents_.seen(me);
  std::vector<std::string> names_but_me = names;
  names_but_me.erase(std::remove(names_but_me.begin(), names_but_me.end(), me),
                     names_but_me.end());
  auto named = other_members(me, names_but_me, "members", action);
  if (!named) return std::move(named).status();
  const std::vector<std::string> others = std::move(*named);
  const std::int64_t now = ctx_.clock.now_ms();
  CreatedGroup out;
  out.conversation_id = "conv_" + crypto::hex(crypto::random_bytes(8));
  out.members = others;
  out.members.insert(out.members.begin(), me);
  out.created_ms = now;
  out.expires_ms = now + ctx_.settings.ttl_seconds * 1000;
  {
    store::WriteTransaction tx(ctx_.db);
    store::ConversationRow conv;
    conv.id = out.conversation_id;
    conv.kind = "agents";
    conv.created_ms = now;
    conv.expires_ms = out.expires_ms;
    ctx_.conversations.insert(conv);
    for (const auto& name : out.members) ctx_.members.insert({name, conv.id, "", 0, now});
    ctx_.audit.record(conv.id, me, action, "ok", Json{{"members", others}});
    out.ticket = tx.commit();
  }
  if (ctx_.events.watched()) ctx_.events.emit(created_event(out.conversation_id, out.members, now));
  return out;
}

Result<JoinedSeat> AgentMail::join(const Caller& caller, const Credentials& cred) {
  const char* action = "join_conversation";
  const std::string& me = caller.agent;
  if (me.empty()) return ctx_.refuse(cred.conversation_id, "", action, not_bound_error(action));
  auto auth = auth_.authenticate(caller, cred, action);
  if (!auth) return std::move(auth).status();
  const Authed& a = *auth;
  agents_.seen(me);
  if (auto holder = ctx_.members.seat_holder(a.self.conversation_id, a.self.session);
      holder && *holder != me) {
    return ctx_.refuse(a.self.conversation_id, a.self.session, action,
                       Status::error("seat_taken", "Seat " + a.self.session + " of " +
                                                       a.self.conversation_id +
                                                       " was joined by agent " + *holder +
                                                       " already; one agent holds a seat"));
  }
  if (auto mine = ctx_.members.find(me, a.self.conversation_id);
      mine && mine->seat != a.self.session) {
    return ctx_.refuse(a.self.conversation_id, a.self.session, action,
                       Status::error("seat_taken", "Agent " + me + " holds seat " + mine->seat +
                                                       " of " + a.self.conversation_id +
                                                       " already; the other seat is its partner's"));
  }
  JoinedSeat out;
  {
    store::WriteTransaction tx(ctx_.db);
    ctx_.members.insert({me, a.self.conversation_id, a.self.session, 0, ctx_.clock.now_ms()});
    ctx_.audit.record(a.self.conversation_id, a.self.session, action, "ok", Json{{"agent", me}});
    out.ticket = tx.commit();
  }
  // Mail to the seat now reaches the agent's connections too.
  ctx_.presence.bind(caller.connection_id, a.self);
  out.conversation_id = a.self.conversation_id;
  out.session_id = a.self.session;
  out.agent = me;
  out.role = a.role;
  out.partner_role = a.partner_role;
  return out;
}

void AgentMail::announce(const store::MessageRow& row) {
  std::vector<std::string> members = members_but(row.conversation_id, row.sender);
  deliver_to_members(row, members, {});
}

void AgentMail::announce(std::int64_t message_id, const std::string& conversation_id,
                         const std::string& sender, const std::vector<std::string>& members) {
  std::vector<std::string> others;
  std::set<std::string> took;
  for (const auto& m : members) {
    if (m == sender) continue;
    others.push_back(m);
    if (ctx_.presence.waiting(inbox_key(m))) took.insert(m);
  }
  if (ctx_.events.watched()) {
    if (auto row = ctx_.messages.find(message_id)) deliver_to_members(*row, others, took);
    return;
  }
  store::MessageRow row;
  row.id = message_id;
  row.conversation_id = conversation_id;
  row.sender = sender;
  row.recipient = "*";
  deliver_to_members(row, others, took, false);
}

void AgentMail::deliver_to_members(const store::MessageRow& row,
                                   const std::vector<std::string>& members,
                                   const std::set<std::string>& took, bool event) {
  ctx_.db.after_commit([this, row, members, took, event] {
    for (const auto& m : members) ctx_.presence.wake(inbox_key(m));
    if (event && ctx_.events.watched()) {
      ctx_.events.emit(Json{{"event", "message"},
                            {"conversation_id", row.conversation_id},
                            {"id", row.id},
                            {"from", row.sender},
                            {"to", members},
                            {"action_type", row.action_type},
                            {"reply_to", row.reply_to ? Json(*row.reply_to) : Json(nullptr)},
                            {"message", row.body},
                            {"timestamp", iso8601(row.created_ms)}});
    }
    if (!box_.notifier_) return;
    for (const auto& m : members) {
      if (took.count(m) != 0) continue;
      auto conns = ctx_.presence.to_tell(inbox_key(m));
      if (conns.empty()) continue;
      MailNotice notice;
      notice.conversation_id = row.conversation_id;
      notice.from = row.sender;
      notice.system = row.sender == "system";
      notice.message_id = row.id;
      // The count can wait: a team's store counts for every notice of the turn in one round
      // trip. A connection gone meanwhile is skipped by the notifier.
      ctx_.inboxes.agent_unread_soon(
          m, [this, notice, conns = std::move(conns)](std::int64_t unread) mutable {
            notice.unread = unread;
            if (!box_.notifier_) return;
            for (auto conn : conns) box_.notifier_->mail_waiting(conn, notice);
          });
    }
  });
}

}  // namespace cb::bridge
