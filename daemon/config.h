#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "daemon/redact/redactor.h"
#include "daemon/bridge/settings.h"
#include "daemon/store/database.h"

// The optional TOML configuration file. Every key has a default; unknown keys and values of the
// wrong type or range are refused with the file name and line number.
namespace cb {

struct ExecConfig {
  bool enabled = false;
  std::string max_mode = "safe";  // the ceiling an agent may ask for
  std::vector<std::string> workspaces;
  std::int64_t max_timeout_seconds = 300;
  bool allow_network = false;
  std::int64_t approval_timeout_seconds = 300;
  std::int64_t output_max_bytes = 65536;
};

struct LimitsConfig {
  std::int64_t max_frame_bytes = 1 << 20;
  std::int64_t max_connections = 1024;
  std::int64_t max_write_queue_bytes = 16 << 20;
};

// [store] (issue 27): where the conversations live. "sqlite" (the default): bridge.db in the
// state directory, this daemon's alone. "postgresql": a team's shared database at `url`
// (libpq's own form; the password only in libpq's password file), in `schema`, this daemon
// shown as `host`.
struct StoreConfig {
  std::string backend = "sqlite";
  std::string url;
  std::string schema;
  std::string host;  // empty: the machine's hostname
};

struct Config {
  bridge::Settings bridge;
  store::Synchronous synchronous = store::Synchronous::kNormal;
  StoreConfig store;
  std::vector<redact::RedactionRule> redaction_rules;
  ExecConfig exec;
  LimitsConfig limits;
  std::string log_level = "info";
  std::filesystem::path source;  // empty: defaults only
};

// Parses TOML text; `source_name` appears in error messages. Syntax, keys, types and ranges;
// what needs more than the text (redaction patterns, workspace roots) is validate()'s
// (daemon/runtime_config.h).
Result<Config> parse_config(std::string_view text, const std::string& source_name);
// Loads a file. A missing file yields the defaults unless `required` (it was named explicitly).
// The file decides whether agents may run commands, so only this user (or root) may be able to
// change it: it is refused when it is owned by another user or writable by group or others, or
// when its directory is (a sticky directory such as /tmp is accepted: there nobody can replace
// or remove a file of somebody else's). See README "Configuration".
Result<Config> load_config(const std::filesystem::path& path, bool required);

}  // namespace cb
