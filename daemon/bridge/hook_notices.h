#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "daemon/bridge/agent_mail.h"
#include "daemon/bridge/agents.h"
#include "daemon/bridge/context.h"
#include "daemon/bridge/mailbox.h"
#include "daemon/bridge/presence.h"

// What the client hooks of issue 24 tell an agent (claude-bridge-hook / claude-bridgectl hook,
// over ctl.sock): who it is at session start, a one-line notice of mail it has not been told
// of, and a wait that ends when such mail arrives (Claude Code's asyncRewake).
//
// Each message is announced at most once per agent, whichever of them tells: the agent's
// "announced up to" mark (a message id) moves past everything announced. The mark lives in
// memory only: after a daemon restart an agent's unread mail is announced once more. Nothing
// here marks a message read; reading stays check_messages / wait_for_messages.
namespace cb::bridge {

// Mail an agent has not been told of.
struct NewMail {
  std::int64_t count = 0;
  bool more = false;  // more than HookNotices::kMaxCounted: count is that many
  std::vector<std::pair<std::string, std::int64_t>> senders;  // in order of first arrival
  std::string latest_from;
  std::string latest_action;  // the latest one's action_type
  std::string latest_body;    // its first characters
  std::int64_t up_to_id = 0;  // the newest message's id
  bool empty() const { return count == 0; }
};

// The one-line notice of `mail` (not empty): "claude-bridge: 1 new message from backend
// (question): 'Which fields…' — read it with check_messages".
std::string notice_line(const NewMail& mail);

class HookNotices {
 public:
  HookNotices(Context& ctx, Agents& agents, Mailbox& mailbox, AgentMail& agent_mail)
      : ctx_(ctx), agents_(agents), mailbox_(mailbox), agent_mail_(agent_mail) {}
  HookNotices(const HookNotices&) = delete;
  HookNotices& operator=(const HookNotices&) = delete;

  static constexpr std::int64_t kMaxCounted = 500;
  static constexpr std::int64_t kSnippetChars = 80;

  // `agent`'s unread mail after its mark, leaving out what a wait handed out whose answer may
  // not have reached the model (Mailbox::handed_out): that mail was given to the agent.
  NewMail unannounced(const std::string& agent);
  // The notice of unannounced mail, the mark moved past it; nullopt when there is none.
  std::optional<std::string> tell(const std::string& agent);
  // The session-start text: who the agent is, who else is online, its unread mail. What it
  // counts is announced.
  std::string session_start(const std::string& agent);
  // The agent's mark (0: nothing announced since the daemon started).
  std::int64_t mark(const std::string& agent) const;
  // The database was replaced (restore): its message ids are not those the marks counted, so
  // every agent's unread mail is announced once more.
  void forget_marks() { announced_.clear(); }

  enum class Outcome { kMail, kReplaced };
  // Called once: kMail with the notice (already announced), or kReplaced. It runs inside the
  // bridge's wake-up of the agent, so it must not destroy the Wait; destroying it later is fine.
  using Done = std::function<void(Outcome, const std::string& notice)>;
  // A blocked hook wait of one agent; destroying it drops it (nothing announced).
  class Wait {
   public:
    Wait(const Wait&) = delete;
    Wait& operator=(const Wait&) = delete;
    ~Wait();
    const std::string& agent() const { return agent_; }
    bool finished() const { return finished_; }

   private:
    friend class HookNotices;
    Wait(HookNotices& owner, std::string agent, Done done)
        : owner_(owner), agent_(std::move(agent)), done_(std::move(done)) {}
    void check();
    void finish(Outcome outcome, const std::string& notice);
    void unregister();

    HookNotices& owner_;
    std::string agent_;
    Done done_;
    std::vector<Presence::Waiter> watchers_;  // the inbox and each joined seat; never resized
    bool finished_ = false;
  };
  // A newer wait of `agent` replaces the one before it (that one ends kReplaced). When the
  // agent has unannounced mail now, that notice (announced) and no wait; else a wait that ends
  // when such mail arrives — mail handed to the agent by a read does not end it.
  std::variant<std::string, std::unique_ptr<Wait>> wait(const std::string& agent, Done done);
  std::size_t waits() const { return waits_.size(); }

 private:
  void announce(const std::string& agent, std::int64_t up_to);
  std::string sender_of(const store::MessageRow& row);

  Context& ctx_;
  Agents& agents_;
  Mailbox& mailbox_;
  AgentMail& agent_mail_;
  std::map<std::string, std::int64_t> announced_;
  std::map<std::string, Wait*> waits_;  // the one live wait of each agent
};

}  // namespace cb::bridge
