#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "common/status.h"
#include "daemon/bridge/bridge.h"
#include "daemon/config.h"
#include "daemon/redact/redactor.h"

// The configuration as the running daemon uses it, built by the one path that start-up, SIGHUP
// and --check-config share: load_config() (syntax, keys, types, ranges, who may write the file),
// then validate() (what needs more than the text).
namespace cb {

struct RuntimeConfig {
  bridge::Settings bridge;
  std::shared_ptr<const redact::Redactor> redactor;  // built-in rules plus [[redaction.rules]]
  // [yolo] with every workspace root checked. Where the daemon keeps its files (hidden from the
  // sandbox) and whether the sandbox can run here are the daemon's to add (daemon/daemon.h).
  bridge::ExecSettings exec;
  std::string exec_max_mode;  // as written, for the log
  store::Synchronous synchronous = store::Synchronous::kNormal;
  StoreConfig store;  // [store]: url checked by libpq's parser, no password in it
  LimitsConfig limits;
  std::string log_level = "info";
  std::filesystem::path source;  // empty: defaults only
};

// Compiles the redaction rules and checks every [yolo] workspace root (and that execution, when
// on, has one). Touches no socket, state directory or sandbox.
Result<RuntimeConfig> validate(const Config& config);

// load_config() then validate().
Result<RuntimeConfig> load_runtime_config(const std::filesystem::path& path, bool required);

}  // namespace cb
