// Conversations, messages, statuses and the audit chain on PostgreSQL (pg_tables.h); the
// queries of daemon/store/tables.cpp with $n parameters.
#include "daemon/store/pg/pg_tables.h"

#include <string>
#include <utility>

namespace cb::store::pg {
namespace {

// Rows fetched per round trip by the for_each methods: pages of `id > last ORDER BY id LIMIT`,
// so no statement or transaction stays open while the caller's function runs.
constexpr std::int64_t kPage = 256;

constexpr const char* kConversationColumns =
    "id, role_a, role_b, nonce, created_ms, expires_ms, exec_mode, exec_json, kind, member_key";

ConversationRow read_conversation(const Rows& rows, int r) {
  ConversationRow c;
  c.id = rows.text(r, 0);
  c.role_a = rows.text(r, 1);
  c.role_b = rows.text(r, 2);
  c.nonce = rows.bytea(r, 3);
  c.created_ms = rows.int64(r, 4);
  c.expires_ms = rows.int64(r, 5);
  c.exec_mode = rows.text(r, 6);
  c.exec_json = rows.text(r, 7);
  c.kind = rows.text(r, 8);
  if (!rows.is_null(r, 9)) c.member_key = rows.text(r, 9);
  return c;
}

std::optional<ConversationRow> first_conversation(const Rows& rows) {
  if (rows.empty()) return std::nullopt;
  return read_conversation(rows, 0);
}

constexpr const char* kAuditColumns =
    "id, ts_ms, conversation_id, session_id, action, outcome, details_json, prev_hash, hash";

AuditRow read_audit(const Rows& rows, int r) {
  AuditRow a;
  a.id = rows.int64(r, 0);
  a.ts_ms = rows.int64(r, 1);
  a.conversation_id = rows.is_null(r, 2) ? "" : rows.text(r, 2);
  a.session_id = rows.is_null(r, 3) ? "" : rows.text(r, 3);
  a.action = rows.text(r, 4);
  a.outcome = rows.text(r, 5);
  a.details_json = rows.text(r, 6);
  a.prev_hash = rows.text(r, 7);
  a.hash = rows.text(r, 8);
  return a;
}

std::string select_from(const char* columns, const char* rest) {
  return std::string("SELECT ") + columns + rest;
}

}  // namespace

namespace detail {

MessageRow read_message(const Rows& rows, int r) {
  MessageRow m;
  m.id = rows.int64(r, 0);
  m.conversation_id = rows.text(r, 1);
  m.sender = rows.text(r, 2);
  m.recipient = rows.text(r, 3);
  m.body = rows.text(r, 4);
  m.action_type = rows.text(r, 5);
  m.files_json = rows.text(r, 6);
  m.redactions_json = rows.text(r, 7);
  m.created_ms = rows.int64(r, 8);
  m.read_ms = rows.opt_int64(r, 9);
  m.reply_to = rows.opt_int64(r, 10);
  return m;
}

std::vector<MessageRow> read_messages(const Rows& rows) {
  std::vector<MessageRow> out;
  out.reserve(static_cast<std::size_t>(rows.size()));
  for (int r = 0; r < rows.size(); ++r) out.push_back(read_message(rows, r));
  return out;
}

std::string bigint_array(const std::vector<std::int64_t>& values) {
  std::string out = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    out += std::to_string(values[i]);
  }
  out += '}';
  return out;
}

Param text_or_null(const std::string& s) {
  if (s.empty()) return Param(nullptr);
  return Param(s);
}

}  // namespace detail

// --- conversations ---

void PgConversations::insert(const ConversationRow& row) {
  static const std::string kSql =
      "INSERT INTO conversations (id, role_a, role_b, nonce, created_ms, expires_ms, exec_mode,"
      " exec_json, kind, member_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
  db_.connection().query(kSql, {row.id, row.role_a, row.role_b, Param::bytes(row.nonce),
                                row.created_ms, row.expires_ms, row.exec_mode, row.exec_json,
                                row.kind, detail::text_or_null(row.member_key)});
}

std::optional<ConversationRow> PgConversations::find(const std::string& id) {
  static const std::string kSql =
      select_from(kConversationColumns, " FROM conversations WHERE id = $1");
  return first_conversation(db_.connection().query(kSql, {id}));
}

bool PgConversations::exists(const std::string& id) {
  static const std::string kSql = "SELECT 1 FROM conversations WHERE id = $1";
  return !db_.connection().query(kSql, {id}).empty();
}

std::vector<ConversationSummary> PgConversations::list() {
  // One query; each count one range of messages_by_recipient / messages_unread.
  static const std::string kSql =
      "SELECT c.id, c.role_a, c.role_b, c.nonce, c.created_ms, c.expires_ms, c.exec_mode,"
      " c.exec_json, c.kind, c.member_key,"
      " (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id),"
      " (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id AND m.recipient = 'a'"
      "  AND m.read_ms IS NULL),"
      " (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id AND m.recipient = 'b'"
      "  AND m.read_ms IS NULL)"
      " FROM conversations c ORDER BY c.created_ms, c.id";
  const Rows rows = db_.connection().query(kSql);
  std::vector<ConversationSummary> out;
  out.reserve(static_cast<std::size_t>(rows.size()));
  for (int r = 0; r < rows.size(); ++r) {
    ConversationSummary s;
    s.row = read_conversation(rows, r);
    s.messages = rows.int64(r, 10);
    s.unread_a = rows.int64(r, 11);
    s.unread_b = rows.int64(r, 12);
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<std::string> PgConversations::expired_before(std::int64_t before_ms) {
  static const std::string kSql =
      "SELECT id FROM conversations WHERE expires_ms < $1 ORDER BY expires_ms";
  const Rows rows = db_.connection().query(kSql, {before_ms});
  std::vector<std::string> ids;
  for (int r = 0; r < rows.size(); ++r) ids.push_back(rows.text(r, 0));
  return ids;
}

bool PgConversations::remove(const std::string& id) {
  static const std::string kSql = "DELETE FROM conversations WHERE id = $1";
  return db_.connection().query(kSql, {id}).affected() > 0;
}

void PgConversations::set_exec(const std::string& id, const std::string& mode,
                               const std::string& json) {
  static const std::string kSql =
      "UPDATE conversations SET exec_mode = $1, exec_json = $2 WHERE id = $3";
  db_.connection().query(kSql, {mode, json, id});
}

std::int64_t PgConversations::count() {
  static const std::string kSql = "SELECT COUNT(*) FROM conversations";
  return db_.connection().query(kSql).int64(0, 0);
}

std::optional<ConversationRow> PgConversations::by_members(const std::string& member_key) {
  static const std::string kSql =
      select_from(kConversationColumns, " FROM conversations WHERE member_key = $1");
  return first_conversation(db_.connection().query(kSql, {member_key}));
}

void PgConversations::set_expiry(const std::string& id, std::int64_t expires_ms) {
  static const std::string kSql = "UPDATE conversations SET expires_ms = $1 WHERE id = $2";
  db_.connection().query(kSql, {expires_ms, id});
}

void PgConversations::retire_member_key(const std::string& id) {
  static const std::string kSql = "UPDATE conversations SET member_key = NULL WHERE id = $1";
  db_.connection().query(kSql, {id});
}

// --- messages ---

std::optional<MessageRow> PgMessages::find(std::int64_t id) {
  static const std::string kSql =
      select_from(detail::kMessageColumns, " FROM messages WHERE id = $1");
  const Rows rows = db_.connection().query(kSql, {id});
  if (rows.empty()) return std::nullopt;
  return detail::read_message(rows, 0);
}

namespace {
const char* const kInsertMessage =
    "INSERT INTO messages (conversation_id, sender, recipient, body, action_type, files_json,"
    " redactions_json, created_ms, read_ms, reply_to)";
// After "RETURNING": the new row's id, and its announcement ($11: this daemon's id).
const char* const kAnnounced =
    "id, conversation_id, sender, recipient)"
    " SELECT id, pg_notify('cb_mail', concat_ws(E'\\t', $11::text, conversation_id, id, sender,"
    " recipient, CASE WHEN recipient = '*' THEN (SELECT string_agg(agent, ',' ORDER BY agent)"
    " FROM members WHERE members.conversation_id = m.conversation_id AND seat = '') END))"
    " FROM m";

// The message's INSERT … RETURNING kAnnounced, stored only when its conversation ($1) has a row
// matching `also` (empty: exists at all), checked in the same statement.
std::string insert_if(const std::string& also) {
  return std::string("WITH m AS (") + kInsertMessage +
         " SELECT $1, $2, $3, $4, $5, $6, $7, $8::bigint, $9::bigint, $10::bigint"
         " WHERE EXISTS (SELECT 1 FROM conversations c WHERE c.id = $1" +
         (also.empty() ? "" : " AND " + also) + ") RETURNING " + kAnnounced;
}
// Still by `member_key` ($12) and live at now_ms ($13).
const std::string kInsertCurrent = insert_if("c.member_key = $12 AND c.expires_ms > $13::bigint");
const std::string kInsertExisting = insert_if("");

// $1 … $11 of the message's INSERT.
std::vector<Param> message_params(const MessageRow& row, const std::string& daemon_id) {
  return {row.conversation_id,
          row.sender,
          row.recipient,
          row.body,
          row.action_type,
          row.files_json,
          row.redactions_json,
          row.created_ms,
          row.read_ms,
          row.reply_to,
          daemon_id};
}
}  // namespace

std::int64_t PgMessages::insert(const MessageRow& row) {
  // The announcement travels with the insert (one round trip): daemon_id TAB conversation_id
  // TAB id TAB sender TAB recipient, and for a conversation of agents (recipient "*") TAB its
  // members, comma-separated (at most 50 names of 32: far below NOTIFY's 8,000 bytes), so the
  // other daemons wake their waiters without reading anything; the listener (pg_listen.cpp)
  // parses it into a MailNotice. NOTIFY reaches listeners only when the transaction commits,
  // and not at all if it (or the savepoint of this call) rolls back.
  static const std::string kSql = std::string("WITH m AS (") + kInsertMessage +
                                  " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING " +
                                  kAnnounced;
  return db_.connection()
      .query(kSql, message_params(row, db_.options().self.daemon_id))
      .int64(0, 0);
}

std::int64_t PgMessages::insert_if_current(const MessageRow& row, const std::string& member_key,
                                           std::int64_t now_ms) {
  // The check runs after the team's lock (queued before this write), so it sees every commit
  // of the other daemons.
  std::vector<Param> params = message_params(row, db_.options().self.daemon_id);
  params.emplace_back(member_key);
  params.emplace_back(now_ms);
  const Rows rows = db_.connection().query(kInsertCurrent, params);
  return rows.empty() ? 0 : rows.int64(0, 0);
}

void PgMessages::insert_at_commit(const MessageRow& row, const std::string& member_key,
                                  std::int64_t now_ms, std::function<void(std::int64_t)> stored) {
  if (!db_.in_group()) {
    Messages::insert_at_commit(row, member_key, now_ms, std::move(stored));
    return;
  }
  std::vector<Param> params = message_params(row, db_.options().self.daemon_id);
  if (!member_key.empty()) {
    params.emplace_back(member_key);
    params.emplace_back(now_ms);
  }
  db_.defer_to_commit(
      member_key.empty() ? kInsertExisting : kInsertCurrent, std::move(params),
      [stored = std::move(stored)](const Rows& rows) {
        stored(rows.empty() ? 0 : rows.int64(0, 0));
      },
      detail::sent_by(row.conversation_id, row.sender));
}

std::vector<MessageRow> PgMessages::unread(const std::string& conv, const std::string& recipient,
                                           std::int64_t limit) {
  static const std::string kSql =
      select_from(detail::kMessageColumns,
                  " FROM messages WHERE conversation_id = $1 AND recipient = $2"
                  " AND recipient <> '*' AND read_ms IS NULL ORDER BY id LIMIT $3");
  return detail::read_messages(db_.connection().query(kSql, {conv, recipient, limit}));
}

std::vector<MessageRow> PgMessages::after(const std::string& conv, const std::string& recipient,
                                          std::int64_t after_id, std::int64_t limit) {
  static const std::string kSql =
      select_from(detail::kMessageColumns,
                  " FROM messages WHERE conversation_id = $1 AND recipient = $2 AND id > $3"
                  " ORDER BY id LIMIT $4");
  return detail::read_messages(db_.connection().query(kSql, {conv, recipient, after_id, limit}));
}

void PgMessages::mark_read(const std::vector<std::int64_t>& ids, std::int64_t now_ms) {
  if (ids.empty()) return;
  // One statement (PostgreSQL has no two-pass update to avoid).
  static const std::string kSql =
      "UPDATE messages SET read_ms = $1 WHERE id = ANY($2::bigint[]) AND read_ms IS NULL";
  db_.connection().query(kSql, {now_ms, detail::bigint_array(ids)});
}

std::int64_t PgMessages::unmark_read(const std::string& conv, const std::string& recipient,
                                     std::int64_t after_id, std::int64_t up_to_id,
                                     std::int64_t marked_ms) {
  static const std::string kSql =
      "UPDATE messages SET read_ms = NULL WHERE conversation_id = $1 AND recipient = $2"
      " AND read_ms = $3 AND id > $4 AND id <= $5";
  return db_.connection().query(kSql, {conv, recipient, marked_ms, after_id, up_to_id}).affected();
}

namespace {
const char* const kUnreadCountSql =
    "SELECT COUNT(*) FROM messages WHERE conversation_id = $1 AND recipient = $2"
    " AND recipient <> '*' AND read_ms IS NULL";
}  // namespace

std::int64_t PgMessages::unread_count(const std::string& conv, const std::string& recipient) {
  return db_.connection().query(kUnreadCountSql, {conv, recipient}).int64(0, 0);
}

void PgMessages::unread_count_soon(const std::string& conv, const std::string& recipient,
                                   std::function<void(std::int64_t)> done) {
  db_.connection().defer(kUnreadCountSql, {conv, recipient},
                         [done = std::move(done)](const Rows& rows) { done(rows.int64(0, 0)); });
  db_.send_queue_soon();
}

std::vector<std::int64_t> PgMessages::sent_since(const std::string& conv, const std::string& sender,
                                                 const std::vector<std::int64_t>& since_ms) {
  if (since_ms.empty()) return {};
  db_.reading(detail::sent_by(conv, sender));
  // Every window in one round trip: a count (one range of messages_by_sender_time) per given
  // time, in the order given.
  static const std::string kSql =
      "SELECT (SELECT COUNT(*) FROM messages WHERE conversation_id = $1 AND sender = $2"
      " AND created_ms >= t.since) FROM unnest($3::bigint[]) WITH ORDINALITY AS t(since, n)"
      " ORDER BY t.n";
  const Rows rows = db_.connection().query(kSql, {conv, sender, detail::bigint_array(since_ms)});
  std::vector<std::int64_t> counts;
  counts.reserve(since_ms.size());
  for (int r = 0; r < rows.size(); ++r) counts.push_back(rows.int64(r, 0));
  return counts;
}

std::optional<std::int64_t> PgMessages::nth_sent_time(const std::string& conv,
                                                      const std::string& sender,
                                                      std::int64_t since_ms, std::int64_t n) {
  static const std::string kSql =
      "SELECT created_ms FROM messages WHERE conversation_id = $1 AND sender = $2"
      " AND created_ms >= $3 ORDER BY created_ms LIMIT 1 OFFSET $4";
  db_.reading(detail::sent_by(conv, sender));
  const Rows rows = db_.connection().query(kSql, {conv, sender, since_ms, n});
  if (rows.empty()) return std::nullopt;
  return rows.int64(0, 0);
}

std::vector<MessageRow> PgMessages::all(const std::string& conv) {
  static const std::string kSql =
      select_from(detail::kMessageColumns, " FROM messages WHERE conversation_id = $1 ORDER BY id");
  return detail::read_messages(db_.connection().query(kSql, {conv}));
}

void PgMessages::for_each_after(const std::string& conv, std::int64_t after_id,
                                const std::function<bool(MessageRow&&)>& fn) {
  static const std::string kSql =
      select_from(detail::kMessageColumns,
                  " FROM messages WHERE conversation_id = $1 AND id > $2 ORDER BY id LIMIT $3");
  std::int64_t last = after_id;
  for (;;) {
    const Rows rows = db_.connection().query(kSql, {conv, last, kPage});
    for (int r = 0; r < rows.size(); ++r) {
      MessageRow m = detail::read_message(rows, r);
      last = m.id;
      if (!fn(std::move(m))) return;
    }
    if (rows.size() < kPage) return;
  }
}

std::int64_t PgMessages::count() {
  static const std::string kSql = "SELECT COUNT(*) FROM messages";
  return db_.connection().query(kSql).int64(0, 0);
}

// --- statuses ---

void PgStatuses::upsert(const std::string& conv, const std::string& session,
                        const std::string& status, std::int64_t heartbeat_ms) {
  static const std::string kSql =
      "INSERT INTO statuses (conversation_id, session, status, heartbeat_ms)"
      " VALUES ($1, $2, $3, $4) ON CONFLICT (conversation_id, session) DO UPDATE"
      " SET status = EXCLUDED.status, heartbeat_ms = EXCLUDED.heartbeat_ms";
  db_.connection().query(kSql, {conv, session, status, heartbeat_ms});
}

std::optional<StatusRow> PgStatuses::find(const std::string& conv, const std::string& session) {
  static const std::string kSql =
      "SELECT status, heartbeat_ms FROM statuses WHERE conversation_id = $1 AND session = $2";
  const Rows rows = db_.connection().query(kSql, {conv, session});
  if (rows.empty()) return std::nullopt;
  return StatusRow{rows.text(0, 0), rows.int64(0, 1)};
}

std::vector<SessionStatus> PgStatuses::of(const std::string& conv) {
  static const std::string kSql =
      "SELECT session, status, heartbeat_ms FROM statuses WHERE conversation_id = $1"
      " ORDER BY session";
  const Rows rows = db_.connection().query(kSql, {conv});
  std::vector<SessionStatus> out;
  for (int r = 0; r < rows.size(); ++r) {
    out.push_back(SessionStatus{rows.text(r, 0), StatusRow{rows.text(r, 1), rows.int64(r, 2)}});
  }
  return out;
}

// --- audit ---

void PgAuditTable::insert(const AuditRow& row) {
  static const std::string kSql =
      "INSERT INTO audit (ts_ms, conversation_id, session_id, action, outcome, details_json,"
      " prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
  std::vector<Param> params{row.ts_ms,
                            detail::text_or_null(row.conversation_id),
                            detail::text_or_null(row.session_id),
                            row.action,
                            row.outcome,
                            row.details_json,
                            row.prev_hash,
                            row.hash};
  const std::uint64_t scope = db_.chain_scope();
  if (scope == 0) {
    db_.connection().query(kSql, params);
    return;
  }
  // In a write transaction: queued, it travels with the transaction's next statement.
  db_.connection().defer(kSql, std::move(params));
  head_ = row.hash;
  head_scope_ = scope;
}

namespace {
const std::string kHeadSql = "SELECT hash FROM audit ORDER BY id DESC LIMIT 1";
}  // namespace

void PgAuditTable::keep_head(const Rows& rows, std::uint64_t scope) {
  head_ = rows.empty() ? std::nullopt : std::optional<std::string>(rows.text(0, 0));
  head_scope_ = scope;
}

void PgAuditTable::prefetch_head() {
  const std::uint64_t scope = db_.chain_scope();
  prefetch_scope_ = scope;
  db_.connection().defer(kHeadSql, {},
                         [this, scope](const Rows& rows) { keep_head(rows, scope); });
}

std::optional<std::string> PgAuditTable::last_hash() {
  // The lock is taken in a statement before the read, so the read's snapshot sees every append
  // committed while it waited.
  const std::uint64_t scope = db_.chain_scope();
  if (scope == 0) {
    db_.connection().query(kTeamLockSql);  // for this statement only
  } else {
    db_.take_write_lock();  // queues the head's read too, unless the lock is held already
    if (scope != head_scope_ && scope == prefetch_scope_) db_.connection().send_deferred();
    if (scope == head_scope_) return head_;
  }
  keep_head(db_.connection().query(kHeadSql), scope);
  return head_;
}

std::vector<AuditRow> PgAuditTable::newest(const std::string& conv, std::int64_t limit) {
  static const std::string kAll =
      select_from(kAuditColumns, " FROM audit ORDER BY id DESC LIMIT $1");
  static const std::string kOne = select_from(
      kAuditColumns, " FROM audit WHERE conversation_id = $1 ORDER BY id DESC LIMIT $2");
  const Rows rows = conv.empty() ? db_.connection().query(kAll, {limit})
                                 : db_.connection().query(kOne, {conv, limit});
  std::vector<AuditRow> out;
  out.reserve(static_cast<std::size_t>(rows.size()));
  for (int r = 0; r < rows.size(); ++r) out.push_back(read_audit(rows, r));
  return out;
}

void PgAuditTable::for_each(const std::function<bool(const AuditRow&)>& fn) {
  static const std::string kSql =
      select_from(kAuditColumns, " FROM audit WHERE id > $1 ORDER BY id LIMIT $2");
  std::int64_t last = 0;
  for (;;) {
    const Rows rows = db_.connection().query(kSql, {last, kPage});
    for (int r = 0; r < rows.size(); ++r) {
      const AuditRow a = read_audit(rows, r);
      last = a.id;
      if (!fn(a)) return;
    }
    if (rows.size() < kPage) return;
  }
}

}  // namespace cb::store::pg
