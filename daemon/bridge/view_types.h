#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

// What the operator's views answer (claude-bridgectl over ctl.sock): plain structs.
// daemon/admin/views_render.h renders them as the ctl protocol's documents (docs/cli.md).
// Stored JSON (audit details, files, redactions) is passed on as stored text.
namespace cb::bridge {

// A member of an agents' conversation (issue 23), with its read position.
struct MemberView {
  std::string agent;
  std::int64_t read_up_to = 0;  // every message with an id up to this one is read
  std::int64_t unread = 0;      // messages of the others past the read position
  bool connected = false;       // a live connection holds the name
};

struct ConversationSummary {
  std::string conversation_id;
  std::string kind = "token";       // "token" or "agents"
  std::vector<MemberView> members;  // agents' conversations only
  std::string role_a;
  std::string role_b;
  std::int64_t created_ms = 0;
  std::int64_t expires_ms = 0;
  bool active = false;
  std::int64_t messages = 0;
  std::int64_t unread_a = 0;
  std::int64_t unread_b = 0;
  std::vector<std::string> connected;  // the seats with a live connection
  std::string exec_mode;
};

struct ConversationList {
  std::vector<ConversationSummary> conversations;
};

// One seat as the operator sees it.
struct SeatView {
  std::optional<std::string> status;         // none: never reported
  std::optional<std::int64_t> heartbeat_ms;  // with status
  bool connected = false;
  bool waiting = false;
};

// One stored message, both ways.
struct StoredMessage {
  std::int64_t id = 0;
  std::string from;
  std::string to;
  std::string body;
  std::string action_type;
  std::string files_json;       // as stored
  std::string redactions_json;  // as stored
  std::int64_t created_ms = 0;
  std::optional<std::int64_t> read_ms;
  std::optional<std::int64_t> reply_to;  // the message this one answers
};

struct ConversationDetail {
  ConversationSummary summary;  // messages, unread and connected left empty
  SeatView seat_a;
  SeatView seat_b;
  std::vector<StoredMessage> messages;
};

struct SeatTokens {
  std::string conversation_id;
  std::string session_a_token;
  std::string session_b_token;
};

struct AuditEntry {
  std::int64_t id = 0;
  std::int64_t ts_ms = 0;
  std::string conversation_id;  // "" for none
  std::string session_id;       // "" for none
  std::string action;
  std::string outcome;
  std::string details_json;  // as stored
};

struct AuditPage {
  std::vector<AuditEntry> entries;
};

struct CleanupReport {
  std::vector<std::string> removed;  // conversation ids
};

// One named agent as the operator sees it (`claude-bridgectl agents`).
struct OperatorAgent {
  std::string name;
  std::string project;
  std::string client;
  std::string status;  // empty: never set
  std::string note;
  bool connected = false;  // a live connection holds the name
  bool waiting = false;    // blocked in wait_for_messages
  std::int64_t last_seen_ms = 0;
  std::int64_t unread = 0;  // everything unread for the agent (conversations and joined seats)
};

struct OperatorAgentList {
  std::vector<OperatorAgent> agents;  // by name
};

// Who wrote to whom since a time (the console's graph, ctl method `talk`): agents by name,
// token seats by the agent that joined them or else their role, "system" and "@operator" as
// themselves. A message to every member of a group counts once for each member.
struct TalkPair {
  std::string from;
  std::string to;
  std::int64_t messages = 0;
};

struct TalkGraph {
  std::int64_t since_ms = 0;
  std::vector<TalkPair> pairs;  // by from, then to
};

struct BridgeStats {
  std::int64_t conversations = 0;
  std::int64_t messages = 0;
  std::int64_t bound_connections = 0;
  std::int64_t waiters = 0;
  std::int64_t empty_polls = 0;
  std::map<std::string, std::int64_t> refusals;  // by code, since start
};

}  // namespace cb::bridge
