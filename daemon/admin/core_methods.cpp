// The operator's basic methods: the original CLI's five plus stats, redact and version.
#include <filesystem>

#include "cb_config.h"
#include "common/ctl_protocol.h"
#include "daemon/admin/admin_api.h"
#include "daemon/admin/views_render.h"

namespace cb::admin {
namespace {

// A view rendered, or the product's refusal as the ctl protocol's error.
template <class T>
Result<Json> rendered(const Result<T>& result) {
  if (!result) {
    const Status& r = result.status();
    return r.code() == "unknown_conversation" ? not_found(r.message()) : failed(r.message());
  }
  return render(result.value());
}

// The store's size: the file and its write-ahead log (0 for one in memory), or the team's
// PostgreSQL database.
std::int64_t database_bytes(store::Database& db) { return db.size_bytes(); }

}  // namespace

void register_core_methods(AdminApi& api) {
  bridge::OperatorViews& b = api.bridge().ops();
  api.add(ctl_protocol::kPing, [](const AdminCall&) -> Result<Json> { return Json::object(); });
  api.add(ctl_protocol::kVersion, [&api](const AdminCall&) -> Result<Json> {
    Json j{{"version", CB_VERSION}};
    if (api.info().paths) j["paths"] = api.info().paths();
    return j;
  });
  api.add(ctl_protocol::kList, [&b](const AdminCall& call) -> Result<Json> {
    b.audit_admin("admin_list", "", "ok", call.who());
    return render(b.list_conversations());
  });
  api.add(ctl_protocol::kAgents, [&b](const AdminCall& call) -> Result<Json> {
    b.audit_admin("admin_agents", "", "ok", call.who());
    return render(b.list_agents());
  });
  api.add(ctl_protocol::kShow, [&b](const AdminCall& call) -> Result<Json> {
    const Result<std::string> id = required_string(call.params, "conversation_id");
    if (!id) return id.status();
    b.audit_admin("admin_show", *id, "ok", call.who());
    return rendered(b.show_conversation(*id));
  });
  api.add(ctl_protocol::kTokens, [&b](const AdminCall& call) -> Result<Json> {
    const Result<std::string> id = required_string(call.params, "conversation_id");
    if (!id) return id.status();
    return rendered(b.tokens(
        *id, "uid " + std::to_string(call.peer.uid) + " pid " + std::to_string(call.peer.pid)));
  });
  api.add(ctl_protocol::kAudit, [&b](const AdminCall& call) -> Result<Json> {
    const Result<std::string> conv = optional_string(call.params, "conversation_id");
    if (!conv) return conv.status();
    const Result<std::int64_t> limit = optional_int(call.params, "limit", 50, 1, 100000);
    if (!limit) return limit.status();
    Json out = render(b.audit_entries(*conv, *limit));
    b.audit_admin("admin_audit", *conv, "ok", call.who());
    return out;
  });
  api.add(ctl_protocol::kAuditVerify, [&b](const AdminCall& call) -> Result<Json> {
    auto v = b.verify_audit();
    b.audit_admin("admin_audit_verify", "", v.ok ? "ok" : "tampered", call.who());
    Json out{{"ok", v.ok}, {"entries", v.entries}};
    if (!v.ok) {
      out["first_bad_id"] = v.first_bad_id;
      out["problem"] = v.problem;
    }
    return out;
  });
  api.add(ctl_protocol::kCleanup, [&b](const AdminCall& call) -> Result<Json> {
    Json out = render(b.cleanup());
    b.audit_admin("admin_cleanup", "", "ok", call.who());
    return out;
  });
  api.add(ctl_protocol::kStats, [&b, &api](const AdminCall&) -> Result<Json> {
    Json out = render(b.stats());
    out["hook_waits"] = api.bridge().hooks().waits();  // blocked client hooks (issue 24)
    if (api.info().runtime_stats) out.update(api.info().runtime_stats());
    if (api.info().database) out["database_bytes"] = database_bytes(*api.info().database);
    return out;
  });
  api.add(ctl_protocol::kRedact, [&api](const AdminCall& call) -> Result<Json> {
    const Result<std::string> text = required_string(call.params, "text");
    if (!text) return text.status();
    auto r = api.bridge().redactor().redact(*text);
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
