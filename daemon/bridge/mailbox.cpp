// Conversations, sending, status and the one delivery routine.
#include "daemon/bridge/mailbox.h"

#include "common/utf8.h"
#include "daemon/crypto/crypto.h"

namespace cb::bridge {

Result<CreatedConversation> Mailbox::create_conversation(const Caller& caller,
                                                         const std::string& my_role,
                                                         const std::string& partner_role) {
  const std::int64_t now = ctx_.clock.now_ms();
  CreatedConversation out;
  store::ConversationRow row;
  row.id = "conv_" + crypto::hex(crypto::random_bytes(8));
  row.role_a = ctx_.redactor->redact(my_role).text;
  row.role_b = ctx_.redactor->redact(partner_role).text;
  row.nonce = crypto::random_bytes(16);
  row.created_ms = now;
  row.expires_ms = now + ctx_.settings.ttl_seconds * 1000;
  {
    store::WriteTransaction tx(ctx_.db);
    ctx_.conversations.insert(row);
    ctx_.audit.record(row.id, "a", "create_conversation", "ok",
                      Json{{"role_a", row.role_a},
                           {"role_b", row.role_b},
                           {"expires_at", iso8601(row.expires_ms)},
                           {"pid", caller.pid}});
    out.ticket = tx.commit();
  }
  ctx_.presence.bind(caller.connection_id, SessionKey{row.id, "a"});
  ctx_.events.emit(Json{{"event", "conversation_created"},
                        {"conversation_id", row.id},
                        {"role_a", row.role_a},
                        {"role_b", row.role_b},
                        {"timestamp", iso8601(now)}});
  out.conversation_id = row.id;
  out.session_a_token = auth_.derive_token(row.id, "a", row.nonce);
  out.session_b_token = auth_.derive_token(row.id, "b", row.nonce);
  out.role_a = row.role_a;
  out.role_b = row.role_b;
  out.created_ms = row.created_ms;
  out.expires_ms = row.expires_ms;
  return out;
}

Result<StatusUpdate> Mailbox::update_status(const Caller& caller, const Credentials& cred,
                                            const std::string& status) {
  auto auth = auth_.authenticate(caller, cred, "update_my_status");
  if (!auth) return std::move(auth).status();
  return update_status_as(*auth, status);
}

Result<StatusUpdate> Mailbox::update_status_as(const Authed& a, const std::string& status) {
  if (Status s = auth_.read_budget(a, "update_my_status"); !s.ok()) return s;
  const std::int64_t now = ctx_.clock.now_ms();
  store::Ticket ticket;
  {
    store::WriteTransaction tx(ctx_.db);
    ctx_.statuses.upsert(a.self.conversation_id, a.self.session, status, now);
    ctx_.audit.record(a.self.conversation_id, a.self.session, "update_my_status", "ok",
                      Json{{"status", status}});
    ticket = tx.commit();
  }
  ctx_.events.emit(Json{{"event", "status"},
                        {"conversation_id", a.self.conversation_id},
                        {"session_id", a.self.session},
                        {"role", a.role},
                        {"status", status},
                        {"timestamp", iso8601(now)}});
  return StatusUpdate{a.self.conversation_id, a.self.session, status, now, ticket};
}

Result<PartnerStatus> Mailbox::partner_status(const Caller& caller, const Credentials& cred) {
  auto auth = auth_.authenticate(caller, cred, "check_partner_status");
  if (!auth) return std::move(auth).status();
  return partner_status_as(*auth);
}

Result<PartnerStatus> Mailbox::partner_status_as(const Authed& a) {
  if (Status s = auth_.read_budget(a, "check_partner_status"); !s.ok()) return s;
  PartnerStatus out;
  out.now_ms = ctx_.clock.now_ms();
  out.conversation_id = a.partner.conversation_id;
  out.partner_session_id = a.partner.session;
  out.partner_role = a.partner_role;
  // Any authenticated call is a heartbeat, and a partner blocked in a wait is alive however
  // long it has waited.
  std::optional<std::int64_t> heartbeat = ctx_.presence.last_call(a.partner);
  if (auto row = ctx_.statuses.find(a.partner.conversation_id, a.partner.session)) {
    out.status = row->status;
    heartbeat = std::max(heartbeat.value_or(0), row->heartbeat_ms);
  }
  out.connected = ctx_.presence.connected(a.partner);
  out.waiting = ctx_.presence.waiting(a.partner);
  if (heartbeat) {
    out.heartbeat_ms = *heartbeat;
    out.alive = (out.now_ms - *heartbeat) < ctx_.settings.alive_seconds * 1000;
  }
  out.alive = out.alive || out.waiting;
  out.unread_by_partner = ctx_.messages.unread_count(a.partner.conversation_id, a.partner.session);
  return out;
}

Result<SendReceipt> Mailbox::send(const Caller& caller, const Credentials& cred,
                                  const std::string& message, const std::string& action_type,
                                  const std::vector<std::string>& files) {
  const char* action = "send_to_partner";
  auto auth = auth_.authenticate(caller, cred, action);
  if (!auth) return std::move(auth).status();
  return send_as(*auth, message, action_type, files, std::nullopt, action);
}

Status Mailbox::check_length(const std::string& conversation_id, const std::string& who,
                             const std::string& message, const char* action) {
  const std::size_t chars = code_points(message);
  if (static_cast<std::int64_t>(chars) <= ctx_.settings.message_max_chars) return Status();
  return ctx_.refuse(conversation_id, who, action,
                     Status::error("too_long",
                                   "Message is " + std::to_string(chars) +
                                       " characters; the limit is " +
                                       std::to_string(ctx_.settings.message_max_chars) +
                                       " — split it into several messages or send a file "
                                       "path instead"),
                     Json{{"chars", chars}});
}

void no_nul(std::string& text) {
  for (std::size_t at = text.find('\0'); at != std::string::npos; at = text.find('\0', at + 3)) {
    text.replace(at, 1, "\xEF\xBF\xBD");
  }
}

Json Mailbox::redact_into(store::MessageRow& row, const std::string& message,
                          const std::vector<std::string>& files,
                          std::map<std::string, int>& counts) {
  // Redaction is structural: the message and each metadata string on its own, never JSON text.
  redact::Redacted body = ctx_.redactor->redact(message);
  no_nul(body.text);
  body.add_counts_to(counts);
  Json files_json = Json::array();
  for (const auto& f : files) {
    redact::Redacted rf = ctx_.redactor->redact(f);
    no_nul(rf.text);
    rf.add_counts_to(counts);
    files_json.push_back(std::move(rf.text));
  }
  Json redactions = Json::object();
  for (const auto& [kind, n] : counts) redactions[kind] = n;
  row.body = std::move(body.text);
  row.files_json = files_json.dump();
  row.redactions_json = redactions.dump();
  return redactions;
}

Result<SendReceipt> Mailbox::send_as(const Authed& a, const std::string& message,
                                     const std::string& action_type,
                                     const std::vector<std::string>& files,
                                     std::optional<std::int64_t> reply_to, const char* action) {
  if (Status s = check_length(a.self.conversation_id, a.self.session, message, action); !s.ok()) {
    return s;
  }
  if (Status s = auth_.send_budget(a, action); !s.ok()) return s;

  SendReceipt receipt;
  store::MessageRow row;
  const Json redactions = redact_into(row, message, files, receipt.redactions);
  row.conversation_id = a.self.conversation_id;
  row.sender = a.self.session;
  row.recipient = a.partner.session;
  row.action_type = action_type;
  row.reply_to = reply_to;
  row.created_ms = ctx_.clock.now_ms();
  bool taken = false;
  {
    store::WriteTransaction tx(ctx_.db);
    row.id = ctx_.messages.insert(row);
    ctx_.audit.record(a.self.conversation_id, a.self.session, action, "ok",
                      Json{{"message_id", row.id},
                           {"chars", code_points(message)},
                           {"action_type", action_type},
                           {"files", files.size()},
                           {"redactions", redactions}});
    // A partner blocked in wait_for_messages takes the message in this transaction: its answer
    // is ready when the commit wakes it. If this transaction rolls back, so does the hand-off.
    struct HandOff {
      Presence::Waiter* waiter;
      ~HandOff() {
        if (waiter) waiter->took = false;
      }
    } hand_off{ctx_.presence.hand_off(a.partner)};
    receipt.ticket = tx.commit();
    if (hand_off.waiter) {
      // The reader answers with what it took once this ticket is durable; this receipt is
      // answered behind the reader's wake-up, which has waited longest.
      hand_off.waiter->handed = receipt.ticket;
      receipt.ticket.behind_queued = true;
      taken = true;
    }
    hand_off.waiter = nullptr;
  }
  deliver(row, a.role, a.partner, taken);
  receipt.message_id = row.id;
  receipt.conversation_id = row.conversation_id;
  receipt.to = row.recipient;
  receipt.to_role = a.partner_role;
  receipt.created_ms = row.created_ms;
  return receipt;
}

store::MessageRow Mailbox::post_system(const SessionKey& to, const std::string& body) {
  store::MessageRow row;
  row.conversation_id = to.conversation_id;
  row.sender = "system";
  row.recipient = to.session;
  row.body = body;
  row.action_type = "info";
  row.created_ms = ctx_.clock.now_ms();
  row.id = ctx_.messages.insert(row);
  return row;
}

void Mailbox::deliver(const store::MessageRow& row, const std::string& from_role,
                      const SessionKey& to, bool taken) {
  // Waiters wake and partners are told only once the message is durable (group commit).
  ctx_.db.after_commit(
      [this, row, from_role, to, taken] { deliver_now(row, from_role, to, taken); });
}

void Mailbox::deliver_now(const store::MessageRow& row, const std::string& from_role,
                          const SessionKey& to, bool taken) {
  ctx_.presence.wake(to);
  if (ctx_.events.watched()) {
    ctx_.events.emit(Json{{"event", "message"},
                          {"conversation_id", row.conversation_id},
                          {"id", row.id},
                          {"from", row.sender},
                          {"to", row.recipient},
                          {"from_role", from_role},
                          {"action_type", row.action_type},
                          {"message", row.body},
                          {"timestamp", iso8601(row.created_ms)}});
  }
  // A waiter that took the message answers with it now; telling the connection would only send
  // the model to check_messages for nothing. A seat already told of unread mail is not told
  // again until it reads: once per batch, not once per message.
  if (!notifier_ || taken) return;
  const auto conns = ctx_.presence.to_tell(to);
  if (conns.empty()) return;
  MailNotice notice;
  notice.conversation_id = row.conversation_id;
  notice.from = from_role;
  notice.system = row.sender == "system";
  notice.message_id = row.id;
  // The count can wait: a team's store counts for every notice of the turn in one round trip
  // (as AgentMail's notices do). A connection gone meanwhile is skipped by the notifier.
  ctx_.messages.unread_count_soon(row.conversation_id, row.recipient,
                                  [this, notice, conns](std::int64_t unread) mutable {
                                    notice.unread = unread;
                                    if (!notifier_) return;
                                    for (auto conn : conns) notifier_->mail_waiting(conn, notice);
                                  });
}

}  // namespace cb::bridge
