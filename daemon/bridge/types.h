#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
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
  std::string from;  // "a", "b" or "system"
  std::string from_role;
  std::string body;
  std::string action_type;
  std::string files_json;  // a JSON array of strings, as stored
  std::int64_t created_ms = 0;
};

// check_messages / wait_for_messages: one page of the caller's inbox.
struct InboxPage {
  std::string conversation_id;
  std::string session_id;
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
