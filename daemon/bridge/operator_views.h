#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/status.h"
#include "daemon/audit/audit.h"
#include "daemon/bridge/agents.h"
#include "daemon/bridge/auth.h"
#include "daemon/bridge/context.h"
#include "daemon/bridge/mailbox.h"
#include "daemon/bridge/view_types.h"

// What the operator sees and does through ctl.sock (never reachable from mcp.sock). The views
// are plain structs (view_types.h); admin/ renders them as the ctl protocol's documents
// (daemon/admin/views_render.h, docs/cli.md).
namespace cb::bridge {

class OperatorViews {
 public:
  OperatorViews(Context& ctx, Authenticator& auth, Mailbox& mailbox, Agents& agents)
      : ctx_(ctx), auth_(auth), mailbox_(mailbox), agents_(agents) {}
  OperatorViews(const OperatorViews&) = delete;
  OperatorViews& operator=(const OperatorViews&) = delete;

  ConversationList list_conversations();
  // Every named agent, stored or live, with presence and its total unread mail.
  OperatorAgentList list_agents();
  Result<ConversationDetail> show_conversation(const std::string& id);
  // Re-derives both seats' tokens (audited, with `who` asked). A conversation of agents has
  // none: refused with "agents_conversation".
  Result<SeatTokens> tokens(const std::string& id, const std::string& who);
  AuditPage audit_entries(const std::string& conversation_id, std::int64_t limit);
  audit::AuditLog::Verification verify_audit() { return ctx_.audit.verify(); }
  // Records an operator action in the audit trail.
  void audit_admin(const std::string& action, const std::string& conversation_id,
                   const std::string& outcome, const nlohmann::json& details);
  // Deletes expired conversations (all of them, or only those expired before `before_ms`).
  CleanupReport cleanup(std::optional<std::int64_t> before_ms = std::nullopt);
  BridgeStats stats();
  // Messages stored in the last `window_ms`, as pairs of sender and recipient (TalkGraph).
  TalkGraph talk(std::int64_t window_ms);

 private:
  Context& ctx_;
  Authenticator& auth_;
  Mailbox& mailbox_;
  Agents& agents_;
  std::vector<MemberView> members_of(const std::string& conversation_id);
};

}  // namespace cb::bridge
