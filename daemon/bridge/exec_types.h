#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "daemon/store/ticket.h"

// What command execution answers: plain structs, no JSON and no wording for a model or an
// operator. daemon/tools/exec_render.h renders the tool results; daemon/admin/views_render.h
// renders the operator's approval documents.
namespace cb::bridge {

// enable_yolo_mode: the mode now in force. Commands always run sandboxed and the partner is
// always told (or the call is refused), so neither is a field.
struct ModeSet {
  std::string conversation_id;
  std::string session_id;
  std::string mode;
  std::string previous_mode;
  std::string max_mode;  // the operator's ceiling
  std::string workspace;
  std::int64_t timeout_seconds = 0;
  bool allow_network = false;
  std::int64_t approval_timeout_seconds = 0;  // how long a command waits for a person
  // When the writes behind this answer are durable: the tool layer answers only then.
  store::Ticket ticket;
};

// execute_command: an approved command's run, its output redacted.
struct CommandRun {
  std::string approval_id;
  std::string command;  // as shown to the operator, redacted
  std::string mode;
  std::string workspace;
  int exit_code = -1;  // -1 when killed on timeout
  int signal = 0;      // 0: not ended by a signal
  bool timed_out = false;
  std::string stdout_text;
  std::string stderr_text;
  bool stdout_truncated = false;
  bool stderr_truncated = false;
  std::uint64_t stdout_bytes = 0;
  std::uint64_t stderr_bytes = 0;
  std::int64_t duration_ms = 0;
  std::map<std::string, int> redactions;  // by kind, both streams
  std::string snapshot_ref;               // "" when none was taken
  std::int64_t partner_message_id = 0;
  // When the writes behind this answer are durable: the tool layer answers only then.
  store::Ticket ticket;
};

// One command waiting for a person's approval (claude-bridgectl approvals).
struct PendingApproval {
  std::string id;
  std::string conversation_id;
  std::string session_id;
  std::string role;
  std::vector<std::string> argv;
  std::string command;  // argv as one command line
  std::string workspace;
  std::string mode;
  bool allow_network = false;
  std::int64_t timeout_seconds = 0;
  std::string client_confirmation;
  std::int64_t created_ms = 0;
  std::int64_t expires_ms = 0;
};

struct PendingApprovals {
  std::vector<PendingApproval> approvals;
};

// A person's decision, applied.
struct ApprovalDecision {
  std::string id;
  bool approved = false;
  std::string conversation_id;
  std::string session_id;
  std::string command;  // redacted
};

}  // namespace cb::bridge
