#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "daemon/async.h"
#include "daemon/bridge/auth.h"
#include "daemon/bridge/context.h"
#include "daemon/bridge/types.h"

// The mailbox: conversations, sending, reading, waiting, status and presence, and the one
// delivery routine every stored message goes through (wake the recipient's waiters, tell the
// operator's watchers, tell the recipient's connections). Every call is one transaction.
namespace cb::bridge {

class Mailbox {
 public:
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

  // Stores a message from "system" to `to` within the caller's transaction; deliver() it after.
  store::MessageRow post_system(const SessionKey& to, const std::string& body);
  // The one delivery routine, run once the commit holding `row` is durable: wakes `to`'s
  // waiters, tells watchers, and tells `to`'s connections once per unread batch — unless a
  // waiter of `to` took the message inside the send (`taken`): it has it already.
  void deliver(const store::MessageRow& row, const std::string& from_role, const SessionKey& to,
               bool taken = false);

  std::int64_t empty_polls() const { return empty_polls_total_; }

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
  Result<InboxPage> read_inbox(const Authed& a, std::optional<std::int64_t> since_id,
                               std::optional<std::int64_t> limit, const char* action);
  InboxPage read_and_mark(const Authed& a, std::optional<std::int64_t> since_id,
                          std::optional<std::int64_t> limit, const char* action);
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
  Notifier* notifier_ = nullptr;
  std::map<std::string, std::int64_t> empty_polls_;  // per seat, since its last read
  std::int64_t empty_polls_total_ = 0;
};

}  // namespace cb::bridge
