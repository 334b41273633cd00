#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "daemon/store/pg/pg_connection.h"
#include "daemon/store/pg/pg_database.h"
#include "daemon/store/tables.h"

// The PostgreSQL implementation of the store's tables (issue 27): the same contracts as the
// SQLite ones (daemon/store/tables.cpp, agent_tables.cpp) over PgDatabase's connection.
// pg_tables.cpp holds conversations, messages, statuses and audit; pg_agent_tables.cpp agents,
// members and inboxes. Every statement's text is constant per call site (the connection
// prepares each text once); values travel only as parameters.
namespace cb::store::pg {

namespace detail {
// Columns of a message, in MessageRow's order (read_message reads by position).
inline constexpr const char* kMessageColumns =
    "id, conversation_id, sender, recipient, body, action_type, files_json, redactions_json, "
    "created_ms, read_ms, reply_to";
// Row `row` of a query selecting kMessageColumns' columns in their order.
MessageRow read_message(const Rows& rows, int row);
std::vector<MessageRow> read_messages(const Rows& rows);
// PostgreSQL's array literal of these ids ("{1,2,3}"), for one `$n::bigint[]` parameter.
std::string bigint_array(const std::vector<std::int64_t>& values);
// Empty text as SQL NULL (the optional text columns: member_key, audit's ids).
Param text_or_null(const std::string& s);
// What a write held for the commit changes (PgDatabase::defer_to_commit, reading()): an
// agent's read positions; the messages a sender sent in a conversation (its rate limits).
inline std::string positions_of(const std::string& agent) { return "positions\t" + agent; }
inline std::string sent_by(const std::string& conv, const std::string& sender) {
  return "sent\t" + conv + "\t" + sender;
}
}  // namespace detail

class PgConversations final : public Conversations {
 public:
  explicit PgConversations(PgDatabase& db) : db_(db) {}
  void insert(const ConversationRow& row) override;
  std::optional<ConversationRow> find(const std::string& id) override;
  bool exists(const std::string& id) override;
  std::vector<ConversationSummary> list() override;
  std::vector<std::string> expired_before(std::int64_t before_ms) override;
  bool remove(const std::string& id) override;
  void set_exec(const std::string& id, const std::string& mode, const std::string& json) override;
  std::int64_t count() override;
  std::optional<ConversationRow> by_members(const std::string& member_key) override;
  void set_expiry(const std::string& id, std::int64_t expires_ms) override;
  void retire_member_key(const std::string& id) override;

 private:
  PgDatabase& db_;
};

class PgMessages final : public Messages {
 public:
  explicit PgMessages(PgDatabase& db) : db_(db) {}
  std::optional<MessageRow> find(std::int64_t id) override;
  // Also announces the message (NOTIFY cb_mail, delivered to listeners when the caller's
  // transaction commits) in the same round trip.
  std::int64_t insert(const MessageRow& row) override;
  std::int64_t insert_if_current(const MessageRow& row, const std::string& member_key,
                                 std::int64_t now_ms) override;
  // In a group: held for the commit (PgDatabase::defer_to_commit), checked there as
  // insert_if_current is (or, without a member_key, that the conversation still exists).
  void insert_at_commit(const MessageRow& row, const std::string& member_key, std::int64_t now_ms,
                        std::function<void(std::int64_t)> stored) override;
  std::vector<MessageRow> unread(const std::string& conv, const std::string& recipient,
                                 std::int64_t limit) override;
  std::vector<MessageRow> after(const std::string& conv, const std::string& recipient,
                                std::int64_t after_id, std::int64_t limit) override;
  void mark_read(const std::vector<std::int64_t>& ids, std::int64_t now_ms) override;
  std::int64_t unmark_read(const std::string& conv, const std::string& recipient,
                           std::int64_t after_id, std::int64_t up_to_id,
                           std::int64_t marked_ms) override;
  std::int64_t unread_count(const std::string& conv, const std::string& recipient) override;
  // Queued, with the next round trip (PgDatabase::send_queue_soon).
  void unread_count_soon(const std::string& conv, const std::string& recipient,
                         std::function<void(std::int64_t)> done) override;
  std::vector<std::int64_t> sent_since(const std::string& conv, const std::string& sender,
                                       const std::vector<std::int64_t>& since_ms) override;
  std::optional<std::int64_t> nth_sent_time(const std::string& conv, const std::string& sender,
                                            std::int64_t since_ms, std::int64_t n) override;
  std::vector<MessageRow> all(const std::string& conv) override;
  void for_each_after(const std::string& conv, std::int64_t after_id,
                      const std::function<bool(MessageRow&&)>& fn) override;
  std::int64_t count() override;

 private:
  PgDatabase& db_;
};

class PgInboxes final : public Inboxes {
 public:
  explicit PgInboxes(PgDatabase& db) : db_(db) {}
  std::vector<MessageRow> agent_inbox(const std::string& agent, std::int64_t after_id,
                                      std::int64_t limit) override;
  std::vector<MessageRow> seat_inbox(const std::string& agent, std::int64_t limit) override;
  std::vector<MessageRow> whole_inbox(const std::string& agent, std::int64_t limit) override;
  std::vector<MessageRow> conversation_inbox(const std::string& conv, const std::string& agent,
                                             std::int64_t after_id, std::int64_t limit) override;
  std::optional<std::string> conversation_of(std::int64_t message_id) override;
  std::int64_t unmark_ids(const std::vector<std::int64_t>& ids, std::int64_t marked_ms) override;
  std::vector<std::pair<std::string, std::int64_t>> agent_unread_by_sender(
      const std::string& agent) override;
  std::int64_t agent_unread(const std::string& agent) override;
  void agent_unread_soon(const std::string& agent, std::function<void(std::int64_t)> done) override;
  WaitStart wait_start(const std::string& agent, std::int64_t limit) override;
  std::vector<SenderCount> senders_since(std::int64_t since_ms) override;
  std::int64_t member_unread(const std::string& conv, const std::string& agent) override;
  std::vector<MessageRow> agent_unread_after(const std::string& agent, std::int64_t after_id,
                                             std::int64_t limit, std::int64_t body_chars) override;

 private:
  PgDatabase& db_;
};

class PgAgents final : public Agents {
 public:
  explicit PgAgents(PgDatabase& db) : db_(db) {}
  // Writes this daemon's host and daemon_id (db.options().self) with the row.
  void upsert(const AgentRow& row) override;
  std::vector<AgentRow> all() override;
  std::optional<AgentRow> find(const std::string& name) override;

 private:
  PgDatabase& db_;
};

class PgMembers final : public Members {
 public:
  explicit PgMembers(PgDatabase& db) : db_(db) {}
  void insert(const MemberRow& row) override;
  std::optional<MemberRow> find(const std::string& agent, const std::string& conv) override;
  std::vector<MemberRow> of_conversation(const std::string& conv) override;
  std::vector<MemberRow> seats_of(const std::string& agent) override;
  std::optional<std::string> seat_holder(const std::string& conv, const std::string& seat) override;
  std::int64_t advance(const std::string& agent, const std::string& conv,
                       std::int64_t up_to) override;
  void move_past(const std::string& agent, const std::string& conv, std::int64_t up_to) override;
  void set_position(const std::string& agent, const std::string& conv,
                    std::int64_t position) override;

 private:
  PgDatabase& db_;
};

class PgStatuses final : public Statuses {
 public:
  explicit PgStatuses(PgDatabase& db) : db_(db) {}
  void upsert(const std::string& conv, const std::string& session, const std::string& status,
              std::int64_t heartbeat_ms) override;
  std::optional<StatusRow> find(const std::string& conv, const std::string& session) override;
  std::vector<SessionStatus> of(const std::string& conv) override;

 private:
  PgDatabase& db_;
};

// The audit chain every daemon of the team appends to.
class PgAuditTable final : public AuditTable {
 public:
  explicit PgAuditTable(PgDatabase& db) : db_(db) {}
  // Inside a write transaction the insert is queued (Connection::defer).
  void insert(const AuditRow& row) override;
  // The newest hash. In a write transaction it first takes the team's lock
  // (PgDatabase::take_write_lock), so the head read then stays the head until the transaction
  // ends or rolls back (PgDatabase::chain_scope): read once per transaction, then what this
  // daemon appended. Outside one it takes the lock for a statement, then reads.
  std::optional<std::string> last_hash() override;
  // Queues the read of the head for the write transaction just begun (PgDatabase), so that it
  // travels with the transaction's first statement instead of a round trip of its own.
  void prefetch_head();
  bool shared() const override { return true; }
  std::vector<AuditRow> newest(const std::string& conv, std::int64_t limit) override;
  void for_each(const std::function<bool(const AuditRow&)>& fn) override;

 private:
  PgDatabase& db_;
  void keep_head(const Rows& rows, std::uint64_t scope);
  std::optional<std::string> head_;  // the chain's head in write transaction head_scope_
  std::uint64_t head_scope_ = 0;
  std::uint64_t prefetch_scope_ = 0;
};

// The tables of one PgDatabase, made with it.
struct PgTableSet {
  explicit PgTableSet(PgDatabase& db)
      : conversations(db),
        messages(db),
        inboxes(db),
        agents(db),
        members(db),
        statuses(db),
        audit(db) {}
  PgConversations conversations;
  PgMessages messages;
  PgInboxes inboxes;
  PgAgents agents;
  PgMembers members;
  PgStatuses statuses;
  PgAuditTable audit;
};

}  // namespace cb::store::pg
