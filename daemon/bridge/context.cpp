#include "daemon/bridge/context.h"

#include <spdlog/spdlog.h>

namespace cb::bridge {

int Events::subscribe(Listener listener) {
  const int id = next_++;
  listeners_[id] = std::move(listener);
  return id;
}

void Events::emit(const Json& event) {
  // Copy: a listener may unsubscribe while being called.
  auto listeners = listeners_;
  for (auto& [id, fn] : listeners) fn(event);
}

Context::Context(store::Database& database, const Clock& clk, std::string audit_key, Settings s,
                 std::shared_ptr<const redact::Redactor> r)
    : db(database),
      clock(clk),
      settings(s),
      redactor(std::move(r)),
      conversations(database.conversations()),
      messages(database.messages()),
      inboxes(database.inboxes()),
      statuses(database.statuses()),
      agents(database.agents()),
      members(database.members()),
      audit(database, clk, std::move(audit_key)) {}

Status Context::refuse(const std::string& conversation_id, const std::string& session,
                       const char* action, Status refusal, const Json& details) {
  ++refusals[refusal.code()];
  Json d = details;
  d["reason"] = refusal.code();
  try {
    audit.record(conversation_id, session, action, "refused", d);
  } catch (const std::exception& e) {
    spdlog::error("audit write failed for a refused {}: {}", action, e.what());
    audit.reload_head();
  }
  return refusal;
}

}  // namespace cb::bridge
