#include "daemon/store/sqlite_tables.h"

namespace cb::store {
namespace {

constexpr const char* kMessageColumns =
    "id, conversation_id, sender, recipient, body, action_type, files_json, redactions_json, "
    "created_ms, read_ms, reply_to";

ConversationRow read_conversation(SQLite::Statement& q) {
  ConversationRow c;
  c.id = q.getColumn(0).getString();
  c.role_a = q.getColumn(1).getString();
  c.role_b = q.getColumn(2).getString();
  const auto nonce = q.getColumn(3);
  c.nonce.assign(static_cast<const char*>(nonce.getBlob()), static_cast<std::size_t>(nonce.getBytes()));
  c.created_ms = q.getColumn(4).getInt64();
  c.expires_ms = q.getColumn(5).getInt64();
  c.exec_mode = q.getColumn(6).getString();
  c.exec_json = q.getColumn(7).getString();
  c.kind = q.getColumn(8).getString();
  if (!q.getColumn(9).isNull()) c.member_key = q.getColumn(9).getString();
  return c;
}

constexpr const char* kConversationColumns =
    "id, role_a, role_b, nonce, created_ms, expires_ms, exec_mode, exec_json, kind, member_key";

}  // namespace

namespace detail {

MessageRow read_message(SQLite::Statement& q) {
  MessageRow m;
  m.id = q.getColumn(0).getInt64();
  m.conversation_id = q.getColumn(1).getString();
  m.sender = q.getColumn(2).getString();
  m.recipient = q.getColumn(3).getString();
  m.body = q.getColumn(4).getString();
  m.action_type = q.getColumn(5).getString();
  m.files_json = q.getColumn(6).getString();
  m.redactions_json = q.getColumn(7).getString();
  m.created_ms = q.getColumn(8).getInt64();
  if (!q.getColumn(9).isNull()) m.read_ms = q.getColumn(9).getInt64();
  if (!q.getColumn(10).isNull()) m.reply_to = q.getColumn(10).getInt64();
  return m;
}

}  // namespace detail

void SqliteConversations::insert(const ConversationRow& row) {
  auto& q = db_.stmt(
      "INSERT INTO conversations (id, role_a, role_b, nonce, created_ms, expires_ms, exec_mode,"
      " exec_json, kind, member_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  q.bind(1, row.id);
  q.bind(2, row.role_a);
  q.bind(3, row.role_b);
  q.bind(4, row.nonce.data(), static_cast<int>(row.nonce.size()));
  q.bind(5, row.created_ms);
  q.bind(6, row.expires_ms);
  q.bind(7, row.exec_mode);
  q.bind(8, row.exec_json);
  q.bind(9, row.kind);
  if (row.member_key.empty()) {
    q.bind(10);
  } else {
    q.bind(10, row.member_key);
  }
  q.exec();
}

std::optional<ConversationRow> SqliteConversations::by_members(const std::string& member_key) {
  auto& q = db_.stmt(std::string("SELECT ") + kConversationColumns +
                     " FROM conversations WHERE member_key = ?");
  q.bind(1, member_key);
  if (!q.executeStep()) return std::nullopt;
  return read_conversation(q);
}

void SqliteConversations::set_expiry(const std::string& id, std::int64_t expires_ms) {
  auto& q = db_.stmt("UPDATE conversations SET expires_ms = ? WHERE id = ?");
  q.bind(1, expires_ms);
  q.bind(2, id);
  q.exec();
}

bool SqliteConversations::exists(const std::string& id) {
  auto& q = db_.stmt("SELECT 1 FROM conversations WHERE id = ?");
  q.bind(1, id);
  const bool found = q.executeStep();
  q.reset();  // a statement left on a row holds a read transaction open
  return found;
}

std::optional<ConversationRow> SqliteConversations::find(const std::string& id) {
  auto& q = db_.stmt(std::string("SELECT ") + kConversationColumns +
                     " FROM conversations WHERE id = ?");
  q.bind(1, id);
  if (!q.executeStep()) return std::nullopt;
  return read_conversation(q);
}

std::vector<ConversationSummary> SqliteConversations::list() {
  auto& q = db_.stmt(
      std::string("SELECT ") + kConversationColumns +
      ", (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id),"
      " (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id AND m.recipient = 'a'"
      "  AND m.read_ms IS NULL),"
      " (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id AND m.recipient = 'b'"
      "  AND m.read_ms IS NULL)"
      " FROM conversations c ORDER BY created_ms, id");
  std::vector<ConversationSummary> out;
  while (q.executeStep()) {
    ConversationSummary s;
    s.row = read_conversation(q);
    s.messages = q.getColumn(10).getInt64();
    s.unread_a = q.getColumn(11).getInt64();
    s.unread_b = q.getColumn(12).getInt64();
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<std::string> SqliteConversations::expired_before(std::int64_t before_ms) {
  auto& q = db_.stmt("SELECT id FROM conversations WHERE expires_ms < ? ORDER BY expires_ms");
  q.bind(1, before_ms);
  std::vector<std::string> ids;
  while (q.executeStep()) ids.push_back(q.getColumn(0).getString());
  return ids;
}

bool SqliteConversations::remove(const std::string& id) {
  auto& q = db_.stmt("DELETE FROM conversations WHERE id = ?");
  q.bind(1, id);
  return q.exec() > 0;
}

void SqliteConversations::set_exec(const std::string& id, const std::string& mode,
                             const std::string& json) {
  auto& q = db_.stmt("UPDATE conversations SET exec_mode = ?, exec_json = ? WHERE id = ?");
  q.bind(1, mode);
  q.bind(2, json);
  q.bind(3, id);
  q.exec();
}

std::int64_t SqliteConversations::count() {
  auto& q = db_.stmt("SELECT COUNT(*) FROM conversations");
  q.executeStep();
  return q.getColumn(0).getInt64();
}

std::int64_t SqliteMessages::insert(const MessageRow& row) {
  auto& q = db_.stmt(
      "INSERT INTO messages (conversation_id, sender, recipient, body, action_type, files_json,"
      " redactions_json, created_ms, read_ms, reply_to) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  q.bind(1, row.conversation_id);
  q.bind(2, row.sender);
  q.bind(3, row.recipient);
  q.bind(4, row.body);
  q.bind(5, row.action_type);
  q.bind(6, row.files_json);
  q.bind(7, row.redactions_json);
  q.bind(8, row.created_ms);
  if (row.read_ms) {
    q.bind(9, *row.read_ms);
  } else {
    q.bind(9);  // NULL, as the column's default
  }
  if (row.reply_to) {
    q.bind(10, *row.reply_to);
  } else {
    q.bind(10);
  }
  q.exec();
  return db_.db().getLastInsertRowid();
}

std::int64_t SqliteMessages::insert_if_current(const MessageRow& row, const std::string& member_key,
                                               std::int64_t now_ms) {
  // One writer: nothing changes between the check and the insert.
  auto& q =
      db_.stmt("SELECT 1 FROM conversations WHERE id = ? AND member_key = ? AND expires_ms > ?");
  q.bind(1, row.conversation_id);
  q.bind(2, member_key);
  q.bind(3, now_ms);
  const bool current = q.executeStep();
  q.reset();
  return current ? insert(row) : 0;
}

std::optional<MessageRow> SqliteMessages::find(std::int64_t id) {
  auto& q = db_.stmt(std::string("SELECT ") + kMessageColumns + " FROM messages WHERE id = ?");
  q.bind(1, id);
  if (!q.executeStep()) return std::nullopt;
  MessageRow m = detail::read_message(q);
  q.tryReset();
  return m;
}

std::vector<MessageRow> SqliteMessages::unread(const std::string& conv, const std::string& recipient,
                                         std::int64_t limit) {
  auto& q = db_.stmt(std::string("SELECT ") + kMessageColumns +
                     " FROM messages WHERE conversation_id = ? AND recipient = ? AND read_ms IS NULL"
                     " ORDER BY id LIMIT ?");
  q.bind(1, conv);
  q.bind(2, recipient);
  q.bind(3, limit);
  std::vector<MessageRow> out;
  while (q.executeStep()) out.push_back(detail::read_message(q));
  return out;
}

std::vector<MessageRow> SqliteMessages::after(const std::string& conv, const std::string& recipient,
                                        std::int64_t after_id, std::int64_t limit) {
  auto& q = db_.stmt(std::string("SELECT ") + kMessageColumns +
                     " FROM messages WHERE conversation_id = ? AND recipient = ? AND id > ?"
                     " ORDER BY id LIMIT ?");
  q.bind(1, conv);
  q.bind(2, recipient);
  q.bind(3, after_id);
  q.bind(4, limit);
  std::vector<MessageRow> out;
  while (q.executeStep()) out.push_back(detail::read_message(q));
  return out;
}

void SqliteMessages::mark_read(const std::vector<std::int64_t>& ids, std::int64_t now_ms) {
  for (const std::int64_t id : ids) {
    auto& q = db_.stmt("UPDATE messages SET read_ms = ? WHERE id = ? AND read_ms IS NULL");
    q.bind(1, now_ms);
    q.bind(2, id);
    q.exec();
  }
}

std::int64_t SqliteMessages::unmark_read(const std::string& conv, const std::string& recipient,
                                   std::int64_t after_id, std::int64_t up_to_id,
                                   std::int64_t marked_ms) {
  auto& q = db_.stmt(
      "UPDATE messages SET read_ms = NULL WHERE conversation_id = ? AND recipient = ?"
      " AND read_ms = ? AND id > ? AND id <= ?");
  q.bind(1, conv);
  q.bind(2, recipient);
  q.bind(3, marked_ms);
  q.bind(4, after_id);
  q.bind(5, up_to_id);
  return q.exec();
}

std::int64_t SqliteMessages::unread_count(const std::string& conv, const std::string& recipient) {
  auto& q = db_.stmt(
      "SELECT COUNT(*) FROM messages WHERE conversation_id = ? AND recipient = ?"
      " AND read_ms IS NULL");
  q.bind(1, conv);
  q.bind(2, recipient);
  q.executeStep();
  return q.getColumn(0).getInt64();
}

std::vector<std::int64_t> SqliteMessages::sent_since(const std::string& conv, const std::string& sender,
                                               const std::vector<std::int64_t>& since_ms) {
  std::vector<std::int64_t> counts;
  for (std::int64_t since : since_ms) {
    auto& q = db_.stmt(
        "SELECT COUNT(*) FROM messages WHERE conversation_id = ? AND sender = ?"
        " AND created_ms >= ?");
    q.bind(1, conv);
    q.bind(2, sender);
    q.bind(3, since);
    q.executeStep();
    counts.push_back(q.getColumn(0).getInt64());
  }
  return counts;
}

std::optional<std::int64_t> SqliteMessages::nth_sent_time(const std::string& conv,
                                                    const std::string& sender,
                                                    std::int64_t since_ms, std::int64_t n) {
  auto& q = db_.stmt(
      "SELECT created_ms FROM messages WHERE conversation_id = ? AND sender = ?"
      " AND created_ms >= ? ORDER BY created_ms LIMIT 1 OFFSET ?");
  q.bind(1, conv);
  q.bind(2, sender);
  q.bind(3, since_ms);
  q.bind(4, n);
  if (!q.executeStep()) return std::nullopt;
  return q.getColumn(0).getInt64();
}

std::vector<MessageRow> SqliteMessages::all(const std::string& conv) {
  auto& q = db_.stmt(std::string("SELECT ") + kMessageColumns +
                     " FROM messages WHERE conversation_id = ? ORDER BY id");
  q.bind(1, conv);
  std::vector<MessageRow> out;
  while (q.executeStep()) out.push_back(detail::read_message(q));
  return out;
}

void SqliteMessages::for_each_after(const std::string& conv, std::int64_t after_id,
                              const std::function<bool(MessageRow&&)>& fn) {
  auto& q = db_.stmt(std::string("SELECT ") + kMessageColumns +
                     " FROM messages WHERE conversation_id = ? AND id > ? ORDER BY id");
  q.bind(1, conv);
  q.bind(2, after_id);
  while (q.executeStep()) {
    if (!fn(detail::read_message(q))) break;
  }
  q.reset();
}

std::int64_t SqliteMessages::count() {
  auto& q = db_.stmt("SELECT COUNT(*) FROM messages");
  q.executeStep();
  return q.getColumn(0).getInt64();
}

void SqliteStatuses::upsert(const std::string& conv, const std::string& session,
                      const std::string& status, std::int64_t heartbeat_ms) {
  auto& q = db_.stmt(
      "INSERT INTO statuses (conversation_id, session, status, heartbeat_ms) VALUES (?, ?, ?, ?)"
      " ON CONFLICT (conversation_id, session) DO UPDATE SET status = excluded.status,"
      " heartbeat_ms = excluded.heartbeat_ms");
  q.bind(1, conv);
  q.bind(2, session);
  q.bind(3, status);
  q.bind(4, heartbeat_ms);
  q.exec();
}

std::optional<StatusRow> SqliteStatuses::find(const std::string& conv, const std::string& session) {
  auto& q = db_.stmt(
      "SELECT status, heartbeat_ms FROM statuses WHERE conversation_id = ? AND session = ?");
  q.bind(1, conv);
  q.bind(2, session);
  if (!q.executeStep()) return std::nullopt;
  return StatusRow{q.getColumn(0).getString(), q.getColumn(1).getInt64()};
}

std::vector<SessionStatus> SqliteStatuses::of(const std::string& conv) {
  auto& q = db_.stmt(
      "SELECT session, status, heartbeat_ms FROM statuses WHERE conversation_id = ?"
      " ORDER BY session");
  q.bind(1, conv);
  std::vector<SessionStatus> out;
  while (q.executeStep()) {
    out.push_back(SessionStatus{q.getColumn(0).getString(),
                                StatusRow{q.getColumn(1).getString(), q.getColumn(2).getInt64()}});
  }
  return out;
}

void SqliteAuditTable::insert(const AuditRow& row) {
  auto& q = db_.stmt(
      "INSERT INTO audit (ts_ms, conversation_id, session_id, action, outcome, details_json,"
      " prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  q.bind(1, row.ts_ms);
  if (row.conversation_id.empty()) q.bind(2); else q.bind(2, row.conversation_id);
  if (row.session_id.empty()) q.bind(3); else q.bind(3, row.session_id);
  q.bind(4, row.action);
  q.bind(5, row.outcome);
  q.bind(6, row.details_json);
  q.bind(7, row.prev_hash);
  q.bind(8, row.hash);
  q.exec();
}

std::optional<std::string> SqliteAuditTable::last_hash() {
  auto& q = db_.stmt("SELECT hash FROM audit ORDER BY id DESC LIMIT 1");
  if (!q.executeStep()) return std::nullopt;
  return q.getColumn(0).getString();
}

namespace {
AuditRow read_audit(SQLite::Statement& q) {
  AuditRow r;
  r.id = q.getColumn(0).getInt64();
  r.ts_ms = q.getColumn(1).getInt64();
  r.conversation_id = q.getColumn(2).isNull() ? "" : q.getColumn(2).getString();
  r.session_id = q.getColumn(3).isNull() ? "" : q.getColumn(3).getString();
  r.action = q.getColumn(4).getString();
  r.outcome = q.getColumn(5).getString();
  r.details_json = q.getColumn(6).getString();
  r.prev_hash = q.getColumn(7).getString();
  r.hash = q.getColumn(8).getString();
  return r;
}
constexpr const char* kAuditColumns =
    "id, ts_ms, conversation_id, session_id, action, outcome, details_json, prev_hash, hash";
}  // namespace

std::vector<AuditRow> SqliteAuditTable::newest(const std::string& conv, std::int64_t limit) {
  std::vector<AuditRow> out;
  if (conv.empty()) {
    auto& q = db_.stmt(std::string("SELECT ") + kAuditColumns + " FROM audit ORDER BY id DESC LIMIT ?");
    q.bind(1, limit);
    while (q.executeStep()) out.push_back(read_audit(q));
  } else {
    auto& q = db_.stmt(std::string("SELECT ") + kAuditColumns +
                       " FROM audit WHERE conversation_id = ? ORDER BY id DESC LIMIT ?");
    q.bind(1, conv);
    q.bind(2, limit);
    while (q.executeStep()) out.push_back(read_audit(q));
  }
  return out;
}

void SqliteAuditTable::for_each(const std::function<bool(const AuditRow&)>& fn) {
  SQLite::Statement q(db_.db(), std::string("SELECT ") + kAuditColumns + " FROM audit ORDER BY id");
  while (q.executeStep()) {
    if (!fn(read_audit(q))) break;
  }
}

}  // namespace cb::store
