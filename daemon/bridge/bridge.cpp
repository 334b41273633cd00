#include "daemon/bridge/bridge.h"

#include "daemon/crypto/crypto.h"

namespace cb::bridge {

Bridge::Bridge(store::Database& db, const Clock& clock, std::string server_key, Settings settings,
               std::shared_ptr<const redact::Redactor> redactor)
    : ctx_(db, clock, crypto::hmac_sha256(server_key, "claude-bridge audit chain v1"), settings,
           std::move(redactor)),
      auth_(ctx_, std::move(server_key)),
      agents_(ctx_),
      mailbox_(ctx_, auth_),
      agent_mail_(ctx_, auth_, agents_, mailbox_),
      exec_(ctx_, auth_, mailbox_),
      ops_(ctx_, auth_, mailbox_, agents_),
      hooks_(ctx_, agents_, mailbox_, agent_mail_),
      team_(ctx_, agents_, mailbox_, agent_mail_) {}

Bridge::~Bridge() { ctx_.db.flush(); }

void Bridge::reconfigure(Settings settings, std::shared_ptr<const redact::Redactor> redactor) {
  ctx_.settings = settings;
  auth_.reconfigure(settings);
  if (redactor) ctx_.redactor = std::move(redactor);
}

Result<BoundAgent> Bridge::bind_agent(std::uint64_t connection_id, const ClientIdentity& who) {
  Result<BoundAgent> bound = Status::error("storage", "not bound");
  try {
    bound = agents_.bind(connection_id, who);
  } catch (const std::exception& e) {
    const auto why = store::storage_failure(e);
    if (!why) throw;
    return Status::error("storage", "the agent could not be stored: " + *why);
  }
  if (!bound) return bound;
  for (const SessionKey& seat : agent_mail_.seats_of(bound->name)) {
    ctx_.presence.bind(connection_id, seat);
  }
  return bound;
}

}  // namespace cb::bridge
