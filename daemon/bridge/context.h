#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "daemon/audit/audit.h"
#include "daemon/bridge/presence.h"
#include "daemon/bridge/settings.h"
#include "daemon/redact/redactor.h"
#include "daemon/store/tables.h"

// What every part of the product shares: the database and its tables, the clock, the audit
// chain, the redactor, the settings, live presence and the operator's event stream. Owned by
// Bridge; each service holds a reference. Single-threaded.
namespace cb::bridge {

using Json = nlohmann::json;

// Live events for `claude-bridgectl watch` (texts already redacted).
class Events {
 public:
  using Listener = std::function<void(const Json& event)>;
  int subscribe(Listener listener);
  void unsubscribe(int id) { listeners_.erase(id); }
  void emit(const Json& event);
  // Whether anyone listens: an event not watched is not built.
  bool watched() const { return !listeners_.empty(); }

 private:
  std::map<int, Listener> listeners_;
  int next_ = 1;
};

struct Context {
  Context(store::Database& database, const Clock& clk, std::string audit_key, Settings s,
          std::shared_ptr<const redact::Redactor> r);

  // Records a refusal in the audit chain (a failed audit write is logged, never thrown) and
  // counts it by code for `stats`; returns it.
  Status refuse(const std::string& conversation_id, const std::string& session,
                const char* action, Status refusal, const Json& details = Json::object());

  store::Database& db;
  const Clock& clock;
  Settings settings;
  std::shared_ptr<const redact::Redactor> redactor;
  store::Conversations& conversations;
  store::Messages& messages;
  store::Inboxes& inboxes;
  store::Statuses& statuses;
  store::Agents& agents;
  store::Members& members;
  audit::AuditLog audit;
  Presence presence;
  Events events;
  std::map<std::string, std::int64_t> refusals;  // by code, since start
};

}  // namespace cb::bridge
