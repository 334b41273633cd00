#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "daemon/async.h"
#include "daemon/bridge/agents.h"
#include "daemon/bridge/auth.h"
#include "daemon/bridge/context.h"
#include "daemon/bridge/mailbox.h"
#include "daemon/bridge/types.h"

// The agents' half of the mailbox (issue 23; agent_mail.cpp, agent_inbox.cpp): conversations
// addressed by names, groups, token seats joined by an agent, the whole inbox with its waits,
// and the operator's post and end (issue 25; operator_post.cpp). Redaction, the length check,
// delivery and the redelivery of answers that may not have reached the model are Mailbox's,
// shared with the token seats; AgentMail reaches them as its friend.
namespace cb::bridge {

class AgentMail {
 public:
  AgentMail(Context& ctx, Authenticator& auth, Agents& agents, Mailbox& box)
      : ctx_(ctx), auth_(auth), agents_(agents), box_(box) {}
  AgentMail(const AgentMail&) = delete;
  AgentMail& operator=(const AgentMail&) = delete;

  // Whom send_message addresses: agents by name (the conversation whose members are exactly
  // the sender and them, made on first use), or one conversation by id.
  struct Recipients {
    std::vector<std::string> names;
    std::string conversation_id;
  };
  Result<MessageReceipt> send_message(const Caller& caller, const Recipients& to,
                                      const std::string& message, const std::string& action_type,
                                      const std::vector<std::string>& files,
                                      std::optional<std::int64_t> reply_to);
  Result<AgentList> list_agents(const Caller& caller, bool project_only);
  Result<AgentStatusUpdate> update_agent_status(const Caller& caller, const std::string& status,
                                                const std::string& note);
  Result<CreatedGroup> create_group(const Caller& caller, const std::vector<std::string>& members);
  Result<JoinedSeat> join(const Caller& caller, const Credentials& cred);
  // The caller's whole inbox across its conversations (and the seats it joined), oldest first,
  // marked read; or only `conversation_id`'s when given.
  Result<InboxPage> check_inbox(const Caller& caller, const std::string& conversation_id,
                                std::optional<std::int64_t> since_id,
                                std::optional<std::int64_t> limit);
  awaitable<Result<InboxPage>> wait_inbox(Caller caller, std::string conversation_id,
                                          std::optional<std::int64_t> since_id,
                                          std::optional<std::int64_t> limit,
                                          std::int64_t timeout_seconds,
                                          std::function<void(const std::string&)> progress,
                                          std::function<bool()> cancelled);
  // The operator (issue 25; operator_post.cpp), over ctl.sock only.
  // The sender of the operator's posts: '@' is outside the agent-name alphabet
  // ([a-z][a-z0-9_-]{0,31}), so no agent is or can become it, whatever name it asks for.
  static constexpr const char* kOperator = "@operator";
  // A message from kOperator to every member of an agents' conversation: length-checked,
  // redacted, rate-limited by the send budget (per conversation, as any sender) and audited
  // (operator_post, with `who`); members blocked in a wait take it.
  Result<OperatorPost> post_operator(const std::string& conversation_id, const std::string& message,
                                     const std::string& action_type, const Json& who);
  // Ends a conversation now, as its expiry would (its expiry is set to now: sends are refused
  // as expired, cleanup removes it later), after a message telling each member (from
  // kOperator) or both seats (from "system", as a token conversation knows no other) so; readers
  // blocked in a wait are released with that message. Audited (admin_end, with `who`).
  Result<EndedConversation> end_conversation(const std::string& conversation_id, const Json& who);

  // A token seat the caller's agent joined, as if it had given the seat's token; `action`
  // names the tool for the audit.
  Result<Authed> seat_of(const Caller& caller, const std::string& conversation_id,
                         const char* action);
  // The conversations a connection's agent holds seats of (to bind them at connect).
  std::vector<SessionKey> seats_of(const std::string& agent);

  // A message another daemon of the team committed (issue 27, TeamLink): its members here are
  // woken and told, as deliver_to_members does for one sent here.
  void announce(const store::MessageRow& row);
  // The same from the announcement alone, which names the conversation's members (PostgreSQL's
  // NOTIFY does): nothing is read unless the operator's console watches (its event shows the
  // body). A member blocked in wait_for_messages reads the message as it wakes, as one handed
  // the message here would, so only the others are told (with the unread count:
  // Inboxes::agent_unread_soon, one round trip to a team's store for all of a turn's notices).
  void announce(std::int64_t message_id, const std::string& conversation_id,
                const std::string& sender, const std::vector<std::string>& members);

 private:
  Result<MessageReceipt> send_once(const Caller& caller, const Recipients& to,
                                   const std::string& message, const std::string& action_type,
                                   const std::vector<std::string>& files,
                                   std::optional<std::int64_t> reply_to);
  // deliver() for an agents' conversation: every member but the sender; one watch event.
  // Without `event` the operator's watchers are not told (`row` then holds only the ids).
  void deliver_to_members(const store::MessageRow& row, const std::vector<std::string>& members,
                          const std::set<std::string>& took, bool event = true);
  // What an agent's read marked: read positions before it, seat messages marked at at_ms.
  struct AgentMarked {
    std::map<std::string, std::int64_t> positions_before;  // by conversation
    std::vector<std::int64_t> seat_ids;
    std::int64_t at_ms = 0;
    std::size_t count = 0;
    std::vector<std::int64_t> ids;  // everything the page handed out
  };
  // Reads a page of the agent's inbox (or takes `rows`, the same page read already: a wait's
  // first look, Inboxes::wait_start) and marks it read.
  InboxPage mark_agent_inbox(const std::string& agent, const std::string& conversation_id,
                             std::optional<std::int64_t> since_id,
                             std::optional<std::int64_t> limit, const char* action,
                             AgentMarked* marked,
                             std::optional<std::vector<store::MessageRow>> rows = std::nullopt);
  store::Ticket give_back_agent(const std::string& agent, const AgentMarked& marked,
                                const char* outcome);
  // The names of `field` (send_message's to, create_conversation's members), sorted and
  // unique: refused when empty, over 49, naming the caller, unknown, or (accept_from =
  // "project") of another project.
  Result<std::vector<std::string>> other_members(const std::string& me,
                                                 std::vector<std::string> names, const char* field,
                                                 const char* action);
  std::vector<std::string> members_but(const std::string& conv, const std::string& agent);
  // Stores `row` (an agents' conversation's, to "*") in one transaction with `also` (audit,
  // expiry), hands it to the members blocked in a wait, and delivers it once durable.
  void store_for_members(store::MessageRow& row, const std::vector<std::string>& members,
                         const std::function<void()>& also);
  Status unknown_agent(const std::string& name, const char* action);

  // The conversation a set of names (its member key) had when this daemon last looked, and
  // that conversation's expiry as then stored: a send to the same names skips the lookup, and
  // its insert checks that the conversation is still theirs and live
  // (Messages::insert_if_current), as another daemon of a team may have ended, removed or
  // replaced it.
  struct KnownConversation {
    std::string id;
    std::int64_t expires_ms = 0;
  };
  void remember(const std::string& member_key, const std::string& id, std::int64_t expires_ms);

  Context& ctx_;
  Authenticator& auth_;
  Agents& agents_;
  Mailbox& box_;
  std::unordered_map<std::string, KnownConversation> by_key_;
};

}  // namespace cb::bridge
