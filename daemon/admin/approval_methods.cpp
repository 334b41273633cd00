#include "daemon/admin/approval_methods.h"

#include "common/ctl_protocol.h"
#include "daemon/admin/views_render.h"
#include "daemon/rpc/jsonrpc.h"

namespace cb::admin {
namespace {

std::optional<std::vector<std::string>> expected_argv(const Json& params) {
  auto it = params.find("argv");
  if (it == params.end() || it->is_null()) return std::nullopt;
  if (!it->is_array()) {
    throw AdminError(mcp::rpc_error::kInvalidParams, "argv must be an array of strings");
  }
  std::vector<std::string> argv;
  for (const Json& a : *it) {
    if (!a.is_string()) {
      throw AdminError(mcp::rpc_error::kInvalidParams, "argv must be an array of strings");
    }
    argv.push_back(a.get<std::string>());
  }
  return argv;
}

}  // namespace

void register_approval_methods(AdminApi& api) {
  bridge::ExecService& b = api.bridge().exec();
  api.add(ctl_protocol::kApprovals, [&b](const AdminCall&) { return render(b.approvals()); });
  api.add(ctl_protocol::kApprovalDecide, [&b](const AdminCall& call) {
    const std::string id = required_string(call.params, "id");
    const std::string decision = required_string(call.params, "decision");
    if (decision != "approve" && decision != "deny") {
      throw AdminError(mcp::rpc_error::kInvalidParams, "decision must be \"approve\" or \"deny\"");
    }
    const bridge::Caller op{call.peer.connection_id, call.peer.pid, call.peer.uid};
    Result<bridge::ApprovalDecision> r = b.decide_approval(id, decision == "approve", op, expected_argv(call.params));
    if (!r) {
      throw AdminError(r.status().code() == "unknown_approval" ? kNotFound : kFailed,
                       r.status().message());
    }
    return render(r.value());
  });
}

}  // namespace cb::admin
