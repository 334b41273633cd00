// backup / restore of the whole database while the daemon runs, and the integrity check.
//
// Both directions use SQLite's online backup API on the daemon's own connection, in one step on
// the event loop: a backup is one consistent snapshot however busy the sessions are, and a
// restore replaces the contents under the live connection without reopening it. Paths are
// absolute and seen through the daemon's file system view (a hardened systemd unit may give it
// a private /tmp).
#include <chrono>

#include "common/ctl_protocol.h"
#include "daemon/admin/extra_methods.h"
#include "daemon/store/tables.h"
#include "daemon/store/transfer.h"

namespace cb::admin {
namespace {

Result<std::filesystem::path> absolute_path(const AdminCall& call) {
  const Result<std::string> text = required_string(call.params, "path");
  if (!text) return text.status();
  std::filesystem::path p = *text;
  if (!p.is_absolute()) return invalid_params("path must be absolute: " + p.string());
  return p;
}

Result<store::Database*> database(AdminApi& api, const char* what) {
  if (!api.info().database) return failed(std::string(what) + " is not available in this daemon");
  return api.info().database;
}

// Backup and restore copy the embedded database's file; a team's PostgreSQL store has its own
// tools for that.
Result<store::SqliteDatabase*> sqlite_file(AdminApi& api, const char* what) {
  const Result<store::Database*> live = database(api, what);
  if (!live) return live.status();
  if (auto* s = dynamic_cast<store::SqliteDatabase*>(*live)) return s;
  return failed(std::string(what) +
                " copies the embedded database file; this daemon's store is the team's "
                "PostgreSQL — use pg_dump/pg_restore on it (docs/teams.md), or export for "
                "conversations");
}

std::int64_t elapsed_ms(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               since)
      .count();
}

}  // namespace

void register_backup_methods(AdminApi& api) {
  api.add(ctl_protocol::kBackup, [&api](const AdminCall& call) -> Result<Json> {
    const Result<std::filesystem::path> where = absolute_path(call);
    if (!where) return where.status();
    const std::filesystem::path& path = *where;
    const Result<bool> overwrite_param = optional_bool(call.params, "overwrite", false);
    if (!overwrite_param) return overwrite_param.status();
    const bool overwrite = *overwrite_param;
    const Result<store::SqliteDatabase*> live = sqlite_file(api, "backup");
    if (!live) return live.status();
    store::SqliteDatabase& db = **live;
    const auto started = std::chrono::steady_clock::now();
    const auto r = store::backup_database(db, path, overwrite);
    const std::int64_t ms = elapsed_ms(started);
    Json details = call.who();
    details["path"] = path.string();
    if (!r) {
      details["error"] = r.status().message();
      api.bridge().ops().audit_admin("admin_backup", "", "failed", details);
      std::string line = r.status().message();
      if (r.status().code() == store::codes::kNotPermitted) {
        // The shipped systemd unit lets the daemon write only below its state directory.
        line += " — the daemon may write only where its service allows (e.g. " +
                db.path().parent_path().string() + "); back up there and copy the file";
      }
      return failed(line);
    }
    details["pages"] = r->pages;
    details["bytes"] = r->bytes;
    api.bridge().ops().audit_admin("admin_backup", "", "ok", details);
    return Json{{"path", path.string()},
                {"pages", r->pages},
                {"bytes", r->bytes},
                {"duration_ms", ms},
                {"schema_version", store::SqliteDatabase::latest_schema_version()}};
  });

  api.add(ctl_protocol::kRestore, [&api](const AdminCall& call) -> Result<Json> {
    const Result<std::filesystem::path> where = absolute_path(call);
    if (!where) return where.status();
    const std::filesystem::path& path = *where;
    const Result<bool> check_only_param = optional_bool(call.params, "check_only", false);
    if (!check_only_param) return check_only_param.status();
    const bool check_only = *check_only_param;
    const Result<store::SqliteDatabase*> live = sqlite_file(api, "restore");
    if (!live) return live.status();
    store::SqliteDatabase& db = **live;
    bridge::Bridge& b = api.bridge();
    Json details = call.who();
    details["path"] = path.string();
    details["check_only"] = check_only;
    const auto started = std::chrono::steady_clock::now();
    const auto r = check_only ? store::check_backup_file(path) : store::restore_database(db, path);
    const std::int64_t ms = elapsed_ms(started);
    if (!r) {
      const bool bad_file = r.status().code() == store::codes::kBadFile;
      details["error"] = r.status().message();
      b.ops().audit_admin("admin_restore", "", bad_file ? "refused" : "failed", details);
      return bad_file ? bad_input_file(r.status().message()) : failed(r.status().message());
    }
    Json out{{"path", path.string()},
             {"pages", r->pages},
             {"bytes", r->bytes},
             {"duration_ms", ms},
             {"restored", !check_only}};
    if (!check_only) {
      // The chain head cached by the audit log belongs to the replaced contents.
      b.reload_after_restore();
      const auto v = b.ops().verify_audit();
      out["audit_ok"] = v.ok;
      out["audit_entries"] = v.entries;
      if (!v.ok) out["audit_problem"] = v.problem;
      out["conversations"] = b.ops().stats().conversations;
      details["audit_ok"] = v.ok;
    }
    b.ops().audit_admin("admin_restore", "", "ok", details);
    return out;
  });

  api.add(ctl_protocol::kIntegrity, [&api](const AdminCall& call) -> Result<Json> {
    const Result<store::Database*> live = database(api, "integrity");
    if (!live) return live.status();
    store::Database& db = **live;
    const std::string verdict = db.integrity_check();
    api.bridge().ops().audit_admin("admin_integrity", "", verdict == "ok" ? "ok" : "failed",
                                   call.who());
    Json out{{"ok", verdict == "ok"},
             {"result", verdict},
             {"schema_version", db.schema_version()},
             {"latest_schema_version", db.latest_schema()},
             {"backend", db.backend()},
             {"database", db.location()}};
    if (auto t = db.transport()) out["tls"] = *t;
    if (store::Team* team = db.team()) {
      Json daemons = Json::array();
      for (const auto& d : team->daemons()) {
        daemons.push_back(Json{{"daemon_id", d.daemon_id},
                               {"host", d.host},
                               {"heartbeat_ms", d.heartbeat_ms},
                               {"self", d.daemon_id == team->self().daemon_id}});
      }
      out["daemons"] = std::move(daemons);
    }
    return out;
  });
}

}  // namespace cb::admin
