#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"
#include "daemon/async.h"
#include "daemon/bridge/agents.h"
#include "daemon/bridge/auth.h"
#include "daemon/bridge/context.h"
#include "daemon/bridge/types.h"

// The mailbox: conversations, sending, reading, waiting, status and presence, and the one
// delivery routine every stored message goes through (wake the recipient's waiters, tell the
// operator's watchers, tell the recipient's connections). Every call is one transaction.
namespace cb::bridge {

// Replaces each U+0000 with U+FFFD: a team's PostgreSQL cannot store it in text, so no store
// does (messages, file names, notes).
void no_nul(std::string& text);

class Mailbox {
 public:
  // AgentMail (agent_mail.h) is the agents' half of this mailbox: it sends, delivers and offers
  // again through the private parts below, which both halves share.
  friend class AgentMail;
  Mailbox(Context& ctx, Authenticator& auth) : ctx_(ctx), auth_(auth) {}
  Mailbox(const Mailbox&) = delete;
  Mailbox& operator=(const Mailbox&) = delete;

  void set_notifier(Notifier* notifier) { notifier_ = notifier; }

  Result<CreatedConversation> create_conversation(const Caller& caller, const std::string& my_role,
                                                  const std::string& partner_role);
  Result<SendReceipt> send(const Caller& caller, const Credentials& cred,
                           const std::string& message, const std::string& action_type,
                           const std::vector<std::string>& files);
  // Unread messages (or all after since_id), oldest first, marked read. When the marks cannot
  // be written (disk full) the page is served unmarked (marked_read false).
  Result<InboxPage> check_messages(const Caller& caller, const Credentials& cred,
                                   std::optional<std::int64_t> since_id,
                                   std::optional<std::int64_t> limit);
  // check_messages that writes nothing (no read mark, no audit entry).
  Result<InboxPage> peek_messages(const Caller& caller, const Credentials& cred,
                                  std::optional<std::int64_t> since_id,
                                  std::optional<std::int64_t> limit);
  // Returns unread messages at once when there are any, else blocks until the first one
  // arrives, `timeout_seconds` pass on the Clock (an empty page) or `cancelled()` turns true
  // (nothing consumed). `progress` is called every progress_interval while blocked; the
  // deadline is looked at as often, so a fake clock moves it.
  awaitable<Result<InboxPage>> wait_for_messages(Caller caller, Credentials cred,
                                                 std::optional<std::int64_t> since_id,
                                                 std::optional<std::int64_t> limit,
                                                 std::int64_t timeout_seconds,
                                                 std::function<void(const std::string&)> progress,
                                                 std::function<bool()> cancelled);
  std::chrono::milliseconds progress_interval{5000};

  Result<StatusUpdate> update_status(const Caller& caller, const Credentials& cred,
                                     const std::string& status);
  Result<PartnerStatus> partner_status(const Caller& caller, const Credentials& cred);
  // The same on a seat already proven (seat_of: an agent's joined seat).
  Result<StatusUpdate> update_status_as(const Authed& a, const std::string& status);
  Result<PartnerStatus> partner_status_as(const Authed& a);
  Result<SendReceipt> send_on_seat(const Authed& a, const std::string& message,
                                   const std::string& action_type,
                                   const std::vector<std::string>& files) {
    return send_as(a, message, action_type, files, std::nullopt, "send_to_partner");
  }
  Result<InboxPage> check_seat(const Caller& caller, const Authed& a,
                               std::optional<std::int64_t> since_id,
                               std::optional<std::int64_t> limit);

  // Stores a message from "system" to `to` within the caller's transaction; deliver() it after.
  store::MessageRow post_system(const SessionKey& to, const std::string& body);
  // The one delivery routine, run once the commit holding `row` is durable: wakes `to`'s
  // waiters, tells watchers, and tells `to`'s connections once per unread batch — unless a
  // waiter of `to` took the message inside the send (`taken`): it has it already.
  void deliver(const store::MessageRow& row, const std::string& from_role, const SessionKey& to,
               bool taken = false);

  std::int64_t empty_polls() const { return empty_polls_total_; }

  // Whether message `id` was handed out to `reader` (an agent's inbox_key or a seat's key) by a
  // wait whose answer may not have reached the model: unread again, offered again flagged
  // redelivered, and not yet read since (issue 24: such mail does not wake the agent's hook).
  bool handed_out(const SessionKey& reader, std::int64_t id) const {
    auto it = offered_.find(reader.str());
    return it != offered_.end() && it->second.count(id) != 0;
  }

 private:
  // What a read marked: messages after_id < id <= up_to_id marked read at at_ms.
  struct Marked {
    std::int64_t after_id = 0;
    std::int64_t up_to_id = 0;
    std::int64_t at_ms = 0;
    std::size_t count = 0;
  };
  void deliver_now(const store::MessageRow& row, const std::string& from_role,
                   const SessionKey& to, bool taken);
  // Sends with a seat already proven (by token or by an agent's join).
  Result<SendReceipt> send_as(const Authed& a, const std::string& message,
                              const std::string& action_type, const std::vector<std::string>& files,
                              std::optional<std::int64_t> reply_to, const char* action);
  // Redacts a message's text and file names into the row (body, files, redactions); returns
  // the redactions by kind.
  Json redact_into(store::MessageRow& row, const std::string& message,
                   const std::vector<std::string>& files, std::map<std::string, int>& counts);
  Status check_length(const std::string& conversation_id, const std::string& who,
                      const std::string& message, const char* action);
  // The wait's answer may not have reached the model (see Settings::redeliver_after_seconds):
  // what it handed out is unread again, and flagged redelivered when next read.
  bool unconfirmed(const Caller& caller, std::int64_t started_ms) const;
  void flag_redelivered(const std::string& reader, InboxPage& page);
  Result<InboxPage> read_inbox(const Authed& a, std::optional<std::int64_t> since_id,
                               std::optional<std::int64_t> limit, const char* action,
                               Marked* marked = nullptr);
  InboxPage read_and_mark(const Authed& a, std::optional<std::int64_t> since_id,
                          std::optional<std::int64_t> limit, const char* action, Marked* marked);
  // wait_for_messages on a proven seat.
  awaitable<Result<InboxPage>> wait_seat(Caller caller, Authed a,
                                         std::optional<std::int64_t> since_id,
                                         std::optional<std::int64_t> limit,
                                         std::int64_t timeout_seconds,
                                         std::function<void(const std::string&)> progress,
                                         std::function<bool()> cancelled);
  // A seat wait's answer, given back to unread (and offered again, flagged) when it may not
  // reach the model (unconfirmed()).
  InboxPage confirm_or_offer(const Caller& caller, const Authed& a, std::int64_t started_ms,
                             InboxPage page, const Marked& marked);
  // The page, its messages marked read, within the caller's transaction.
  InboxPage mark_inbox(const Authed& a, std::optional<std::int64_t> since_id,
                       std::optional<std::int64_t> limit, const char* action, Marked* marked);
  InboxPage peek_inbox(const Authed& a, std::optional<std::int64_t> since_id,
                       std::optional<std::int64_t> limit);
  // A cancelled or superseded wait whose messages a send had handed it: they are unread again,
  // and the seat's other waiters are woken once that is committed. The ticket of that write.
  store::Ticket give_back(const Authed& a, const Marked& marked, const char* outcome);
  // The answer of a wait a newer read of its seat superseded: nothing taken (a handed message
  // is given back), an empty page.
  InboxPage superseded_page(const Authed& a, bool gave_back, const Marked& marked);
  std::vector<store::MessageRow> page_rows(const Authed& a, std::optional<std::int64_t> since_id,
                                           std::optional<std::int64_t> limit, bool* has_more);
  static InboxMessage inbox_message(const Authed& a, const store::MessageRow& m);

  Context& ctx_;
  Authenticator& auth_;
  // Message ids a possibly unseen answer handed out, by reader (agent name or seat), offered
  // again flagged redelivered.
  std::map<std::string, std::set<std::int64_t>> offered_;
  Notifier* notifier_ = nullptr;
  std::map<std::string, std::int64_t> empty_polls_;  // per seat, since its last read
  std::int64_t empty_polls_total_ = 0;
};

}  // namespace cb::bridge
