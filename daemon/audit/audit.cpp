#include "daemon/audit/audit.h"

#include "daemon/crypto/crypto.h"

namespace cb::audit {

namespace {
constexpr const char* kGenesis = "0000000000000000000000000000000000000000000000000000000000000000";
}

AuditLog::AuditLog(store::Database& db, const Clock& clock, std::string audit_key)
    : db_(db), table_(db.audit_table()), clock_(clock), mac_(audit_key) {
  crypto::wipe(audit_key);
  // A rolled-back write may have held entries: the cached head would name a row that is gone.
  db.on_rollback([this] { reload_head(); });
}

std::string AuditLog::entry_hash(const std::string& prev, const store::AuditRow& row) {
  const nlohmann::json canonical = {row.ts_ms,  row.conversation_id, row.session_id, row.action,
                                    row.outcome, row.details_json};
  return crypto::hex(mac_(prev + "\n" + canonical.dump()));
}

void AuditLog::reload_head() { head_.reset(); }

void AuditLog::record(const std::string& conversation_id, const std::string& session_id,
                      const std::string& action, const std::string& outcome,
                      const nlohmann::json& details) {
  store::AuditRow row;
  row.ts_ms = clock_.now_ms();
  row.conversation_id = conversation_id;
  row.session_id = session_id;
  row.action = action;
  row.outcome = outcome;
  row.details_json = details.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  db_.at_commit([this, row = std::move(row)]() mutable { append(row); });
}

void AuditLog::append(store::AuditRow& row) {
  if (!head_ || table_.shared()) head_ = table_.last_hash().value_or(kGenesis);
  row.prev_hash = *head_;
  row.hash = entry_hash(row.prev_hash, row);
  table_.insert(row);
  head_ = row.hash;
}

AuditLog::Verification AuditLog::verify() {
  Verification v;
  std::string prev = kGenesis;
  table_.for_each([&](const store::AuditRow& row) {
    ++v.entries;
    if (row.prev_hash != prev) {
      v.ok = false;
      v.first_bad_id = row.id;
      v.problem = "entry " + std::to_string(row.id) +
                  " does not follow the entry before it (an entry was removed or reordered)";
      return false;
    }
    if (entry_hash(prev, row) != row.hash) {
      v.ok = false;
      v.first_bad_id = row.id;
      v.problem = "entry " + std::to_string(row.id) + " was altered (its hash does not match)";
      return false;
    }
    prev = row.hash;
    return true;
  });
  return v;
}

}  // namespace cb::audit
