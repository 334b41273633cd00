#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/clock.h"
#include "daemon/crypto/crypto.h"
#include "daemon/store/tables.h"

namespace cb::audit {

// The append-only audit trail. Each entry's hash is HMAC-SHA256(audit key, previous hash ‖
// entry), so editing or deleting any entry but the newest breaks the chain at that point, and
// nobody without the server key can forge a consistent replacement. Details never hold a
// secret or a message body.
class AuditLog {
 public:
  // The key is wiped once the MAC holds it.
  AuditLog(store::Database& db, const Clock& clock, std::string audit_key);

  // Appends within the caller's transaction (or its own autocommit when there is none); on a
  // store that holds writes for a group's commit, as the group commits (Database::at_commit),
  // when the chain's head is read under the team's lock, so the entry is hashed then.
  void record(const std::string& conversation_id, const std::string& session_id,
              const std::string& action, const std::string& outcome,
              const nlohmann::json& details = nlohmann::json::object());

  struct Verification {
    bool ok = true;
    std::int64_t entries = 0;
    std::int64_t first_bad_id = 0;  // when !ok
    std::string problem;            // when !ok
  };
  Verification verify();

  // Forget the cached chain head (after a restore or a rolled-back transaction).
  void reload_head();

 private:
  std::string entry_hash(const std::string& prev, const store::AuditRow& row);
  void append(store::AuditRow& row);

  store::Database& db_;
  store::AuditTable& table_;
  const Clock& clock_;
  crypto::HmacSha256 mac_;
  std::optional<std::string> head_;
};

}  // namespace cb::audit
