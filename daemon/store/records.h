#pragma once

#include <cstdint>
#include <optional>
#include <string>

// Plain rows as the store reads and writes them. Times are Unix milliseconds (UTC).
namespace cb::store {

struct ConversationRow {
  std::string id;
  std::string role_a;
  std::string role_b;
  std::string nonce;  // raw bytes; with the server key it re-derives both tokens
  std::int64_t created_ms = 0;
  std::int64_t expires_ms = 0;
  std::string exec_mode = "off";
  std::string exec_json = "{}";
  // "token": the original two seats, a and b, with tokens. "agents": a conversation of named
  // agents (members), no tokens; role_a/role_b are empty and the nonce unused.
  std::string kind = "token";
  // For an agents' conversation addressed by names: its members' names, sorted, joined by ","
  // (one conversation per set of members). Empty: none (a token conversation, or a group made
  // by create_conversation, which is addressed by its id).
  std::string member_key;
};

// A named agent (issue 23): the identity a client session is bound to, kept across restarts.
struct AgentRow {
  std::string name;
  std::string project;            // the project directory
  std::string client;             // "claude-code", "codex", …; may be empty
  std::string client_session_id;  // the client's own session id, when it exports one
  std::string status;             // set with update_my_status; empty: never
  std::string note;
  std::int64_t status_ms = 0;
  std::int64_t created_ms = 0;
  std::int64_t last_seen_ms = 0;
  // In a team's shared store (issue 27): the daemon that last bound the agent, its host, and
  // that daemon's latest heartbeat naming the agent live (0: never). A store of one daemon
  // leaves them empty; upsert writes the upserting daemon's own identity.
  std::string host;
  std::string daemon_id;
  std::int64_t heartbeat_ms = 0;
};

// A daemon of a team (issue 27): its random id (new at each start), its host and its latest
// heartbeat.
struct DaemonRow {
  std::string daemon_id;
  std::string host;
  std::int64_t started_ms = 0;
  std::int64_t heartbeat_ms = 0;
};

// An agent's membership of a conversation. In an agents' conversation, `read_up_to` is the
// agent's read position (every message with a lower or equal id is read). In a token
// conversation, `seat` is the seat ("a"/"b") join_conversation bound the agent to; read marks
// stay on the messages there.
struct MemberRow {
  std::string agent;
  std::string conversation_id;
  std::string seat;
  std::int64_t read_up_to = 0;
  std::int64_t joined_ms = 0;
};

struct MessageRow {
  std::int64_t id = 0;
  std::string conversation_id;
  // Token conversations: "a", "b" or "system" to "a" or "b". Agents' conversations: an agent's
  // name, "system" or "operator" to "*" (every member but the sender).
  std::string sender;
  std::string recipient;
  std::string body;
  std::string action_type;
  std::string files_json = "[]";
  std::string redactions_json = "{}";
  std::int64_t created_ms = 0;
  std::optional<std::int64_t> read_ms;
  std::optional<std::int64_t> reply_to;  // the message this one answers
};

struct StatusRow {
  std::string status;
  std::int64_t heartbeat_ms = 0;
};

// The status of one session of a conversation.
struct SessionStatus {
  std::string session;  // "a" or "b"
  StatusRow row;
};

struct AuditRow {
  std::int64_t id = 0;
  std::int64_t ts_ms = 0;
  std::string conversation_id;  // empty: not about one conversation
  std::string session_id;       // empty: none
  std::string action;
  std::string outcome;
  std::string details_json = "{}";
  std::string prev_hash;
  std::string hash;
};

// How many messages `sender` stored in a conversation to `recipient` (talk graph, issue 25).
struct SenderCount {
  std::string conversation_id;
  std::string sender;
  std::string recipient;
  std::int64_t messages = 0;
};

struct ConversationSummary {
  ConversationRow row;
  std::int64_t messages = 0;
  std::int64_t unread_a = 0;  // unread messages addressed to a
  std::int64_t unread_b = 0;
};

}  // namespace cb::store
