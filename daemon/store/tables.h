#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "daemon/store/database.h"
#include "daemon/store/records.h"

// Queries of the product, grouped by the table they own. Callers open the transaction.
namespace cb::store {

namespace detail {
// One message row from a statement selecting kMessageColumns' columns in their order
// (tables.cpp; agent_tables.cpp selects the same columns of the alias m).
MessageRow read_message(SQLite::Statement& q);
}  // namespace detail

class Conversations {
 public:
  explicit Conversations(Database& db) : db_(db) {}
  // Every column as given, exec settings included (a new conversation's are the defaults; an
  // imported one keeps its own).
  void insert(const ConversationRow& row);
  std::optional<ConversationRow> find(const std::string& id);
  bool exists(const std::string& id);
  std::vector<ConversationSummary> list();
  // Ids of conversations whose expiry is before `before_ms`.
  std::vector<std::string> expired_before(std::int64_t before_ms);
  // Deletes the conversation with its messages and statuses (cascade). Audit rows stay.
  bool remove(const std::string& id);
  void set_exec(const std::string& id, const std::string& mode, const std::string& json);
  std::int64_t count();
  // The agents' conversation with exactly these members (ConversationRow::member_key), if any.
  std::optional<ConversationRow> by_members(const std::string& member_key);
  void set_expiry(const std::string& id, std::int64_t expires_ms);
  // The conversation is no longer the one its members' names address (it expired).
  void retire_member_key(const std::string& id);

 private:
  Database& db_;
};

class Messages {
 public:
  explicit Messages(Database& db) : db_(db) {}
  // Inserts with a new id (row.id is not used) and returns it. read_ms as given: a new message
  // is unread; an imported one keeps its read state.
  std::int64_t insert(const MessageRow& row);
  // Unread messages to `recipient`, oldest first, at most `limit`.
  std::vector<MessageRow> unread(const std::string& conv, const std::string& recipient,
                                 std::int64_t limit);
  // Every message to `recipient` with id > after_id, read or not, oldest first.
  std::vector<MessageRow> after(const std::string& conv, const std::string& recipient,
                                std::int64_t after_id, std::int64_t limit);
  // Marks these messages read (those not read already). By id, one row at a time: an UPDATE
  // over a range of the unread index it changes would first copy the matching rows to a
  // temporary b-tree (SQLite's two-pass update), which cost more than the update itself.
  void mark_read(const std::vector<std::int64_t>& ids, std::int64_t now_ms);
  // Undoes that mark: messages to `recipient` with after_id < id <= up_to_id whose read time is
  // exactly `marked_ms` are unread again. Returns how many.
  std::int64_t unmark_read(const std::string& conv, const std::string& recipient,
                           std::int64_t after_id, std::int64_t up_to_id, std::int64_t marked_ms);
  std::int64_t unread_count(const std::string& conv, const std::string& recipient);
  // Messages sent by `sender` at or after each of the given times (one count per time).
  std::vector<std::int64_t> sent_since(const std::string& conv, const std::string& sender,
                                       const std::vector<std::int64_t>& since_ms);
  // Time of the n-th (0-based) oldest message sent by `sender` at or after since_ms.
  std::optional<std::int64_t> nth_sent_time(const std::string& conv, const std::string& sender,
                                            std::int64_t since_ms, std::int64_t n);
  std::vector<MessageRow> all(const std::string& conv);
  // Every message of the conversation with id > after_id, in id order, until fn returns false.
  // The statement is reset before returning, so no read transaction stays open.
  void for_each_after(const std::string& conv, std::int64_t after_id,
                      const std::function<bool(MessageRow&&)>& fn);
  std::int64_t count();

 private:
  Database& db_;
};

// An agent's inbox across the conversations it is a member of and the token seats it joined
// (issue 23; daemon/store/agent_tables.cpp): the messages table read by agent, not by seat.
class Inboxes {
 public:
  explicit Inboxes(Database& db) : db_(db) {}
  // Messages of the agents' conversations `agent` is a member of, not sent by it, oldest
  // first: those after its read position in each (after_id 0), or every one with id > after_id.
  std::vector<MessageRow> agent_inbox(const std::string& agent, std::int64_t after_id,
                                      std::int64_t limit);
  // Unread messages to the seats of token conversations `agent` joined, oldest first.
  std::vector<MessageRow> seat_inbox(const std::string& agent, std::int64_t limit);
  // Everything unread for `agent`, oldest first: agent_inbox (after_id 0) and seat_inbox
  // together, in one query.
  std::vector<MessageRow> whole_inbox(const std::string& agent, std::int64_t limit);
  // The same within one agents' conversation.
  std::vector<MessageRow> conversation_inbox(const std::string& conv, const std::string& agent,
                                             std::int64_t after_id, std::int64_t limit);
  // The conversation a message belongs to.
  std::optional<std::string> conversation_of(std::int64_t message_id);
  // Marks these messages unread again where their read time is exactly `marked_ms`.
  std::int64_t unmark_ids(const std::vector<std::int64_t>& ids, std::int64_t marked_ms);
  // Unread messages in agents' conversations for `agent`, by sender.
  std::vector<std::pair<std::string, std::int64_t>> agent_unread_by_sender(const std::string& agent);
  // Unread messages for `agent`: its agents' conversations and its joined seats.
  std::int64_t agent_unread(const std::string& agent);
  // Messages stored at or after since_ms, counted by conversation, sender and recipient.
  std::vector<SenderCount> senders_since(std::int64_t since_ms);
  // Unread messages for `agent` in one agents' conversation.
  std::int64_t member_unread(const std::string& conv, const std::string& agent);
  // `agent`'s unread messages (its agents' conversations after its read position, its joined
  // seats' unread ones) with id > after_id, oldest first, at most `limit`, each body cut to its
  // first `body_chars` characters: what the hooks of issue 24 announce. One index range per
  // conversation (messages_by_recipient, messages_unread), never a scan of the messages.
  std::vector<MessageRow> agent_unread_after(const std::string& agent, std::int64_t after_id,
                                             std::int64_t limit, std::int64_t body_chars);

 private:
  Database& db_;
};

// Named agents (daemon/store/agent_tables.cpp).
class Agents {
 public:
  explicit Agents(Database& db) : db_(db) {}
  void upsert(const AgentRow& row);
  std::vector<AgentRow> all();
  std::optional<AgentRow> find(const std::string& name);

 private:
  Database& db_;
};

// Who belongs to which conversation (daemon/store/agent_tables.cpp).
class Members {
 public:
  explicit Members(Database& db) : db_(db) {}
  // Adds the member (read position 0, or as given); an existing membership is kept.
  void insert(const MemberRow& row);
  std::optional<MemberRow> find(const std::string& agent, const std::string& conv);
  // Every member of a conversation, by name.
  std::vector<MemberRow> of_conversation(const std::string& conv);
  // The token seats an agent joined.
  std::vector<MemberRow> seats_of(const std::string& agent);
  // The agent bound to a token conversation's seat, if any.
  std::optional<std::string> seat_holder(const std::string& conv, const std::string& seat);
  // Moves the agent's read position in `conv` forward to `up_to` (never back).
  void advance(const std::string& agent, const std::string& conv, std::int64_t up_to);
  // Sets the read position, back or forward (a read given back).
  void set_position(const std::string& agent, const std::string& conv, std::int64_t position);

 private:
  Database& db_;
};

class Statuses {
 public:
  explicit Statuses(Database& db) : db_(db) {}
  void upsert(const std::string& conv, const std::string& session, const std::string& status,
              std::int64_t heartbeat_ms);
  std::optional<StatusRow> find(const std::string& conv, const std::string& session);
  // Both sessions' statuses (those that exist), ordered by session.
  std::vector<SessionStatus> of(const std::string& conv);

 private:
  Database& db_;
};

class AuditTable {
 public:
  explicit AuditTable(Database& db) : db_(db) {}
  std::int64_t insert(const AuditRow& row);
  std::optional<std::string> last_hash();
  // Newest first; conv empty means every conversation.
  std::vector<AuditRow> newest(const std::string& conv, std::int64_t limit);
  // Every row in id order, for verification.
  void for_each(const std::function<bool(const AuditRow&)>& fn);

 private:
  Database& db_;
};

}  // namespace cb::store
