#include "daemon/runtime_config.h"

#include "daemon/store/pg/pg_connection.h"

#include "daemon/exec/policy.h"
#include "daemon/exec/workspace.h"

namespace cb {

Result<RuntimeConfig> validate(const Config& c) {
  const std::string where = c.source.empty() ? std::string("config") : c.source.string();
  RuntimeConfig r;
  auto redactor = redact::Redactor::create(c.redaction_rules);
  if (!redactor) return Status::error("config", where + ": " + redactor.status().message());
  r.redactor = std::move(redactor).value();

  bridge::ExecSettings& s = r.exec;
  s.enabled = c.exec.enabled;
  s.max_mode = exec::parse_mode(c.exec.max_mode).value_or(exec::Mode::kSafe);
  for (const auto& root : c.exec.workspaces) {
    if (const Status bad = exec::check_allowed_root(root); !bad.ok()) {
      return Status::error("config", where + ": [yolo] workspaces: " + bad.message());
    }
    s.workspaces.emplace_back(root);
  }
  if (s.enabled && s.workspaces.empty()) {
    return Status::error(
        "config",
        where + ": [yolo] enabled = true needs at least one directory in [yolo] workspaces");
  }
  s.max_timeout_seconds = c.exec.max_timeout_seconds;
  s.allow_network = c.exec.allow_network;
  s.approval_timeout_seconds = c.exec.approval_timeout_seconds;
  s.output_max_bytes = static_cast<std::size_t>(c.exec.output_max_bytes);
  r.exec_max_mode = c.exec.max_mode;

  r.bridge = c.bridge;
  r.synchronous = c.synchronous;
  if (c.store.backend == "postgresql") {
    if (auto problem = store::pg::conninfo_problem(c.store.url)) {
      return Status::error("config", where + ": [store] url: " + *problem);
    }
  }
  r.store = c.store;
  r.limits = c.limits;
  r.log_level = c.log_level;
  r.source = c.source;
  return r;
}

Result<RuntimeConfig> load_runtime_config(const std::filesystem::path& path, bool required) {
  auto loaded = load_config(path, required);
  if (!loaded.ok()) return std::move(loaded).status();
  return validate(*loaded);
}

}  // namespace cb
