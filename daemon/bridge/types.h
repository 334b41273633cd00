#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "daemon/store/ticket.h"

// What the product is asked with and what it answers: plain structs, no JSON-RPC and no
// wording for a model. daemon/tools/ renders the answers (and owns their output schemas);
// daemon/admin/ renders the operator's views.
namespace cb::bridge {

// Who made a call: the connection it came in on (presence) and the peer process.
struct Caller {
  std::uint64_t connection_id = 0;
  pid_t pid = -1;
  uid_t uid = static_cast<uid_t>(-1);
  // The named agent the connection is bound to (Agents::bind); empty: an unbound connection,
  // which needs the original tools' tokens.
  std::string agent;
  // The request carries a progress token, so the client is told the call is alive while it
  // blocks (Claude Code then keeps waiting for it).
  bool progress_kept_alive = false;
};

// Who a connection serves, as its shim said and the daemon checked (daemon/frames.h's
// ClientHello, seen from the product).
struct ClientIdentity {
  pid_t client_pid = -1;
  std::uint64_t client_start = 0;
  std::string session_id;   // the client's own session id; empty when it exports none
  std::string project_dir;  // absolute
  std::string agent;        // the name the person chose; empty: none
  std::string client;       // "claude-code", "codex", …; may be empty
};

struct Credentials {
  std::string conversation_id;
  std::string session_id;  // "a" or "b"
  std::string token;
};

// create_conversation: a new two-seat conversation and both seats' tokens.
struct CreatedConversation {
  std::string conversation_id;
  std::string session_a_token;
  std::string session_b_token;
  std::string role_a;  // redacted
  std::string role_b;
  std::int64_t created_ms = 0;
  std::int64_t expires_ms = 0;
  // When the writes behind this answer are durable: the tool layer answers only then.
  store::Ticket ticket;
};

// send_to_partner: the stored message's receipt.
struct SendReceipt {
  std::int64_t message_id = 0;
  std::string conversation_id;
  std::string to;  // the recipient's seat
  std::string to_role;
  std::map<std::string, int> redactions;  // by kind
  std::int64_t created_ms = 0;
  // When the writes behind this answer are durable: the tool layer answers only then.
  store::Ticket ticket;
};

// One message as its recipient reads it.
struct InboxMessage {
  std::int64_t id = 0;
  // Token conversations: "a", "b" or "system". Agents' conversations: the sender's name,
  // "system" or "operator".
  std::string from;
  std::string from_role;
  std::string body;
  std::string action_type;
  std::string files_json;  // a JSON array of strings, as stored
  std::int64_t created_ms = 0;
  std::string conversation_id;
  std::optional<std::int64_t> reply_to;
  // Offered before by a read whose answer may not have reached the model (a wait its client
  // may have abandoned): the agent may have seen it already.
  bool redelivered = false;
};

// check_messages / wait_for_messages: one page of the caller's inbox.
struct InboxPage {
  std::string conversation_id;  // agent pages: empty for the whole inbox
  std::string session_id;       // token pages only
  std::string agent;            // agent pages: the reader; empty for a seat's page
  std::vector<InboxMessage> messages;
  bool has_more = false;
  std::int64_t unread_remaining = 0;
  // False when the reads could not be recorded (disk full): these come back again.
  bool marked_read = true;
  // When the writes behind this answer are durable: the tool layer answers only then.
  store::Ticket ticket;
};

// update_my_status.
struct StatusUpdate {
  std::string conversation_id;
  std::string session_id;
  std::string status;
  std::int64_t heartbeat_ms = 0;
  // When the writes behind this answer are durable: the tool layer answers only then.
  store::Ticket ticket;
};

// check_partner_status.
struct PartnerStatus {
  std::string conversation_id;
  std::string partner_session_id;
  std::string partner_role;
  std::optional<std::string> status;          // none: never reported
  std::optional<std::int64_t> heartbeat_ms;  // with status
  std::int64_t now_ms = 0;
  bool alive = false;
  bool connected = false;
  bool waiting = false;
  std::int64_t unread_by_partner = 0;
};

// ---- Named agents (issue 23) ----

// The agent a connection was bound to.
struct BoundAgent {
  std::string name;
  bool restored = false;  // an agent of that name existed: its unread mail is its again
  std::int64_t unread = 0;
};

// One agent as list_agents shows it.
struct AgentView {
  std::string name;
  std::string project;
  std::string client;
  std::string status;  // empty: never set
  std::string note;
  std::string host;        // the machine of the daemon it was last bound to (issue 27)
  bool connected = false;  // a live connection holds the name (in a team: on any daemon)
  bool waiting = false;    // blocked in wait_for_messages
  std::int64_t last_seen_ms = 0;
  std::int64_t unread_from_them = 0;  // their messages the caller has not read
};

struct AgentList {
  std::string you;
  std::string your_project;
  std::vector<AgentView> agents;
};

// send_message: the stored message's receipt.
struct MessageReceipt {
  std::int64_t message_id = 0;
  // Set instead when the id comes with the commit (a team's store holds a group's messages for
  // it): read it once `ticket` is durable; 0 then means nothing was stored (the conversation
  // was ended, removed or replaced meanwhile) and the send should run again.
  std::shared_ptr<const std::optional<std::int64_t>> stored_id;
  std::string conversation_id;
  std::vector<std::string> to;  // the members it went to
  std::map<std::string, int> redactions;  // by kind
  std::int64_t created_ms = 0;
  store::Ticket ticket;
};

// create_conversation with members: a conversation of agents, no tokens.
struct CreatedGroup {
  std::string conversation_id;
  std::vector<std::string> members;  // the caller first
  std::int64_t created_ms = 0;
  std::int64_t expires_ms = 0;
  store::Ticket ticket;
};

// join_conversation: the seat the caller's agent now holds.
struct JoinedSeat {
  std::string conversation_id;
  std::string session_id;
  std::string agent;
  std::string role;
  std::string partner_role;
  store::Ticket ticket;
};

// update_my_status without a conversation: the agent's own status and note.
struct AgentStatusUpdate {
  std::string name;
  std::string status;
  std::string note;
  std::int64_t at_ms = 0;
  store::Ticket ticket;
};

// The operator's post into an agents' conversation (issue 25; ctl method `post`).
struct OperatorPost {
  std::int64_t message_id = 0;
  std::string conversation_id;
  std::vector<std::string> to;            // the members it went to
  std::map<std::string, int> redactions;  // by kind
  std::int64_t created_ms = 0;
};

// A conversation the operator ended before its expiry (ctl method `end`).
struct EndedConversation {
  std::string conversation_id;
  std::int64_t ended_ms = 0;
  std::vector<std::int64_t> notice_ids;  // the messages that told its members or seats
  std::vector<std::string> told;         // members (agents' conversation) or seats a and b
};

// Mail waiting for a connection that has not been told of it yet (once per unread batch).
struct MailNotice {
  std::string conversation_id;
  std::string from;     // the sender's role, or "system"
  bool system = false;  // a message from "system" (command execution)
  std::int64_t message_id = 0;
  std::int64_t unread = 0;
};

// How the product reaches a live connection with news it did not ask for. The daemon's
// implementation turns it into the client protocol's push (daemon/tools/).
class Notifier {
 public:
  virtual ~Notifier() = default;
  virtual void mail_waiting(std::uint64_t connection_id, const MailNotice& notice) = 0;
};

}  // namespace cb::bridge
