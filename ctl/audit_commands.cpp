// audit [CONV] [LIMIT] and audit --verify: the hash-chained audit trail.
#include <cstdio>
#include <memory>

#include "common/ctl_protocol.h"
#include "common/exit_codes.h"
#include "common/visible.h"
#include "ctl/commands.h"

namespace cb::ctl {
namespace {

constexpr std::int64_t kDefaultLimit = 50;

struct AuditOptions {
  std::vector<std::string> args;  // [CONV] [LIMIT], in either order
  bool verify = false;
};

// conv_ + 16 lowercase hex digits, as the daemon makes them and import requires.
bool is_conversation_id(const std::string& s) {
  if (s.size() != 21 || s.rfind("conv_", 0) != 0) return false;
  for (std::size_t i = 5; i < s.size(); ++i) {
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return false;
  }
  return true;
}

bool all_digits(const std::string& s) {
  if (s.empty() || s.size() > 9) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

int run_verify(Context& ctx) {
  Json r = ctx.call(ctl_protocol::kAuditVerify, Json::object(), 600);
  const bool ok = r.value("ok", false);
  if (ctx.json) {
    print_json(r);
  } else if (ok) {
    std::printf("%s audit chain intact: %lld entries verified\n",
                paint(ctx.out, sgr::kGreen, ctx.out.unicode ? "✓" : "OK").c_str(),
                static_cast<long long>(r.value("entries", 0)));
  }
  if (!ok) {
    throw CtlError(exit_code::kFailure,
                   "audit chain broken at entry " + std::to_string(r.value("first_bad_id", 0)) +
                       ": " + visible(r.value("problem", std::string("unknown problem"))));
  }
  return exit_code::kOk;
}

int run_audit(Context& ctx, const AuditOptions& o) {
  if (o.verify) {
    if (!o.args.empty()) {
      throw CtlError(exit_code::kUsage,
                     "--verify checks the whole chain; it takes no CONV or LIMIT");
    }
    return run_verify(ctx);
  }
  std::string conv;
  std::int64_t limit = kDefaultLimit;
  bool have_limit = false;
  for (const auto& a : o.args) {
    if (all_digits(a) && !have_limit) {
      limit = std::stoll(a);
      have_limit = true;
    } else if (conv.empty() && is_conversation_id(a)) {
      conv = a;
    } else if (!a.empty() && a[0] == '-') {
      throw CtlError(exit_code::kUsage,
                     "LIMIT must be a number of entries, at least 1; got `" + visible(a) + "`");
    } else {
      throw CtlError(exit_code::kUsage,
                     "audit takes [CONV] [LIMIT] (conv_ + 16 hex digits, a count); did not "
                     "understand `" +
                         visible(a) + "`");
    }
  }
  if (limit < 1) throw CtlError(exit_code::kUsage, "LIMIT must be at least 1");
  Json params{{"limit", limit}};
  if (!conv.empty()) params["conversation_id"] = conv;
  Json r = ctx.call(ctl_protocol::kAudit, params);
  if (ctx.json) {
    print_json(r);
    return exit_code::kOk;
  }
  const Json& entries = r["entries"];
  if (!entries.is_array() || entries.empty()) {
    std::printf("No audit entries%s.\n", conv.empty() ? "" : (" for " + conv).c_str());
    return exit_code::kOk;
  }
  Table t({"ID", "TIME", "CONVERSATION", "SESSION", "ACTION", "OUTCOME", "DETAILS"});
  for (const Json& e : entries) {
    const std::string outcome = e.value("outcome", "");
    const char* color = outcome == "ok" ? nullptr : sgr::kYellow;
    t.add({{std::to_string(e.value("id", 0))},
           {short_time(e["timestamp"])},
           {e["conversation_id"].is_string() ? e["conversation_id"].get<std::string>() : "-"},
           {e["session_id"].is_string() ? e["session_id"].get<std::string>() : "-"},
           {e.value("action", "")},
           {outcome, color},
           {cut(e["details"].dump(-1, ' ', false, Json::error_handler_t::replace), 80, ctx.out)}});
  }
  t.print(stdout, ctx.out);
  return exit_code::kOk;
}

}  // namespace

void add_audit_commands(CLI::App& app, Context& ctx, std::vector<Command>& out) {
  auto o = std::make_shared<AuditOptions>();
  auto* audit = app.add_subcommand(
      "audit",
      "Audit entries, newest first (default 50), optionally of one conversation; --verify checks "
      "the whole hash chain");
  audit->add_option("CONV_OR_LIMIT", o->args, "[CONV] [LIMIT]: a conversation id and/or a count")
      ->expected(0, 2);
  audit->add_flag("--verify", o->verify,
                  "Verify the hash chain of the whole trail; exit 1 naming the first altered or "
                  "missing entry");
  out.push_back({audit, [&ctx, o] { return run_audit(ctx, *o); }});
}

}  // namespace cb::ctl
