#include "daemon/admin/approval_methods.h"

#include "common/ctl_protocol.h"
#include "daemon/admin/views_render.h"

namespace cb::admin {
namespace {

// The argv the operator was shown, if the caller names one.
Result<std::optional<std::vector<std::string>>> expected_argv(const Json& params) {
  auto it = params.find("argv");
  if (it == params.end() || it->is_null()) return std::optional<std::vector<std::string>>();
  if (!it->is_array()) return invalid_params("argv must be an array of strings");
  std::vector<std::string> argv;
  for (const Json& a : *it) {
    if (!a.is_string()) return invalid_params("argv must be an array of strings");
    argv.push_back(a.get<std::string>());
  }
  return std::optional<std::vector<std::string>>(std::move(argv));
}

}  // namespace

void register_approval_methods(AdminApi& api) {
  bridge::ExecService& b = api.bridge().exec();
  api.add(ctl_protocol::kApprovals,
          [&b](const AdminCall&) -> Result<Json> { return render(b.approvals()); });
  api.add(ctl_protocol::kApprovalDecide, [&b](const AdminCall& call) -> Result<Json> {
    const Result<std::string> id = required_string(call.params, "id");
    if (!id) return id.status();
    const Result<std::string> decision = required_string(call.params, "decision");
    if (!decision) return decision.status();
    if (*decision != "approve" && *decision != "deny") {
      return invalid_params("decision must be \"approve\" or \"deny\"");
    }
    Result<std::optional<std::vector<std::string>>> argv = expected_argv(call.params);
    if (!argv) return argv.status();
    const bridge::Caller op{call.peer.connection_id, call.peer.pid, call.peer.uid};
    Result<bridge::ApprovalDecision> r =
        b.decide_approval(*id, *decision == "approve", op, std::move(argv).value());
    if (!r) {
      return r.status().code() == "unknown_approval" ? not_found(r.status().message())
                                                     : failed(r.status().message());
    }
    return render(r.value());
  });
}

}  // namespace cb::admin
