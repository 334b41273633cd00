// The operator's basic methods: the original CLI's five plus stats, redact and version.
#include "cb_config.h"
#include "common/ctl_protocol.h"
#include "daemon/admin/admin_api.h"
#include "daemon/admin/views_render.h"
#include "daemon/rpc/jsonrpc.h"

namespace cb::admin {
namespace {

template <class T>
Json unwrap(const Result<T>& result) {
  if (!result) {
    const Status& r = result.status();
    throw AdminError(r.code() == "unknown_conversation" ? kNotFound : kFailed, r.message());
  }
  return render(result.value());
}

}  // namespace

void register_core_methods(AdminApi& api) {
  bridge::OperatorViews& b = api.bridge().ops();
  api.add(ctl_protocol::kPing, [](const AdminCall&) { return Json::object(); });
  api.add(ctl_protocol::kVersion, [&api](const AdminCall&) {
    Json j{{"version", CB_VERSION}};
    if (api.info().paths) j["paths"] = api.info().paths();
    return j;
  });
  api.add(ctl_protocol::kList, [&b](const AdminCall& call) {
    b.audit_admin("admin_list", "", "ok", call.who());
    return render(b.list_conversations());
  });
  api.add(ctl_protocol::kShow, [&b](const AdminCall& call) {
    const std::string id = required_string(call.params, "conversation_id");
    b.audit_admin("admin_show", id, "ok", call.who());
    return unwrap(b.show_conversation(id));
  });
  api.add(ctl_protocol::kTokens, [&b](const AdminCall& call) {
    const std::string id = required_string(call.params, "conversation_id");
    return unwrap(b.tokens(id, "uid " + std::to_string(call.peer.uid) + " pid " +
                                   std::to_string(call.peer.pid)));
  });
  api.add(ctl_protocol::kAudit, [&b](const AdminCall& call) {
    const std::string conv = call.params.value("conversation_id", "");
    const std::int64_t limit = optional_int(call.params, "limit", 50, 1, 100000);
    Json out = render(b.audit_entries(conv, limit));
    b.audit_admin("admin_audit", conv, "ok", call.who());
    return out;
  });
  api.add(ctl_protocol::kAuditVerify, [&b](const AdminCall& call) {
    auto v = b.verify_audit();
    b.audit_admin("admin_audit_verify", "", v.ok ? "ok" : "tampered", call.who());
    Json out{{"ok", v.ok}, {"entries", v.entries}};
    if (!v.ok) {
      out["first_bad_id"] = v.first_bad_id;
      out["problem"] = v.problem;
    }
    return out;
  });
  api.add(ctl_protocol::kCleanup, [&b](const AdminCall& call) {
    Json out = render(b.cleanup());
    b.audit_admin("admin_cleanup", "", "ok", call.who());
    return out;
  });
  api.add(ctl_protocol::kStats, [&b, &api](const AdminCall&) {
    Json out = render(b.stats());
    if (api.info().runtime_stats) out.update(api.info().runtime_stats());
    return out;
  });
  api.add(ctl_protocol::kRedact, [&api](const AdminCall& call) {
    const std::string text = required_string(call.params, "text");
    auto r = api.bridge().redactor().redact(text);
    Json hits = Json::array();
    for (const auto& h : r.hits) {
      hits.push_back(Json{{"kind", h.kind},
                          {"offset", h.offset},
                          {"length", h.length},
                          {"rule", h.rule},
                          {"context", h.context}});
    }
    Json counts = Json::object();
    for (const auto& [k, n] : r.counts()) counts[k] = n;
    return Json{{"text", r.text}, {"hits", hits}, {"counts", counts}};
  });
}

}  // namespace cb::admin
