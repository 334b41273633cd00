// The tables of issue 23: named agents, conversation members, and an agent's inbox across its
// conversations.
#include "daemon/store/sqlite_tables.h"

namespace cb::store {
namespace {

// kMessageColumns (tables.cpp) of the alias m, read by detail::read_message.
constexpr const char* kColumns =
    "m.id, m.conversation_id, m.sender, m.recipient, m.body, m.action_type, m.files_json, "
    "m.redactions_json, m.created_ms, m.read_ms, m.reply_to";

AgentRow read_agent(SQLite::Statement& q) {
  AgentRow a;
  a.name = q.getColumn(0).getString();
  a.project = q.getColumn(1).getString();
  a.client = q.getColumn(2).getString();
  a.client_session_id = q.getColumn(3).getString();
  a.status = q.getColumn(4).getString();
  a.note = q.getColumn(5).getString();
  a.status_ms = q.getColumn(6).getInt64();
  a.created_ms = q.getColumn(7).getInt64();
  a.last_seen_ms = q.getColumn(8).getInt64();
  return a;
}

constexpr const char* kAgentColumns =
    "name, project, client, client_session_id, status, note, status_ms, created_ms, last_seen_ms";

MemberRow read_member(SQLite::Statement& q) {
  MemberRow m;
  m.agent = q.getColumn(0).getString();
  m.conversation_id = q.getColumn(1).getString();
  m.seat = q.getColumn(2).getString();
  m.read_up_to = q.getColumn(3).getInt64();
  m.joined_ms = q.getColumn(4).getInt64();
  return m;
}

constexpr const char* kMemberColumns = "agent, conversation_id, seat, read_up_to, joined_ms";

}  // namespace

std::vector<MessageRow> SqliteInboxes::agent_inbox(const std::string& agent, std::int64_t after_id,
                                              std::int64_t limit) {
  // One index range per conversation (messages_by_recipient: conversation, '*', id), merged
  // in id order.
  auto& q = db_.stmt(
      after_id > 0
          ? std::string("SELECT ") + kColumns +
                " FROM members me JOIN messages m ON m.conversation_id = me.conversation_id"
                " AND m.recipient = '*' AND m.id > ?3"
                " WHERE me.agent = ?1 AND me.seat = '' AND m.sender != ?1 ORDER BY m.id LIMIT ?2"
          : std::string("SELECT ") + kColumns +
                " FROM members me JOIN messages m ON m.conversation_id = me.conversation_id"
                " AND m.recipient = '*' AND m.id > me.read_up_to"
                " WHERE me.agent = ?1 AND me.seat = '' AND m.sender != ?1 ORDER BY m.id LIMIT ?2");
  q.bind(1, agent);
  q.bind(2, limit);
  if (after_id > 0) q.bind(3, after_id);
  std::vector<MessageRow> out;
  while (q.executeStep()) out.push_back(detail::read_message(q));
  return out;
}

std::vector<MessageRow> SqliteInboxes::conversation_inbox(const std::string& conv,
                                                     const std::string& agent,
                                                     std::int64_t after_id, std::int64_t limit) {
  auto& q = db_.stmt(std::string("SELECT ") + kColumns +
                     " FROM members me JOIN messages m ON m.conversation_id = me.conversation_id"
                     " AND m.recipient = '*' AND m.id > MAX(me.read_up_to * (?3 = 0), ?3)"
                     " WHERE me.agent = ?1 AND me.conversation_id = ?4 AND me.seat = ''"
                     " AND m.sender != ?1 ORDER BY m.id LIMIT ?2");
  q.bind(1, agent);
  q.bind(2, limit);
  q.bind(3, after_id);
  q.bind(4, conv);
  std::vector<MessageRow> out;
  while (q.executeStep()) out.push_back(detail::read_message(q));
  return out;
}

std::optional<std::string> SqliteInboxes::conversation_of(std::int64_t message_id) {
  auto& q = db_.stmt("SELECT conversation_id FROM messages WHERE id = ?");
  q.bind(1, message_id);
  if (!q.executeStep()) return std::nullopt;
  std::string conv = q.getColumn(0).getString();
  q.reset();
  return conv;
}

std::int64_t SqliteInboxes::unmark_ids(const std::vector<std::int64_t>& ids, std::int64_t marked_ms) {
  std::int64_t n = 0;
  for (const std::int64_t id : ids) {
    auto& q = db_.stmt("UPDATE messages SET read_ms = NULL WHERE id = ? AND read_ms = ?");
    q.bind(1, id);
    q.bind(2, marked_ms);
    n += q.exec();
  }
  return n;
}

std::vector<MessageRow> SqliteInboxes::whole_inbox(const std::string& agent, std::int64_t limit) {
  // The common case, an agent in one conversation as a member (not a seat): that
  // conversation's index range is already in id order. Otherwise the ranges of every
  // membership must be merged, and SQLite sorts them in a temporary b-tree, which costs more
  // than the ranges themselves (a pair's send and read: ~545k → ~510k instructions).
  {
    auto& m = db_.stmt("SELECT conversation_id, seat FROM members WHERE agent = ? LIMIT 2");
    m.bind(1, agent);
    std::string sole;
    int rows = 0;
    while (m.executeStep()) {
      if (++rows == 1 && m.getColumn(1).getString().empty()) sole = m.getColumn(0).getString();
    }
    if (rows == 0) return {};
    if (rows == 1 && !sole.empty()) return conversation_inbox(sole, agent, 0, limit);
  }
  // agent_inbox's ranges (after each read position) and seat_inbox's (unread to each joined
  // seat) in one statement: one step loop and one reset instead of two queries and a merge.
  auto& q = db_.stmt(std::string("SELECT ") + kColumns +
                     " FROM members me JOIN messages m ON m.conversation_id = me.conversation_id"
                     " AND m.recipient = '*' AND m.id > me.read_up_to"
                     " WHERE me.agent = ?1 AND me.seat = '' AND m.sender != ?1"
                     " UNION ALL SELECT " + kColumns +
                     " FROM members me JOIN messages m ON m.conversation_id = me.conversation_id"
                     " AND m.recipient = me.seat AND m.read_ms IS NULL"
                     " WHERE me.agent = ?1 AND me.seat != '' ORDER BY 1 LIMIT ?2");
  q.bind(1, agent);
  q.bind(2, limit);
  std::vector<MessageRow> out;
  while (q.executeStep()) out.push_back(detail::read_message(q));
  return out;
}

std::vector<MessageRow> SqliteInboxes::seat_inbox(const std::string& agent, std::int64_t limit) {
  auto& q = db_.stmt(std::string("SELECT ") + kColumns +
                     " FROM members me JOIN messages m ON m.conversation_id = me.conversation_id"
                     " AND m.recipient = me.seat AND m.read_ms IS NULL"
                     " WHERE me.agent = ? AND me.seat != '' ORDER BY m.id LIMIT ?");
  q.bind(1, agent);
  q.bind(2, limit);
  std::vector<MessageRow> out;
  while (q.executeStep()) out.push_back(detail::read_message(q));
  return out;
}

std::vector<std::pair<std::string, std::int64_t>> SqliteInboxes::agent_unread_by_sender(
    const std::string& agent) {
  auto& q = db_.stmt(
      "SELECT m.sender, COUNT(*) FROM members me JOIN messages m"
      " ON m.conversation_id = me.conversation_id AND m.recipient = '*' AND m.id > me.read_up_to"
      " WHERE me.agent = ?1 AND me.seat = '' AND m.sender != ?1 GROUP BY m.sender");
  q.bind(1, agent);
  std::vector<std::pair<std::string, std::int64_t>> out;
  while (q.executeStep()) out.emplace_back(q.getColumn(0).getString(), q.getColumn(1).getInt64());
  return out;
}

std::vector<SenderCount> SqliteInboxes::senders_since(std::int64_t since_ms) {
  // A scan of the table, as COUNT(*) for `stats` is: the console asks at most once a second.
  auto& q = db_.stmt(
      "SELECT conversation_id, sender, recipient, COUNT(*) FROM messages WHERE created_ms >= ?1"
      " GROUP BY conversation_id, sender, recipient");
  q.bind(1, since_ms);
  std::vector<SenderCount> out;
  while (q.executeStep()) {
    out.push_back(SenderCount{q.getColumn(0).getString(), q.getColumn(1).getString(),
                              q.getColumn(2).getString(), q.getColumn(3).getInt64()});
  }
  return out;
}

Inboxes::WaitStart SqliteInboxes::wait_start(const std::string& agent, std::int64_t limit) {
  WaitStart w;
  w.seats = db_.members().seats_of(agent);
  w.page = whole_inbox(agent, limit);
  return w;
}

std::int64_t SqliteInboxes::agent_unread(const std::string& agent) {
  auto& q = db_.stmt(
      "SELECT (SELECT COUNT(*) FROM members me JOIN messages m"
      "   ON m.conversation_id = me.conversation_id AND m.recipient = '*'"
      "   AND m.id > me.read_up_to WHERE me.agent = ?1 AND me.seat = '' AND m.sender != ?1)"
      " + (SELECT COUNT(*) FROM members me JOIN messages m"
      "   ON m.conversation_id = me.conversation_id AND m.recipient = me.seat"
      "   AND m.read_ms IS NULL WHERE me.agent = ?1 AND me.seat != '')");
  q.bind(1, agent);
  q.executeStep();
  const std::int64_t n = q.getColumn(0).getInt64();
  q.reset();
  return n;
}

std::int64_t SqliteInboxes::member_unread(const std::string& conv, const std::string& agent) {
  auto& q = db_.stmt(
      "SELECT COUNT(*) FROM members me JOIN messages m ON m.conversation_id = me.conversation_id"
      " AND m.recipient = '*' AND m.id > me.read_up_to"
      " WHERE me.agent = ?1 AND me.conversation_id = ?2 AND m.sender != ?1");
  q.bind(1, agent);
  q.bind(2, conv);
  q.executeStep();
  const std::int64_t n = q.getColumn(0).getInt64();
  q.reset();
  return n;
}

std::vector<MessageRow> SqliteInboxes::agent_unread_after(const std::string& agent,
                                                     std::int64_t after_id, std::int64_t limit,
                                                     std::int64_t body_chars) {
  // kColumns with the body cut (read_message reads by position).
  static constexpr const char* kCut =
      "m.id, m.conversation_id, m.sender, m.recipient, substr(m.body, 1, ?4), m.action_type, "
      "m.files_json, m.redactions_json, m.created_ms, m.read_ms, m.reply_to";
  auto& q = db_.stmt(
      std::string("SELECT ") + kCut +
      " FROM members me JOIN messages m ON m.conversation_id = me.conversation_id"
      " AND m.recipient = '*' AND m.id > MAX(me.read_up_to, ?2)"
      " WHERE me.agent = ?1 AND me.seat = '' AND m.sender != ?1"
      " UNION ALL SELECT " +
      kCut +
      " FROM members me JOIN messages m ON m.conversation_id = me.conversation_id"
      " AND m.recipient = me.seat AND m.read_ms IS NULL AND m.id > ?2"
      " WHERE me.agent = ?1 AND me.seat != '' ORDER BY 1 LIMIT ?3");
  q.bind(1, agent);
  q.bind(2, after_id);
  q.bind(3, limit);
  q.bind(4, body_chars);
  std::vector<MessageRow> out;
  while (q.executeStep()) out.push_back(detail::read_message(q));
  return out;
}

void SqliteConversations::retire_member_key(const std::string& id) {
  auto& q = db_.stmt("UPDATE conversations SET member_key = NULL WHERE id = ?");
  q.bind(1, id);
  q.exec();
}

void SqliteAgents::upsert(const AgentRow& row) {
  auto& q = db_.stmt(std::string("INSERT INTO agents (") + kAgentColumns +
                     ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET"
                     " project = excluded.project, client = excluded.client,"
                     " client_session_id = excluded.client_session_id,"
                     " status = excluded.status, note = excluded.note,"
                     " status_ms = excluded.status_ms, last_seen_ms = excluded.last_seen_ms");
  q.bind(1, row.name);
  q.bind(2, row.project);
  q.bind(3, row.client);
  q.bind(4, row.client_session_id);
  q.bind(5, row.status);
  q.bind(6, row.note);
  q.bind(7, row.status_ms);
  q.bind(8, row.created_ms);
  q.bind(9, row.last_seen_ms);
  q.exec();
}

std::vector<AgentRow> SqliteAgents::all() {
  auto& q = db_.stmt(std::string("SELECT ") + kAgentColumns + " FROM agents ORDER BY name");
  std::vector<AgentRow> out;
  while (q.executeStep()) out.push_back(read_agent(q));
  return out;
}

std::optional<AgentRow> SqliteAgents::find(const std::string& name) {
  auto& q = db_.stmt(std::string("SELECT ") + kAgentColumns + " FROM agents WHERE name = ?");
  q.bind(1, name);
  if (!q.executeStep()) return std::nullopt;
  AgentRow a = read_agent(q);
  q.reset();
  return a;
}

void SqliteMembers::insert(const MemberRow& row) {
  auto& q = db_.stmt(std::string("INSERT OR IGNORE INTO members (") + kMemberColumns +
                     ") VALUES (?, ?, ?, ?, ?)");
  q.bind(1, row.agent);
  q.bind(2, row.conversation_id);
  q.bind(3, row.seat);
  q.bind(4, row.read_up_to);
  q.bind(5, row.joined_ms);
  q.exec();
}

std::optional<MemberRow> SqliteMembers::find(const std::string& agent, const std::string& conv) {
  auto& q = db_.stmt(std::string("SELECT ") + kMemberColumns +
                     " FROM members WHERE agent = ? AND conversation_id = ?");
  q.bind(1, agent);
  q.bind(2, conv);
  if (!q.executeStep()) return std::nullopt;
  MemberRow m = read_member(q);
  q.reset();
  return m;
}

std::vector<MemberRow> SqliteMembers::of_conversation(const std::string& conv) {
  auto& q = db_.stmt(std::string("SELECT ") + kMemberColumns +
                     " FROM members WHERE conversation_id = ? ORDER BY agent");
  q.bind(1, conv);
  std::vector<MemberRow> out;
  while (q.executeStep()) out.push_back(read_member(q));
  return out;
}

std::vector<MemberRow> SqliteMembers::seats_of(const std::string& agent) {
  auto& q = db_.stmt(std::string("SELECT ") + kMemberColumns +
                     " FROM members WHERE agent = ? AND seat != ''");
  q.bind(1, agent);
  std::vector<MemberRow> out;
  while (q.executeStep()) out.push_back(read_member(q));
  return out;
}

std::optional<std::string> SqliteMembers::seat_holder(const std::string& conv, const std::string& seat) {
  auto& q = db_.stmt("SELECT agent FROM members WHERE conversation_id = ? AND seat = ?");
  q.bind(1, conv);
  q.bind(2, seat);
  if (!q.executeStep()) return std::nullopt;
  std::string agent = q.getColumn(0).getString();
  q.reset();
  return agent;
}

std::int64_t SqliteMembers::advance(const std::string& agent, const std::string& conv,
                                    std::int64_t up_to) {
  const auto member = find(agent, conv);
  if (!member) return 0;
  if (member->read_up_to >= up_to) return member->read_up_to;
  auto& q = db_.stmt(
      "UPDATE members SET read_up_to = ? WHERE agent = ? AND conversation_id = ?"
      " AND read_up_to < ?");
  q.bind(1, up_to);
  q.bind(2, agent);
  q.bind(3, conv);
  q.bind(4, up_to);
  q.exec();
  return member->read_up_to;
}

void SqliteMembers::set_position(const std::string& agent, const std::string& conv,
                           std::int64_t position) {
  auto& q = db_.stmt("UPDATE members SET read_up_to = ? WHERE agent = ? AND conversation_id = ?");
  q.bind(1, position);
  q.bind(2, agent);
  q.bind(3, conv);
  q.exec();
}

}  // namespace cb::store
