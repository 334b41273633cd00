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
