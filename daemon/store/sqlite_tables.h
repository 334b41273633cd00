#pragma once

#include <SQLiteCpp/Statement.h>

#include "daemon/store/sqlite_database.h"
#include "daemon/store/tables.h"

// The SQLite implementation of the store's tables (tables.cpp; agents, members and inboxes in
// agent_tables.cpp).
namespace cb::store {

namespace detail {
// One message row from a statement selecting kMessageColumns' columns in their order
// (tables.cpp; agent_tables.cpp selects the same columns of the alias m).
MessageRow read_message(SQLite::Statement& q);
}  // namespace detail

class SqliteConversations final : public Conversations {
 public:
  explicit SqliteConversations(SqliteDatabase& db) : db_(db) {}
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
  SqliteDatabase& db_;
};

class SqliteMessages final : public Messages {
 public:
  explicit SqliteMessages(SqliteDatabase& db) : db_(db) {}
  std::optional<MessageRow> find(std::int64_t id) override;
  std::int64_t insert(const MessageRow& row) override;
  std::int64_t insert_if_current(const MessageRow& row, const std::string& member_key,
                                 std::int64_t now_ms) override;
  std::vector<MessageRow> unread(const std::string& conv, const std::string& recipient,
                                 std::int64_t limit) override;
  std::vector<MessageRow> after(const std::string& conv, const std::string& recipient,
                                std::int64_t after_id, std::int64_t limit) override;
  void mark_read(const std::vector<std::int64_t>& ids, std::int64_t now_ms) override;
  std::int64_t unmark_read(const std::string& conv, const std::string& recipient,
                           std::int64_t after_id, std::int64_t up_to_id,
                           std::int64_t marked_ms) override;
  std::int64_t unread_count(const std::string& conv, const std::string& recipient) override;
  std::vector<std::int64_t> sent_since(const std::string& conv, const std::string& sender,
                                       const std::vector<std::int64_t>& since_ms) override;
  std::optional<std::int64_t> nth_sent_time(const std::string& conv, const std::string& sender,
                                            std::int64_t since_ms, std::int64_t n) override;
  std::vector<MessageRow> all(const std::string& conv) override;
  void for_each_after(const std::string& conv, std::int64_t after_id,
                      const std::function<bool(MessageRow&&)>& fn) override;
  std::int64_t count() override;

 private:
  SqliteDatabase& db_;
};

class SqliteInboxes final : public Inboxes {
 public:
  explicit SqliteInboxes(SqliteDatabase& db) : db_(db) {}
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
  WaitStart wait_start(const std::string& agent, std::int64_t limit) override;
  std::vector<SenderCount> senders_since(std::int64_t since_ms) override;
  std::int64_t member_unread(const std::string& conv, const std::string& agent) override;
  std::vector<MessageRow> agent_unread_after(const std::string& agent, std::int64_t after_id,
                                             std::int64_t limit, std::int64_t body_chars) override;

 private:
  SqliteDatabase& db_;
};

class SqliteAgents final : public Agents {
 public:
  explicit SqliteAgents(SqliteDatabase& db) : db_(db) {}
  void upsert(const AgentRow& row) override;
  std::vector<AgentRow> all() override;
  std::optional<AgentRow> find(const std::string& name) override;

 private:
  SqliteDatabase& db_;
};

class SqliteMembers final : public Members {
 public:
  explicit SqliteMembers(SqliteDatabase& db) : db_(db) {}
  void insert(const MemberRow& row) override;
  std::optional<MemberRow> find(const std::string& agent, const std::string& conv) override;
  std::vector<MemberRow> of_conversation(const std::string& conv) override;
  std::vector<MemberRow> seats_of(const std::string& agent) override;
  std::optional<std::string> seat_holder(const std::string& conv, const std::string& seat) override;
  std::int64_t advance(const std::string& agent, const std::string& conv,
                       std::int64_t up_to) override;
  void set_position(const std::string& agent, const std::string& conv,
                    std::int64_t position) override;

 private:
  SqliteDatabase& db_;
};

class SqliteStatuses final : public Statuses {
 public:
  explicit SqliteStatuses(SqliteDatabase& db) : db_(db) {}
  void upsert(const std::string& conv, const std::string& session, const std::string& status,
              std::int64_t heartbeat_ms) override;
  std::optional<StatusRow> find(const std::string& conv, const std::string& session) override;
  std::vector<SessionStatus> of(const std::string& conv) override;

 private:
  SqliteDatabase& db_;
};

class SqliteAuditTable final : public AuditTable {
 public:
  explicit SqliteAuditTable(SqliteDatabase& db) : db_(db) {}
  void insert(const AuditRow& row) override;
  std::optional<std::string> last_hash() override;
  std::vector<AuditRow> newest(const std::string& conv, std::int64_t limit) override;
  void for_each(const std::function<bool(const AuditRow&)>& fn) override;

 private:
  SqliteDatabase& db_;
};

// The tables of one SqliteDatabase, made with it.
struct SqliteTableSet {
  explicit SqliteTableSet(SqliteDatabase& db)
      : conversations(db),
        messages(db),
        inboxes(db),
        agents(db),
        members(db),
        statuses(db),
        audit(db) {}
  SqliteConversations conversations;
  SqliteMessages messages;
  SqliteInboxes inboxes;
  SqliteAgents agents;
  SqliteMembers members;
  SqliteStatuses statuses;
  SqliteAuditTable audit;
};

}  // namespace cb::store
