#pragma once

#include "daemon/admin/admin_api.h"

// The operator's side of command execution: the queue of commands waiting for a person.
namespace cb::admin {

// approvals {} → {"approvals": [{id, conversation_id, session_id, role, argv, command,
//   workspace, mode, sandbox, allow_network, timeout_seconds, client_confirmation, created_at,
//   expires_at}]}
// approval_decide {id, decision: "approve"|"deny", argv?} → {id, decision, conversation_id,
//   session_id, command}. With argv, the decision applies only if the approval is for exactly
//   that argv (the one the operator was shown). Audited with the caller's uid and pid.
//
// The daemon cannot know whether a person typed the decision: claude-bridgectl asks on the
// controlling terminal before it calls approval_decide, but any process of this user may speak
// to ctl.sock directly (see YOLO_MODE.md, residual risks).
void register_approval_methods(AdminApi& api);

}  // namespace cb::admin
