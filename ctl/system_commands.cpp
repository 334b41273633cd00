// stats, mcp-config, redact (and doctor, in doctor.cpp).
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "common/ctl_protocol.h"
#include "common/exit_codes.h"
#include "common/paths.h"
#include "common/visible.h"
#include "ctl/commands.h"

namespace cb::ctl {
namespace fs = std::filesystem;

namespace {

// What one redact call may carry: the daemon refuses frames over its max_frame_bytes (1 MiB by
// default) and JSON escaping can grow the text.
constexpr std::size_t kMaxRedactBytes = 512 * 1024;

std::string duration(std::int64_t seconds) {
  const std::int64_t d = seconds / 86400, h = seconds / 3600 % 24, m = seconds / 60 % 60,
                     s = seconds % 60;
  char buf[64];
  if (d > 0) {
    std::snprintf(buf, sizeof buf, "%lldd %02lldh %02lldm", static_cast<long long>(d),
                  static_cast<long long>(h), static_cast<long long>(m));
  } else {
    std::snprintf(buf, sizeof buf, "%lldh %02lldm %02llds", static_cast<long long>(h),
                  static_cast<long long>(m), static_cast<long long>(s));
  }
  return buf;
}

void flatten(const Json& j, const std::string& prefix, Table& t) {
  for (const auto& [key, value] : j.items()) {
    const std::string name = prefix.empty() ? key : prefix + "." + key;
    if (value.is_object()) {
      if (value.empty()) t.add({{name}, {"-"}});
      flatten(value, name, t);
    } else if (value.is_string()) {
      t.add({{name}, {value.get<std::string>()}});
    } else if (key == "uptime_seconds" && value.is_number_integer()) {
      t.add({{name}, {value.dump() + " (" + duration(value.get<std::int64_t>()) + ")"}});
    } else {
      t.add({{name}, {value.dump()}});
    }
  }
}

// An object whose values are all objects (per-method latency, ...): one row per key.
bool is_table(const Json& j) {
  if (!j.is_object() || j.empty()) return false;
  for (const auto& [key, value] : j.items()) {
    if (!value.is_object()) return false;
  }
  return true;
}

std::string cell_text(const Json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

int run_stats(Context& ctx) {
  Json r = ctx.call(ctl_protocol::kStats);
  if (ctx.json) {
    print_json(r);
    return exit_code::kOk;
  }
  Table t({"STATISTIC", "VALUE"});
  Json tables = Json::object();
  for (const auto& [key, value] : r.items()) {
    if (is_table(value)) {
      tables[key] = value;
    } else {
      flatten(Json{{key, value}}, "", t);
    }
  }
  t.print(stdout, ctx.out);
  for (const auto& [name, rows] : tables.items()) {
    std::vector<std::string> columns;
    for (const auto& [row, fields] : rows.items()) {
      for (const auto& [field, v] : fields.items()) {
        if (std::find(columns.begin(), columns.end(), field) == columns.end()) {
          columns.push_back(field);
        }
      }
    }
    std::vector<std::string> header{name};
    header.insert(header.end(), columns.begin(), columns.end());
    for (auto& h : header) {
      for (auto& ch : h) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    }
    Table sub(header);
    for (const auto& [row, fields] : rows.items()) {
      std::vector<Table::Cell> cells{{row}};
      for (const auto& c : columns) {
        cells.push_back({fields.contains(c) ? cell_text(fields[c]) : "-"});
      }
      sub.add(std::move(cells));
    }
    std::printf("\n");
    sub.print(stdout, ctx.out);
  }
  return exit_code::kOk;
}

}  // namespace

bool executable_file(const fs::path& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(p.c_str(), X_OK) == 0;
}

std::optional<fs::path> find_shim() {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    for (const fs::path& candidate :
         {self.parent_path() / "claude-bridge-shim",
          self.parent_path().parent_path() / "shim" / "claude-bridge-shim"}) {
      if (executable_file(candidate)) return fs::weakly_canonical(candidate, ec);
    }
  }
  return find_on_path("claude-bridge-shim");
}

namespace {

std::string shell_quote(const std::string& s) {
  bool plain = !s.empty();
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '/' || c == '.' || c == '_' || c == '-' || c == '+';
    plain = plain && ok;
  }
  if (plain) return s;
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

std::vector<std::string> shim_args(Context& ctx) {
  std::vector<std::string> args;
  const fs::path socket_dir = ctx.socket_dir();
  if (socket_dir.lexically_normal() == paths::default_socket_dir().lexically_normal()) return args;
  args = {"--socket-dir", socket_dir.string()};
  fs::path state = paths::resolve("", paths::kStateDirEnv, paths::default_state_dir());
  fs::path config = paths::resolve("", paths::kConfigEnv, paths::default_config_file());
  std::error_code ec;
  if (fs::exists(socket_dir / paths::kCtlSocket, ec)) {
    try {
      const Json daemon =
          ctx.call(ctl_protocol::kVersion, Json::object(), 5).value("paths", Json());
      if (daemon.is_object() && daemon.value("state_dir", "") != "") {
        state = daemon.value("state_dir", "");
      }
      if (daemon.is_object() && daemon.value("config", "") != "") {
        config = daemon.value("config", "");
      }
    } catch (const CtlError&) {
      // No daemon there now: the environment and the defaults are all there is to go on.
    }
  }
  if (state.lexically_normal() != paths::default_state_dir().lexically_normal()) {
    args.insert(args.end(), {"--state-dir", state.string()});
  }
  if (config.lexically_normal() != paths::default_config_file().lexically_normal()) {
    args.insert(args.end(), {"--config", config.string()});
  }
  return args;
}

namespace {

int run_mcp_config(Context& ctx, const std::string& name) {
  const auto shim = find_shim();
  if (!shim) {
    throw CtlError(exit_code::kFailure,
                   "cannot find claude-bridge-shim beside claude-bridgectl, in ../shim/ or on PATH "
                   "— install claude-bridge or build it (meson compile -C build)");
  }
  const std::vector<std::string> args = shim_args(ctx);
  std::string command =
      "claude mcp add --scope user " + shell_quote(name) + " -- " + shell_quote(shim->string());
  for (const auto& a : args) command += " " + shell_quote(a);
  const Json snippet{{"mcpServers", {{name, {{"command", shim->string()}, {"args", args}}}}}};
  if (ctx.json) {
    print_json(Json{{"name", name},
                    {"shim", shim->string()},
                    {"args", args},
                    {"command", command},
                    {"mcp_json", snippet}});
    return exit_code::kOk;
  }
  std::printf("# Register the bridge with Claude Code for all your projects:\n%s\n\n",
              visible(command).c_str());
  std::printf("# Or put this in a project's .mcp.json:\n%s\n",
              snippet.dump(2, ' ', false, Json::error_handler_t::replace).c_str());
  return exit_code::kOk;
}

int run_redact(Context& ctx, bool explain) {
  std::string text;
  char buf[65536];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, stdin)) > 0) {
    text.append(buf, n);
    if (text.size() > kMaxRedactBytes) {
      throw CtlError(exit_code::kDataErr, "input larger than " +
                                              std::to_string(kMaxRedactBytes / 1024) +
                                              " KiB; redact it in parts");
    }
  }
  if (std::ferror(stdin)) throw CtlError(exit_code::kFailure, "cannot read stdin");
  Json r = ctx.call(ctl_protocol::kRedact, Json{{"text", text}});
  if (ctx.json) {
    print_json(r);
    return exit_code::kOk;
  }
  const std::string out = r.value("text", "");
  std::fwrite(out.data(), 1, out.size(), stdout);
  if (explain) {
    const Json hits = r.value("hits", Json::array());
    if (hits.empty()) std::fprintf(stderr, "no secrets found\n");
    for (const Json& h : hits) {
      std::fprintf(stderr, "%s at byte %lld, %lld bytes\n", h.value("kind", "?").c_str(),
                   static_cast<long long>(h.value("offset", 0)),
                   static_cast<long long>(h.value("length", 0)));
      // A daemon older than the rule/context fields sends neither.
      if (h.contains("rule")) std::fprintf(stderr, "  rule: %s\n", h.value("rule", "").c_str());
      if (h.contains("context")) {
        // JSON quoting shows line breaks and control bytes as escapes, on one line.
        std::fprintf(stderr, "  context: %s\n", Json(h.value("context", "")).dump().c_str());
      }
    }
    const Json counts = r.value("counts", Json::object());
    for (const auto& [kind, count] : counts.items()) {
      std::fprintf(stderr, "total %s: %s\n", kind.c_str(), count.dump().c_str());
    }
  }
  return exit_code::kOk;
}

}  // namespace

std::optional<fs::path> find_on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  if (!path) return std::nullopt;
  std::string dirs = path;
  std::size_t start = 0;
  while (start <= dirs.size()) {
    const std::size_t end = std::min(dirs.find(':', start), dirs.size());
    const std::string dir = dirs.substr(start, end - start);
    const fs::path candidate = fs::path(dir.empty() ? "." : dir) / program;
    if (executable_file(candidate)) return fs::absolute(candidate);
    start = end + 1;
  }
  return std::nullopt;
}

void add_system_commands(CLI::App& app, Context& ctx, std::vector<Command>& out) {
  auto* stats = app.add_subcommand("stats",
                                   "The daemon's counters: conversations, messages, "
                                   "connections, refusals, uptime");
  out.push_back({stats, [&ctx] { return run_stats(ctx); }});

  auto* doctor = app.add_subcommand(
      "doctor", "Check the installation and say what to fix (exit 0 when every check passes)");
  out.push_back({doctor, [&ctx] { return run_doctor(ctx); }});

  auto name = std::make_shared<std::string>("bridge");
  auto* mcp = app.add_subcommand(
      "mcp-config", "Print how to register the shim with Claude Code (no daemon needed)");
  mcp->add_option("--name", *name, "Server name in Claude Code (default: bridge)")
      ->check([](const std::string& v) {
        if (v.empty() || v.size() > 64) return std::string("NAME must be 1..64 characters");
        for (char c : v) {
          if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '_')) {
            return std::string("NAME may hold letters, digits, - and _ only");
          }
        }
        return std::string();
      });
  out.push_back({mcp, [&ctx, name] { return run_mcp_config(ctx, *name); }});

  auto explain = std::make_shared<bool>(false);
  auto* redact = app.add_subcommand(
      "redact", "Redact stdin with the daemon's live rules and write the result to stdout");
  redact->add_flag("--explain", *explain,
                   "List what was found (kind, byte offset, length, the rule and the context "
                   "that fired) on stderr");
  out.push_back({redact, [&ctx, explain] { return run_redact(ctx, *explain); }});
}

}  // namespace cb::ctl
