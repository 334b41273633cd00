#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "daemon/bridge/context.h"

// The daemons of a team sharing one PostgreSQL store (issue 27), as this daemon takes part:
// mail another daemon committed reaches this daemon's waiters, hooks and connections as if it
// had been sent here, and this daemon's live agents are heartbeated so the others show them
// online. Inert for a daemon of its own (Database::team() is nullptr).
namespace cb::bridge {

class Agents;
class AgentMail;
class Mailbox;

class TeamLink {
 public:
  TeamLink(Context& ctx, Agents& agents, Mailbox& mailbox, AgentMail& agent_mail)
      : ctx_(ctx), agents_(agents), mailbox_(mailbox), agent_mail_(agent_mail) {}
  TeamLink(const TeamLink&) = delete;
  TeamLink& operator=(const TeamLink&) = delete;

  bool active() const { return ctx_.db.team() != nullptr; }
  // Message `message_id` was committed by another daemon of the team: its recipients here are
  // woken and told, the operator's watchers see it. Unknown ids (deleted since) are ignored.
  void remote_mail(std::int64_t message_id);
  // The same when the announcement named the members of the message's conversation of agents
  // (AgentMail::announce): usually nothing is read.
  void remote_mail(std::int64_t message_id, const std::string& conversation_id,
                   const std::string& sender, const std::vector<std::string>& members);
  // The announcements may have missed messages (the listener lost the server for a while):
  // every waiter and hook here looks at its inbox again.
  void resync();
  // Writes this daemon's heartbeat and its live agents' (every Agents::kHeartbeatMs). Storage
  // failures are logged, not thrown: the next heartbeat tries again.
  void heartbeat();

 private:
  Context& ctx_;
  Agents& agents_;
  Mailbox& mailbox_;
  AgentMail& agent_mail_;
  bool heartbeat_failing_ = false;  // logged once per outage
};

}  // namespace cb::bridge
