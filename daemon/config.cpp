#include "daemon/config.h"

#include <toml++/toml.h>

#include <set>

#include "common/one_line.h"
#include "daemon/config_file.h"

namespace cb {
namespace {

class Reader {
 public:
  explicit Reader(std::string source) : source_(std::move(source)) {}

  std::string where(const toml::node& node) const {
    const auto& begin = node.source().begin;
    return source_ + ":" + std::to_string(begin.line);
  }

  // Refuses keys of `table` not in `known`.
  bool only(const toml::table& table, const std::string& section,
            const std::set<std::string>& known) {
    for (const auto& [key, node] : table) {
      if (!known.count(std::string(key.str()))) {
        fail(where(node) + ": unknown key '" + std::string(key.str()) + "'" +
             (section.empty() ? "" : " in [" + section + "]") + " — see README for the keys");
        return false;
      }
    }
    return true;
  }

  void integer(const toml::table& t, const std::string& section, const char* key,
               std::int64_t* out, std::int64_t min, std::int64_t max) {
    const toml::node* n = t.get(key);
    if (!n) return;
    // Only an integer node: value<int64_t>() would also convert a float, and a float beyond
    // int64's range (max_frame_bytes = 655e36, found by the config fuzzer) is undefined there.
    const auto* i = n->as_integer();
    if (!i) {
      fail(where(*n) + ": " + section + "." + key + " must be an integer");
      return;
    }
    const std::int64_t v = i->get();
    if (v < min || v > max) {
      fail(where(*n) + ": " + section + "." + key + " must be between " + std::to_string(min) +
           " and " + std::to_string(max));
      return;
    }
    *out = v;
  }

  void boolean(const toml::table& t, const std::string& section, const char* key, bool* out) {
    const toml::node* n = t.get(key);
    if (!n) return;
    if (!n->is_boolean()) {
      fail(where(*n) + ": " + section + "." + key + " must be true or false");
      return;
    }
    *out = *n->value<bool>();
  }

  void string(const toml::table& t, const std::string& section, const char* key, std::string* out,
              const std::set<std::string>& allowed = {}) {
    const toml::node* n = t.get(key);
    if (!n) return;
    if (!n->is_string()) {
      fail(where(*n) + ": " + section + "." + key + " must be a string");
      return;
    }
    std::string v = *n->value<std::string>();
    if (!allowed.empty() && !allowed.count(v)) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + ("\"" + a + "\"");
      fail(where(*n) + ": " + section + "." + key + " must be one of " + list);
      return;
    }
    *out = std::move(v);
  }

  const toml::table* section(const toml::table& root, const char* name) {
    const toml::node* n = root.get(name);
    if (!n) return nullptr;
    if (!n->is_table()) {
      fail(where(*n) + ": " + name + " must be a table ([" + name + "])");
      return nullptr;
    }
    return n->as_table();
  }

  void fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
  }
  const std::string& error() const { return error_; }

 private:
  std::string source_;
  std::string error_;
};

// A schema name used unquoted in SQL: lower-case letters, digits and underscores.
bool valid_schema_name(const std::string& s) {
  if (s.empty() || s.size() > 63 || (s[0] >= '0' && s[0] <= '9')) return false;
  for (char ch : s) {
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_')) return false;
  }
  return true;
}

}  // namespace

Result<Config> parse_config(std::string_view text, const std::string& source_name) {
  toml::table root;
  try {
    root = toml::parse(text, source_name);
  } catch (const toml::parse_error& e) {
    // toml++ quotes the offending bytes, newlines and control characters included.
    return Status::error("config", source_name + ":" + std::to_string(e.source().begin.line) +
                                       ": " + one_line(e.description()));
  }
  Config c;
  Reader r(source_name);
  if (!r.only(root, "", {"conversation", "rate_limits", "storage", "store", "redaction", "yolo",
                         "limits", "log", "agents"})) {
    return Status::error("config", r.error());
  }
  if (auto* t = r.section(root, "conversation")) {
    r.only(*t, "conversation", {"ttl_seconds", "message_max_chars", "retention_days",
                                "alive_seconds", "read_page_size", "redeliver_after_seconds"});
    r.integer(*t, "conversation", "ttl_seconds", &c.bridge.ttl_seconds, 60, 365LL * 86400);
    r.integer(*t, "conversation", "message_max_chars", &c.bridge.message_max_chars, 1, 1'000'000);
    r.integer(*t, "conversation", "retention_days", &c.bridge.retention_days, 0, 3650);
    r.integer(*t, "conversation", "alive_seconds", &c.bridge.alive_seconds, 1, 86400);
    r.integer(*t, "conversation", "read_page_size", &c.bridge.default_read_limit, 1, 200);
    r.integer(*t, "conversation", "redeliver_after_seconds", &c.bridge.redeliver_after_seconds, 1,
              86400);
  }
  if (auto* t = r.section(root, "agents")) {
    r.only(*t, "agents", {"accept_from"});
    std::string accept = "all";
    r.string(*t, "agents", "accept_from", &accept, {"all", "project"});
    c.bridge.accept_from_project_only = accept == "project";
  }
  if (auto* t = r.section(root, "rate_limits")) {
    r.only(*t, "rate_limits", {"send_per_minute", "send_per_hour", "send_per_day",
                               "read_per_minute", "auth_failures_per_minute"});
    r.integer(*t, "rate_limits", "send_per_minute", &c.bridge.send_per_minute, 0, 1'000'000);
    r.integer(*t, "rate_limits", "send_per_hour", &c.bridge.send_per_hour, 0, 1'000'000);
    r.integer(*t, "rate_limits", "send_per_day", &c.bridge.send_per_day, 0, 10'000'000);
    r.integer(*t, "rate_limits", "read_per_minute", &c.bridge.read_per_minute, 0, 1'000'000);
    r.integer(*t, "rate_limits", "auth_failures_per_minute", &c.bridge.auth_failures_per_minute,
              0, 1'000'000);
  }
  if (auto* t = r.section(root, "storage")) {
    r.only(*t, "storage", {"synchronous"});
    std::string sync = "normal";
    r.string(*t, "storage", "synchronous", &sync, {"normal", "full"});
    c.synchronous = sync == "full" ? store::Synchronous::kFull : store::Synchronous::kNormal;
  }
  if (auto* t = r.section(root, "store")) {
    r.only(*t, "store", {"backend", "url", "schema", "host"});
    r.string(*t, "store", "backend", &c.store.backend, {"sqlite", "postgresql"});
    r.string(*t, "store", "url", &c.store.url);
    r.string(*t, "store", "schema", &c.store.schema);
    r.string(*t, "store", "host", &c.store.host);
    if (r.error().empty()) {
      if (c.store.backend == "postgresql" && c.store.url.empty()) {
        r.fail(source_name + ": store.url is required with backend = \"postgresql\" (libpq's "
               "form, e.g. \"host=db.example dbname=bridge user=team sslmode=verify-full\")");
      } else if (c.store.backend == "sqlite" && !c.store.url.empty()) {
        r.fail(source_name + ": store.url is used only with backend = \"postgresql\"");
      } else if (!c.store.schema.empty() && !valid_schema_name(c.store.schema)) {
        r.fail(source_name + ": store.schema must be a lower-case SQL name (a-z, 0-9, _; at "
               "most 63 characters, not starting with a digit)");
      } else if (c.store.host.size() > 64 || c.store.host.find_first_of("\t\r\n") != std::string::npos) {
        r.fail(source_name + ": store.host must be one line of at most 64 characters");
      }
    }
  }
  if (auto* t = r.section(root, "limits")) {
    r.only(*t, "limits", {"max_frame_bytes", "max_connections", "max_write_queue_bytes"});
    r.integer(*t, "limits", "max_frame_bytes", &c.limits.max_frame_bytes, 4096, 64 << 20);
    r.integer(*t, "limits", "max_connections", &c.limits.max_connections, 1, 100'000);
    r.integer(*t, "limits", "max_write_queue_bytes", &c.limits.max_write_queue_bytes, 65536,
              1LL << 30);
  }
  if (auto* t = r.section(root, "log")) {
    r.only(*t, "log", {"level"});
    r.string(*t, "log", "level", &c.log_level,
             {"trace", "debug", "info", "warn", "error", "critical", "off"});
  }
  if (auto* t = r.section(root, "yolo")) {
    r.only(*t, "yolo", {"enabled", "max_mode", "workspaces", "max_timeout_seconds", "allow_network",
                        "approval_timeout_seconds", "output_max_bytes"});
    r.boolean(*t, "yolo", "enabled", &c.exec.enabled);
    r.string(*t, "yolo", "max_mode", &c.exec.max_mode, {"safe", "restricted", "yolo"});
    r.integer(*t, "yolo", "max_timeout_seconds", &c.exec.max_timeout_seconds, 1, 3600);
    r.boolean(*t, "yolo", "allow_network", &c.exec.allow_network);
    r.integer(*t, "yolo", "approval_timeout_seconds", &c.exec.approval_timeout_seconds, 10, 86400);
    r.integer(*t, "yolo", "output_max_bytes", &c.exec.output_max_bytes, 1024, 16 << 20);
    if (const toml::node* n = t->get("workspaces")) {
      const toml::array* arr = n->as_array();
      if (!arr) {
        r.fail(r.where(*n) + ": yolo.workspaces must be an array of directory paths");
      } else {
        for (const auto& item : *arr) {
          if (!item.is_string()) {
            r.fail(r.where(item) + ": yolo.workspaces entries must be strings");
            break;
          }
          c.exec.workspaces.push_back(*item.value<std::string>());
        }
      }
    }
  }
  if (auto* t = r.section(root, "redaction")) {
    r.only(*t, "redaction", {"rules"});
    if (const toml::node* n = t->get("rules")) {
      const toml::array* arr = n->as_array();
      if (!arr || !arr->is_array_of_tables()) {
        r.fail(r.where(*n) + ": redaction.rules must be [[redaction.rules]] tables");
      } else {
        for (const auto& item : *arr) {
          const toml::table& rule = *item.as_table();
          r.only(rule, "redaction.rules", {"name", "pattern", "placeholder"});
          redact::RedactionRule out;
          r.string(rule, "redaction.rules", "name", &out.name);
          r.string(rule, "redaction.rules", "pattern", &out.pattern);
          r.string(rule, "redaction.rules", "placeholder", &out.placeholder);
          if (out.name.empty() || out.pattern.empty() || out.placeholder.empty()) {
            r.fail(r.where(item) + ": each [[redaction.rules]] needs name, pattern and placeholder");
          }
          c.redaction_rules.push_back(std::move(out));
        }
      }
    }
  }
  if (!r.error().empty()) return Status::error("config", r.error());
  return c;
}

Result<Config> load_config(const std::filesystem::path& path, bool required) {
  auto text = read_trusted_file(path);
  if (!text.ok()) {
    if (text.status().code() == "not_found" && !required) return Config{};
    return std::move(text).status();
  }
  auto parsed = parse_config(*text, path.string());
  if (parsed.ok()) parsed->source = path;
  return parsed;
}

}  // namespace cb
