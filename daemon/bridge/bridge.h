#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/clock.h"
#include "daemon/bridge/agents.h"
#include "daemon/bridge/auth.h"
#include "daemon/bridge/context.h"
#include "daemon/bridge/exec_service.h"
#include "daemon/bridge/hook_notices.h"
#include "daemon/bridge/team_link.h"
#include "daemon/bridge/agent_mail.h"
#include "daemon/bridge/mailbox.h"
#include "daemon/bridge/operator_views.h"
#include "daemon/bridge/settings.h"
#include "daemon/bridge/types.h"
#include "daemon/redact/redactor.h"
#include "daemon/store/database.h"

// The product, one owner per part over one shared Context: authentication (tokens, budgets,
// lockouts), the mailbox (conversations, send, read, wait, presence, delivery), command
// execution (execution and approvals) and the operator's views. Bridge owns them and their
// lifetime; callers go to the part they need. Knows nothing of JSON-RPC or MCP.
namespace cb::bridge {

class Bridge {
 public:
  Bridge(store::Database& db, const Clock& clock, std::string server_key, Settings settings,
         std::shared_ptr<const redact::Redactor> redactor);
  // Commits the open group first: the work it holds for its commit (Database::at_commit) runs
  // while every part still exists.
  ~Bridge();
  Bridge(const Bridge&) = delete;
  Bridge& operator=(const Bridge&) = delete;

  // Swaps in new settings and rules (config reload); connections and waiters stay. A null
  // redactor keeps the current rules.
  void reconfigure(Settings settings, std::shared_ptr<const redact::Redactor> redactor);
  const Settings& settings() const { return ctx_.settings; }
  const redact::Redactor& redactor() const { return *ctx_.redactor; }
  store::Database& database() { return ctx_.db; }
  void set_notifier(Notifier* notifier) { mailbox_.set_notifier(notifier); }
  // Forgets every seat a closed connection was bound to (presence shows no ghost); its agent
  // goes offline.
  void connection_closed(std::uint64_t connection_id) {
    agents_.connection_closed(connection_id);
    ctx_.presence.connection_closed(connection_id);
  }
  // A connection's shim said whom it serves: bind it to an agent (with the seats that agent
  // joined, so mail to them reaches this connection).
  Result<BoundAgent> bind_agent(std::uint64_t connection_id, const ClientIdentity& who);

  Authenticator& auth() { return auth_; }
  Mailbox& mailbox() { return mailbox_; }
  AgentMail& agent_mail() { return agent_mail_; }
  Agents& agents() { return agents_; }
  ExecService& exec() { return exec_; }
  OperatorViews& ops() { return ops_; }
  HookNotices& hooks() { return hooks_; }
  TeamLink& team() { return team_; }
  Events& events() { return ctx_.events; }
  Presence& presence() { return ctx_.presence; }
  // The database was replaced under us (restore): cached state of it is stale.
  void reload_after_restore() {
    ctx_.audit.reload_head();
    agents_.reload();
    hooks_.forget_marks();
  }

 private:
  Context ctx_;
  Authenticator auth_;
  Agents agents_;
  Mailbox mailbox_;
  AgentMail agent_mail_;
  ExecService exec_;
  OperatorViews ops_;
  HookNotices hooks_;
  TeamLink team_;
};

}  // namespace cb::bridge
