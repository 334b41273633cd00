// Named agents, members and an agent's inbox across its conversations on PostgreSQL
// (pg_tables.h); the queries of daemon/store/agent_tables.cpp with $n parameters.
#include <algorithm>
#include <climits>
#include <cstdlib>
#include <string>

#include "daemon/store/pg/pg_tables.h"

namespace cb::store::pg {
namespace {

// detail::kMessageColumns of the alias m, read by detail::read_message.
const std::string kColumns =
    "m.id, m.conversation_id, m.sender, m.recipient, m.body, m.action_type, m.files_json, "
    "m.redactions_json, m.created_ms, m.read_ms, m.reply_to";
// The same with the body cut to $4 characters (agent_unread_after).
const std::string kCutColumns =
    "m.id, m.conversation_id, m.sender, m.recipient, left(m.body, $4::int), m.action_type, "
    "m.files_json, m.redactions_json, m.created_ms, m.read_ms, m.reply_to";

// The messages of the membership `me` that match `where`, oldest first, at most `limit`
// (empty: all), as the relation m: one index range per membership. A LATERAL subquery ordered
// by id, because the indexes it should use give that order: the generic plan PostgreSQL keeps
// for a prepared statement is made early in a daemon's life, on nearly empty tables, and as a
// plain join it could take messages_by_sender_time instead, whose range (the conversation)
// grows with every message — the team bench's inbox reads grew five times slower within one
// run so.
std::string member_messages(const std::string& columns, const std::string& where,
                            const std::string& limit) {
  return " CROSS JOIN LATERAL (SELECT " + columns +
         " FROM messages m WHERE m.conversation_id = me.conversation_id AND " + where +
         " ORDER BY m.id" + (limit.empty() ? "" : " LIMIT " + limit) + ") m";
}

// Those to '*' with id > `after`, not the agent's own ($1): messages_by_recipient
// (conversation, '*', id).
std::string star_messages(const std::string& columns, const std::string& after,
                          const std::string& limit) {
  return member_messages(columns, "m.recipient = '*' AND m.id > " + after + " AND m.sender != $1",
                         limit);
}

// Those unread to the joined seat of `me`, with id > `after` (empty: any): messages_unread
// (conversation, seat, id, of unread token messages only).
std::string seat_messages(const std::string& columns, const std::string& after,
                          const std::string& limit) {
  return member_messages(columns,
                         "m.recipient = me.seat AND m.recipient <> '*' AND m.read_ms IS NULL" +
                             (after.empty() ? "" : " AND m.id > " + after),
                         limit);
}

constexpr const char* kAgentColumns =
    "name, project, client, client_session_id, status, note, status_ms, created_ms, last_seen_ms,"
    " host, daemon_id, heartbeat_ms";

AgentRow read_agent(const Rows& rows, int r) {
  AgentRow a;
  a.name = rows.text(r, 0);
  a.project = rows.text(r, 1);
  a.client = rows.text(r, 2);
  a.client_session_id = rows.text(r, 3);
  a.status = rows.text(r, 4);
  a.note = rows.text(r, 5);
  a.status_ms = rows.int64(r, 6);
  a.created_ms = rows.int64(r, 7);
  a.last_seen_ms = rows.int64(r, 8);
  a.host = rows.text(r, 9);
  a.daemon_id = rows.text(r, 10);
  a.heartbeat_ms = rows.int64(r, 11);
  return a;
}

constexpr const char* kMemberColumns = "agent, conversation_id, seat, read_up_to, joined_ms";

MemberRow read_member(const Rows& rows, int r) {
  MemberRow m;
  m.agent = rows.text(r, 0);
  m.conversation_id = rows.text(r, 1);
  m.seat = rows.text(r, 2);
  m.read_up_to = rows.int64(r, 3);
  m.joined_ms = rows.int64(r, 4);
  return m;
}

std::vector<MemberRow> read_members(const Rows& rows) {
  std::vector<MemberRow> out;
  for (int r = 0; r < rows.size(); ++r) out.push_back(read_member(rows, r));
  return out;
}

std::string agent_select(const char* columns, const char* rest) {
  return std::string("SELECT ") + columns + rest;
}

// An agent's joined token seats (Members::seats_of, Inboxes::wait_start).
const std::string& seats_sql() {
  static const std::string kSql = agent_select(
      kMemberColumns, " FROM members WHERE agent = $1 AND seat != '' ORDER BY conversation_id");
  return kSql;
}

}  // namespace

// --- inboxes ---

std::vector<MessageRow> PgInboxes::agent_inbox(const std::string& agent, std::int64_t after_id,
                                               std::int64_t limit) {
  db_.reading(detail::positions_of(agent));
  // One index range per conversation (messages_by_recipient: conversation, '*', id), merged
  // in id order.
  static const std::string kAfter = "SELECT " + kColumns + " FROM members me" +
                                    star_messages(kColumns, "$3", "$2") +
                                    " WHERE me.agent = $1 AND me.seat = '' ORDER BY m.id LIMIT $2";
  static const std::string kUnread = "SELECT " + kColumns + " FROM members me" +
                                     star_messages(kColumns, "me.read_up_to", "$2") +
                                     " WHERE me.agent = $1 AND me.seat = '' ORDER BY m.id LIMIT $2";
  return detail::read_messages(after_id > 0
                                   ? db_.connection().query(kAfter, {agent, limit, after_id})
                                   : db_.connection().query(kUnread, {agent, limit}));
}

std::vector<MessageRow> PgInboxes::seat_inbox(const std::string& agent, std::int64_t limit) {
  static const std::string kSql = "SELECT " + kColumns + " FROM members me" +
                                  seat_messages(kColumns, "", "$2") +
                                  " WHERE me.agent = $1 AND me.seat != '' ORDER BY m.id LIMIT $2";
  return detail::read_messages(db_.connection().query(kSql, {agent, limit}));
}

std::vector<MessageRow> PgInboxes::whole_inbox(const std::string& agent, std::int64_t limit) {
  db_.reading(detail::positions_of(agent));
  // agent_inbox's ranges (after each read position) and seat_inbox's (unread to each joined
  // seat) in one statement, one round trip whatever the memberships (SQLite's shortcut for a
  // sole membership saves a sort there; here it would cost a second round trip).
  static const std::string kSql =
      "SELECT " + kColumns + " FROM members me" + star_messages(kColumns, "me.read_up_to", "$2") +
      " WHERE me.agent = $1 AND me.seat = ''"
      " UNION ALL SELECT " +
      kColumns + " FROM members me" + seat_messages(kColumns, "", "$2") +
      " WHERE me.agent = $1 AND me.seat != '' ORDER BY 1 LIMIT $2";
  return detail::read_messages(db_.connection().query(kSql, {agent, limit}));
}

std::vector<MessageRow> PgInboxes::conversation_inbox(const std::string& conv,
                                                      const std::string& agent,
                                                      std::int64_t after_id, std::int64_t limit) {
  db_.reading(detail::positions_of(agent));
  // After the read position when after_id is 0, else after after_id (SQLite's
  // MAX(read_up_to * (after_id = 0), after_id)).
  static const std::string kSql =
      "SELECT " + kColumns + " FROM members me" +
      star_messages(kColumns,
                    "GREATEST(CASE WHEN $3::bigint = 0 THEN me.read_up_to ELSE 0 END, $3::bigint)",
                    "$2") +
      " WHERE me.agent = $1 AND me.conversation_id = $4 AND me.seat = '' ORDER BY m.id LIMIT $2";
  return detail::read_messages(db_.connection().query(kSql, {agent, limit, after_id, conv}));
}

std::optional<std::string> PgInboxes::conversation_of(std::int64_t message_id) {
  static const std::string kSql = "SELECT conversation_id FROM messages WHERE id = $1";
  const Rows rows = db_.connection().query(kSql, {message_id});
  if (rows.empty()) return std::nullopt;
  return rows.text(0, 0);
}

std::int64_t PgInboxes::unmark_ids(const std::vector<std::int64_t>& ids, std::int64_t marked_ms) {
  if (ids.empty()) return 0;
  static const std::string kSql =
      "UPDATE messages SET read_ms = NULL WHERE id = ANY($1::bigint[]) AND read_ms = $2";
  return db_.connection().query(kSql, {detail::bigint_array(ids), marked_ms}).affected();
}

std::vector<std::pair<std::string, std::int64_t>> PgInboxes::agent_unread_by_sender(
    const std::string& agent) {
  db_.reading(detail::positions_of(agent));
  static const std::string kSql =
      "SELECT m.sender, COUNT(*) FROM members me" +
      star_messages("m.id, m.sender", "me.read_up_to", "") +
      " WHERE me.agent = $1 AND me.seat = '' GROUP BY m.sender ORDER BY m.sender";
  const Rows rows = db_.connection().query(kSql, {agent});
  std::vector<std::pair<std::string, std::int64_t>> out;
  for (int r = 0; r < rows.size(); ++r) out.emplace_back(rows.text(r, 0), rows.int64(r, 1));
  return out;
}

Inboxes::WaitStart PgInboxes::wait_start(const std::string& agent, std::int64_t limit) {
  db_.reading(detail::positions_of(agent));
  // The seats' read is queued and travels with the page's: one round trip.
  WaitStart w;
  db_.connection().defer(seats_sql(), {agent},
                         [&w](const Rows& rows) { w.seats = read_members(rows); });
  w.page = whole_inbox(agent, limit);
  return w;
}

namespace {
// Each membership counts its own index range (LATERAL: per membership, whatever the planner's
// estimates; star_messages). As a plain join, a generic plan could drive the count from the
// messages instead, every message of every conversation with '*' for each call.
const std::string kAgentUnreadSql =
    "SELECT (SELECT COUNT(*) FROM members me" + star_messages("m.id", "me.read_up_to", "") +
    " WHERE me.agent = $1 AND me.seat = '')"
    " + (SELECT COUNT(*) FROM members me" +
    seat_messages("m.id", "", "") + " WHERE me.agent = $1 AND me.seat != '')";
}  // namespace

std::int64_t PgInboxes::agent_unread(const std::string& agent) {
  db_.reading(detail::positions_of(agent));
  return db_.connection().query(kAgentUnreadSql, {agent}).int64(0, 0);
}

void PgInboxes::agent_unread_soon(const std::string& agent,
                                  std::function<void(std::int64_t)> done) {
  db_.reading(detail::positions_of(agent));
  db_.connection().defer(kAgentUnreadSql, {agent},
                         [done = std::move(done)](const Rows& rows) { done(rows.int64(0, 0)); });
  db_.send_queue_soon();
}

std::vector<SenderCount> PgInboxes::senders_since(std::int64_t since_ms) {
  // A scan of the table, as COUNT(*) for `stats` is: the console asks at most once a second.
  // Ordered as SQLite's GROUP BY happens to return them.
  static const std::string kSql =
      "SELECT conversation_id, sender, recipient, COUNT(*) FROM messages WHERE created_ms >= $1"
      " GROUP BY conversation_id, sender, recipient ORDER BY 1, 2, 3";
  const Rows rows = db_.connection().query(kSql, {since_ms});
  std::vector<SenderCount> out;
  for (int r = 0; r < rows.size(); ++r) {
    out.push_back(SenderCount{rows.text(r, 0), rows.text(r, 1), rows.text(r, 2), rows.int64(r, 3)});
  }
  return out;
}

std::int64_t PgInboxes::member_unread(const std::string& conv, const std::string& agent) {
  db_.reading(detail::positions_of(agent));
  static const std::string kSql = "SELECT COUNT(*) FROM members me" +
                                  star_messages("m.id", "me.read_up_to", "") +
                                  " WHERE me.agent = $1 AND me.conversation_id = $2";
  return db_.connection().query(kSql, {agent, conv}).int64(0, 0);
}

std::vector<MessageRow> PgInboxes::agent_unread_after(const std::string& agent,
                                                      std::int64_t after_id, std::int64_t limit,
                                                      std::int64_t body_chars) {
  db_.reading(detail::positions_of(agent));
  // The body cut in characters (left() counts characters of text, as SQLite's substr does).
  // left() takes an int, and a negative count would keep all but that many; SQLite's
  // substr(body, 1, n <= 0) is empty, hence the clamp.
  const std::int64_t chars = std::clamp<std::int64_t>(body_chars, 0, INT_MAX);
  static const std::string kSql =
      "SELECT " + kCutColumns + " FROM members me" +
      star_messages(kColumns, "GREATEST(me.read_up_to, $2::bigint)", "$3") +
      " WHERE me.agent = $1 AND me.seat = ''"
      " UNION ALL SELECT " +
      kCutColumns + " FROM members me" + seat_messages(kColumns, "$2::bigint", "$3") +
      " WHERE me.agent = $1 AND me.seat != '' ORDER BY 1 LIMIT $3";
  return detail::read_messages(db_.connection().query(kSql, {agent, after_id, limit, chars}));
}

// --- agents ---

void PgAgents::upsert(const AgentRow& row) {
  // As SQLite's: a known agent keeps its created_ms, the rest is replaced; host and daemon_id
  // become this daemon's (the one binding it now). heartbeat_ms: 0 marks the agent offline at
  // once (it disconnected); any other value only moves it forward (a bind is a heartbeat; a
  // cached row's older value never makes a live agent look dead).
  static const std::string kSql =
      std::string("INSERT INTO agents (") + kAgentColumns +
      ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (name) DO UPDATE"
      " SET project = EXCLUDED.project, client = EXCLUDED.client,"
      " client_session_id = EXCLUDED.client_session_id, status = EXCLUDED.status,"
      " note = EXCLUDED.note, status_ms = EXCLUDED.status_ms,"
      " last_seen_ms = EXCLUDED.last_seen_ms, host = EXCLUDED.host,"
      " daemon_id = EXCLUDED.daemon_id,"
      " heartbeat_ms = CASE WHEN EXCLUDED.heartbeat_ms = 0 THEN 0"
      " ELSE GREATEST(agents.heartbeat_ms, EXCLUDED.heartbeat_ms) END";
  const DaemonRow& self = db_.options().self;
  db_.connection().query(kSql, {row.name, row.project, row.client, row.client_session_id,
                                row.status, row.note, row.status_ms, row.created_ms,
                                row.last_seen_ms, self.host, self.daemon_id, row.heartbeat_ms});
}

std::vector<AgentRow> PgAgents::all() {
  static const std::string kSql = agent_select(kAgentColumns, " FROM agents ORDER BY name");
  const Rows rows = db_.connection().query(kSql);
  std::vector<AgentRow> out;
  for (int r = 0; r < rows.size(); ++r) out.push_back(read_agent(rows, r));
  return out;
}

std::optional<AgentRow> PgAgents::find(const std::string& name) {
  static const std::string kSql = agent_select(kAgentColumns, " FROM agents WHERE name = $1");
  const Rows rows = db_.connection().query(kSql, {name});
  if (rows.empty()) return std::nullopt;
  return read_agent(rows, 0);
}

// --- members ---

void PgMembers::insert(const MemberRow& row) {
  static const std::string kSql = std::string("INSERT INTO members (") + kMemberColumns +
                                  ") VALUES ($1, $2, $3, $4, $5)"
                                  " ON CONFLICT (agent, conversation_id) DO NOTHING";
  db_.connection().query(kSql,
                         {row.agent, row.conversation_id, row.seat, row.read_up_to, row.joined_ms});
}

std::optional<MemberRow> PgMembers::find(const std::string& agent, const std::string& conv) {
  db_.reading(detail::positions_of(agent));
  static const std::string kSql =
      agent_select(kMemberColumns, " FROM members WHERE agent = $1 AND conversation_id = $2");
  const Rows rows = db_.connection().query(kSql, {agent, conv});
  if (rows.empty()) return std::nullopt;
  return read_member(rows, 0);
}

std::vector<MemberRow> PgMembers::of_conversation(const std::string& conv) {
  static const std::string kSql =
      agent_select(kMemberColumns, " FROM members WHERE conversation_id = $1 ORDER BY agent");
  return read_members(db_.connection().query(kSql, {conv}));
}

std::vector<MemberRow> PgMembers::seats_of(const std::string& agent) {
  return read_members(db_.connection().query(seats_sql(), {agent}));
}

std::optional<std::string> PgMembers::seat_holder(const std::string& conv,
                                                  const std::string& seat) {
  static const std::string kSql =
      "SELECT agent FROM members WHERE conversation_id = $1 AND seat = $2 LIMIT 1";
  const Rows rows = db_.connection().query(kSql, {conv, seat});
  if (rows.empty()) return std::nullopt;
  return rows.text(0, 0);
}

std::int64_t PgMembers::advance(const std::string& agent, const std::string& conv,
                                std::int64_t up_to) {
  // Only a forward move writes a row version (never back: GREATEST's effect, without a dead
  // tuple when the position already is there). The position before comes in the same round
  // trip: the CTE's SELECT sees the row as it was before the UPDATE beside it.
  static const std::string kSql =
      "WITH before AS (SELECT read_up_to FROM members WHERE agent = $2 AND conversation_id = $3),"
      " moved AS (UPDATE members SET read_up_to = $1 WHERE agent = $2 AND conversation_id = $3"
      " AND read_up_to < $1)"
      " SELECT read_up_to FROM before";
  const Rows rows = db_.connection().query(kSql, {up_to, agent, conv});
  return rows.empty() ? 0 : rows.int64(0, 0);
}

void PgMembers::move_past(const std::string& agent, const std::string& conv, std::int64_t up_to) {
  // advance()'s UPDATE without its answer: held for the group's commit (PgDatabase::
  // defer_to_commit) until a read of this agent's positions needs it sooner.
  static const std::string kSql =
      "UPDATE members SET read_up_to = $1 WHERE agent = $2 AND conversation_id = $3"
      " AND read_up_to < $1";
  db_.defer_to_commit(kSql, {up_to, agent, conv}, {}, detail::positions_of(agent));
}

void PgMembers::set_position(const std::string& agent, const std::string& conv,
                             std::int64_t position) {
  static const std::string kSql =
      "UPDATE members SET read_up_to = $1 WHERE agent = $2 AND conversation_id = $3";
  db_.connection().query(kSql, {position, agent, conv});
}

}  // namespace cb::store::pg
