// The operator stepping in (issue 25): a post from "@operator" into an agents' conversation, and
// a conversation ended before its expiry. Both store messages through the same hand-off and
// delivery as an agent's send, so waiting readers take them and watchers see them.
#include "common/utf8.h"
#include "daemon/bridge/agent_mail.h"

namespace cb::bridge {
namespace {

Status unknown_conversation(const std::string& id) {
  return Status::error("unknown_conversation",
                       "no conversation " + id + " — see: claude-bridgectl list");
}

Json with(Json details, const Json& who) {
  if (who.is_object()) details.update(who);
  return details;
}

}  // namespace

void AgentMail::store_for_members(store::MessageRow& row, const std::vector<std::string>& members,
                                const std::function<void()>& also) {
  std::vector<Presence::Waiter*> takers;
  std::set<std::string> took;
  {
    store::WriteTransaction tx(ctx_.db);
    row.id = ctx_.messages.insert(row);
    also();
    // As in send_message: a member blocked in a wait takes the message in this transaction.
    struct HandOffs {
      std::vector<Presence::Waiter*>& w;
      ~HandOffs() {
        for (auto* x : w) x->took = false;
      }
    } guard{takers};
    for (const auto& name : members) {
      if (auto* w = ctx_.presence.hand_off(inbox_key(name))) takers.push_back(w);
    }
    const store::Ticket ticket = tx.commit();
    for (auto* w : takers) {
      w->handed = ticket;
      took.insert(w->key.session);
    }
    takers.clear();
  }
  deliver_to_members(row, members, took);
}

Result<OperatorPost> AgentMail::post_operator(const std::string& conversation_id,
                                            const std::string& message,
                                            const std::string& action_type, const Json& who) {
  const char* action = "operator_post";
  auto conv = ctx_.conversations.find(conversation_id);
  if (!conv) return unknown_conversation(conversation_id);
  if (conv->kind != "agents") {
    return ctx_.refuse(conv->id, kOperator, action,
                       Status::error("not_agents_conversation",
                                     conv->id +
                                         " is a two-seat conversation of tokens; the operator "
                                         "posts into conversations of named agents only"));
  }
  const std::int64_t now = ctx_.clock.now_ms();
  if (now >= conv->expires_ms) {
    return ctx_.refuse(conv->id, kOperator, action,
                       Status::error("expired", "conversation " + conv->id + " ended at " +
                                                    iso8601(conv->expires_ms) +
                                                    "; nothing more can be posted in it"));
  }
  if (Status s = box_.check_length(conv->id, kOperator, message, action); !s.ok()) return s;
  Authed budget;
  budget.self = SessionKey{conv->id, kOperator};
  if (Status s = auth_.send_budget(budget, action); !s.ok()) return s;

  OperatorPost out;
  store::MessageRow row;
  const Json redactions = box_.redact_into(row, message, {}, out.redactions);
  row.conversation_id = conv->id;
  row.sender = kOperator;
  row.recipient = "*";
  row.action_type = action_type;
  row.created_ms = now;
  const std::vector<std::string> members = members_but(conv->id, kOperator);
  const std::int64_t stored_expiry = conv->expires_ms;
  store_for_members(row, members, [&] {
    // The conversation lives on after the operator's word, as after any member's.
    const std::int64_t expiry = now + ctx_.settings.ttl_seconds * 1000;
    if (expiry > stored_expiry) ctx_.conversations.set_expiry(row.conversation_id, expiry);
    ctx_.audit.record(row.conversation_id, kOperator, action, "ok",
                      with(Json{{"message_id", row.id},
                                {"to", members},
                                {"chars", code_points(message)},
                                {"action_type", action_type},
                                {"redactions", redactions}},
                           who));
  });
  out.message_id = row.id;
  out.conversation_id = row.conversation_id;
  out.to = members;
  out.created_ms = now;
  return out;
}

Result<EndedConversation> AgentMail::end_conversation(const std::string& conversation_id,
                                                    const Json& who) {
  auto conv = ctx_.conversations.find(conversation_id);
  if (!conv) return unknown_conversation(conversation_id);
  const std::int64_t now = ctx_.clock.now_ms();
  if (now >= conv->expires_ms) {
    return Status::error("expired", "conversation " + conv->id + " ended already at " +
                                        iso8601(conv->expires_ms));
  }
  const bool agents = conv->kind == "agents";
  const std::string notice =
      "The operator ended this conversation at " + iso8601(now) +
      ": it is closed, as if it had expired, and nothing more can be sent in it" +
      (agents ? " (address the agents by name to start a new one)." : ".");
  EndedConversation out;
  out.conversation_id = conv->id;
  out.ended_ms = now;
  auto record = [&](const Json& ids) {
    // Expiry now: from here every path treats it as expired (sends refused, cleanup removes it).
    ctx_.conversations.set_expiry(conv->id, now);
    ctx_.audit.record(conv->id, "", "admin_end", "ok",
                      with(Json{{"notice_ids", ids}, {"kind", conv->kind}}, who));
  };
  if (agents) {
    store::MessageRow row;
    row.conversation_id = conv->id;
    // From the operator, whose name no agent can hold: an agent named "system" could not
    // counterfeit the end.
    row.sender = kOperator;
    row.recipient = "*";
    row.body = notice;
    row.action_type = "info";
    row.created_ms = now;
    const std::vector<std::string> members = members_but(conv->id, kOperator);
    store_for_members(row, members, [&] { record(Json::array({row.id})); });
    out.notice_ids = {row.id};
    out.told = members;
    return out;
  }
  // Both seats of a token conversation: a notice each, taken by a seat's waiting reader.
  std::vector<store::MessageRow> rows;
  std::vector<Presence::Waiter*> takers(2, nullptr);
  std::vector<bool> taken;
  {
    store::WriteTransaction tx(ctx_.db);
    Json ids = Json::array();
    for (const char* seat : {"a", "b"}) {
      rows.push_back(box_.post_system(SessionKey{conv->id, seat}, notice));
      ids.push_back(rows.back().id);
    }
    record(ids);
    struct HandOffs {
      std::vector<Presence::Waiter*>& w;
      ~HandOffs() {
        for (auto* x : w) {
          if (x) x->took = false;
        }
      }
    } guard{takers};
    for (std::size_t i = 0; i < rows.size(); ++i) {
      takers[i] = ctx_.presence.hand_off(SessionKey{conv->id, rows[i].recipient});
    }
    const store::Ticket ticket = tx.commit();
    for (auto* w : takers) {
      if (w) w->handed = ticket;
    }
    for (auto* w : takers) taken.push_back(w != nullptr);
    takers.assign(2, nullptr);
  }
  for (std::size_t i = 0; i < rows.size(); ++i) {
    box_.deliver(rows[i], "system", SessionKey{conv->id, rows[i].recipient}, taken[i]);
    out.notice_ids.push_back(rows[i].id);
    out.told.push_back(rows[i].recipient);
  }
  return out;
}

}  // namespace cb::bridge
