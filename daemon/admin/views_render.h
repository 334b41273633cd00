#pragma once

#include <nlohmann/json.hpp>

#include "daemon/bridge/exec_types.h"
#include "daemon/bridge/view_types.h"

// The ctl protocol's documents (docs/cli.md): the operator's views and approvals rendered
// as JSON for claude-bridgectl. admin/ owns the ctl wire, so their shape lives here.
namespace cb::admin {

using Json = nlohmann::json;

Json render(const bridge::ConversationList& list);  // {"conversations": [...]}
Json render(const bridge::ConversationDetail& detail);
Json render(const bridge::OperatorAgentList& list);  // {"agents": [...]}
Json render(const bridge::SeatTokens& tokens);
Json render(const bridge::AuditPage& page);        // {"entries": [...]}
Json render(const bridge::CleanupReport& report);  // {"removed": [...], "count": n}
Json render(const bridge::BridgeStats& stats);
Json render(const bridge::PendingApprovals& pending);  // {"approvals": [...]}
Json render(const bridge::ApprovalDecision& decision);

}  // namespace cb::admin
