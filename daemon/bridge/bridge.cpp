#include "daemon/bridge/bridge.h"

#include "daemon/crypto/crypto.h"

namespace cb::bridge {

Bridge::Bridge(store::Database& db, const Clock& clock, std::string server_key, Settings settings,
               std::shared_ptr<const redact::Redactor> redactor)
    : ctx_(db, clock, crypto::hmac_sha256(server_key, "claude-bridge audit chain v1"), settings,
           std::move(redactor)),
      auth_(ctx_, std::move(server_key)),
      mailbox_(ctx_, auth_),
      exec_(ctx_, auth_, mailbox_),
      ops_(ctx_, auth_, mailbox_) {}

void Bridge::reconfigure(Settings settings, std::shared_ptr<const redact::Redactor> redactor) {
  ctx_.settings = settings;
  auth_.reconfigure(settings);
  if (redactor) ctx_.redactor = std::move(redactor);
}

}  // namespace cb::bridge
