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
};

struct MessageRow {
  std::int64_t id = 0;
  std::string conversation_id;
  std::string sender;     // "a", "b" or "system"
  std::string recipient;  // "a" or "b"
  std::string body;
  std::string action_type;
  std::string files_json = "[]";
  std::string redactions_json = "{}";
  std::int64_t created_ms = 0;
  std::optional<std::int64_t> read_ms;
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

struct ConversationSummary {
  ConversationRow row;
  std::int64_t messages = 0;
  std::int64_t unread_a = 0;  // unread messages addressed to a
  std::int64_t unread_b = 0;
};

}  // namespace cb::store
