// Command execution ("YOLO mode"): enable_yolo_mode, execute_command and the operator's
// approvals. The engine (splitter, policy, workspace, sandbox, snapshot) lives in exec/; this
// file decides when it may run: only when a person turned it on in the config file, only up to
// the person's ceiling, only after a person approved the exact argv on a terminal.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <asio/experimental/awaitable_operators.hpp>
#include <chrono>
#include <cstdio>
#include <variant>

#include "daemon/bridge/bridge.h"
#include "daemon/crypto/crypto.h"
#include "daemon/exec/command_line.h"
#include "daemon/exec/snapshot.h"
#include "daemon/exec/workspace.h"

// GCC 12 at -O1 reports a false -Wmismatched-new-delete inside Asio's awaitable frame
// allocator (operator new/delete are a matching pair of class members there).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace cb::bridge {

struct Bridge::ExecPlan {
  Authed auth;
  exec::Mode mode = exec::Mode::kSafe;
  std::filesystem::path workspace;  // canonical
  std::int64_t timeout_seconds = 30;
  bool allow_network = false;
  std::vector<std::string> argv;
  std::string shown;  // the argv as one command line, redacted: audit rows, progress, messages
  std::string id;     // apr_ + 8 hex
  std::string client_confirmation = "not_asked";
};

namespace {

namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;

constexpr std::size_t kMaxPendingPerSession = 3;
constexpr std::int64_t kDefaultTimeoutSeconds = 30;  // the original's default

std::string mode_text(exec::Mode m) { return std::string(exec::mode_name(m)); }

// "~/proj" for a path below the daemon user's home, else the path.
std::string pretty_path(const fs::path& p, const fs::path& home) {
  const std::string s = p.string();
  const std::string h = home.string();
  if (h.size() > 1 && s.size() > h.size() && s.compare(0, h.size(), h) == 0 && s[h.size()] == '/') {
    return "~" + s.substr(h.size());
  }
  return s;
}

std::string roots_text(const ExecSettings& s) {
  std::string out;
  for (const auto& r : s.workspaces) out += (out.empty() ? "" : ", ") + r.string();
  return out.empty() ? "(none)" : out;
}

std::string disabled_text(const ExecSettings& s) {
  const std::string file =
      s.config_file.empty() ? std::string("~/.config/claude-bridge/config.toml") : s.config_file;
  return "Command execution (YOLO mode) is turned off, and no tool call can turn it on. Only a "
         "person can, in the daemon's config file " +
         file +
         ": a [yolo] section with enabled = true, workspaces = [\"/absolute/path/of/project\"] "
         "(the directories commands may run in) and max_mode = \"safe\", \"restricted\" or "
         "\"yolo\" (the highest mode an agent may ask for; default safe), then a reload with "
         "`systemctl --user reload claude-bridge` (or SIGHUP to claude-bridged). Ask your user "
         "if you need it.";
}

std::string unavailable_text(const ExecSettings& s) {
  return "Command execution is turned on but cannot run on this host: " + s.unavailable +
         ". There is no unsandboxed fallback; a person has to fix the host (see YOLO_MODE.md, "
         "systemd/claude-bridge-yolo.conf) and reload the daemon.";
}

// Output of a command: bytes as produced. Invalid UTF-8 sequences (and NUL) become U+FFFD, so
// the text can be stored, redacted and sent as JSON.
std::string valid_utf8(std::string_view in) {
  static constexpr const char* kReplacement = "\xEF\xBF\xBD";
  std::string out;
  out.reserve(in.size());
  std::size_t i = 0;
  while (i < in.size()) {
    const auto c = static_cast<unsigned char>(in[i]);
    if (c == 0) {
      out += kReplacement;
      ++i;
      continue;
    }
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    std::size_t len = 0;
    std::uint32_t cp = 0;
    std::uint32_t min = 0;
    if ((c & 0xE0) == 0xC0) {
      len = 2, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4, cp = c & 0x07, min = 0x10000;
    } else {
      out += kReplacement;
      ++i;
      continue;
    }
    std::size_t j = 1;
    for (; j < len && i + j < in.size(); ++j) {
      const auto d = static_cast<unsigned char>(in[i + j]);
      if ((d & 0xC0) != 0x80) break;
      cp = (cp << 6) | (d & 0x3F);
    }
    if (j < len || cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      out += kReplacement;
      i += j;  // the lead byte and the continuation bytes that belonged to it
      continue;
    }
    out.append(in.substr(i, len));
    i += len;
  }
  return out;
}

// At most `max` code points of `text`, with a note when cut.
std::string cut_for_message(const std::string& text, std::size_t max) {
  if (code_points(text) <= max) return text;
  std::size_t n = 0;
  std::size_t i = 0;
  for (; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      if (n == max) break;
      ++n;
    }
  }
  return text.substr(0, i) + "\n[cut here: " + std::to_string(code_points(text) - max) +
         " more characters; the requesting session has the full output]";
}

std::vector<fs::path> hidden_paths(const ExecSettings& s) {
  std::vector<fs::path> paths = exec::default_hidden_paths();
  paths.insert(paths.end(), s.extra_hidden_paths.begin(), s.extra_hidden_paths.end());
  return paths;
}

std::string seconds_text(std::int64_t ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", static_cast<double>(ms) / 1000.0);
  return buf;
}

// Refusals, built outside the coroutine: GCC 12 miscompiles brace-initialised temporaries in
// coroutine bodies.
Refusal make_refusal(std::string code, std::string message) {
  Refusal r;
  r.code = std::move(code);
  r.message = std::move(message);
  return r;
}

Refusal withdrawn_refusal() {
  return make_refusal("cancelled", "The call was cancelled; the approval was withdrawn and nothing ran");
}

Refusal expired_refusal(const std::string& id, std::int64_t seconds) {
  return make_refusal("expired", "Approval " + id + " expired: no person approved the command within " +
                                     std::to_string(seconds) +
                                     " s, so nothing ran. Tell your user what you want to run and "
                                     "why; they approve it with `claude-bridgectl approve " +
                                     id + "` while you wait in execute_command");
}

Refusal client_denied_refusal(const std::string& answer) {
  if (answer == "no_answer") {
    return make_refusal("denied",
                        "The client did not answer the confirmation dialog, so the command was "
                        "denied and nothing ran");
  }
  return make_refusal("denied", "Denied in the confirmation dialog (" + answer +
                                    "); nothing ran. Do not retry the same command unless your "
                                    "user asks for it");
}

Refusal operator_denied_refusal(const std::string& id) {
  return make_refusal("denied", "Approval " + id +
                                    " was denied by the operator; nothing ran. Do not retry the "
                                    "same command unless your user asks for it");
}

std::string timeout_answer() { return "timeout"; }

// Asks the requesting client, giving up at `deadline` (the client's request is then withdrawn
// by request_client's own cancellation). State lives in parameters, not captures (GCC 12).
awaitable<std::string> ask_until(std::function<awaitable<std::string>(std::string)> ask,
                                 std::string message, SteadyClock::time_point deadline) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  timer.expires_at(deadline);
  std::error_code ec;
  using namespace asio::experimental::awaitable_operators;
  std::variant<std::string, std::monostate> answer =
      co_await (ask(std::move(message)) ||
                timer.async_wait(asio::redirect_error(use_awaitable, ec)));
  if (answer.index() == 0) co_return std::get<0>(std::move(answer));
  co_return timeout_answer();
}

// Withdraws the approval whatever way execute_command ends: a cancelled call leaves nothing an
// operator could still approve.
class WithdrawOnExit {
 public:
  WithdrawOnExit(ApprovalQueue& queue, std::string id) : queue_(queue), id_(std::move(id)) {}
  ~WithdrawOnExit() { queue_.withdraw(id_); }
  WithdrawOnExit(const WithdrawOnExit&) = delete;
  WithdrawOnExit& operator=(const WithdrawOnExit&) = delete;

 private:
  ApprovalQueue& queue_;
  std::string id_;
};

bool is_cancelled(const ExecHooks& hooks) { return hooks.cancelled && hooks.cancelled(); }

void report(const ExecHooks& hooks, const std::string& text) {
  if (hooks.progress) hooks.progress(text);
}

}  // namespace

// ---- Shared pieces ----

std::optional<Refusal> Bridge::exec_unavailable(const Credentials& cred, const char* action) {
  if (!exec_.enabled) {
    return refuse(cred.conversation_id, cred.session_id, action,
                  make_refusal("exec_disabled", disabled_text(exec_)));
  }
  if (!exec_.unavailable.empty()) {
    return refuse(cred.conversation_id, cred.session_id, action,
                  make_refusal("sandbox_unavailable", unavailable_text(exec_)));
  }
  return std::nullopt;
}

store::MessageRow Bridge::insert_system_message(const SessionKey& to, const std::string& body) {
  store::MessageRow row;
  row.conversation_id = to.conversation_id;
  row.sender = "system";
  row.recipient = to.session;
  row.body = body;
  row.action_type = "info";
  row.created_ms = clock_.now_ms();
  row.id = messages_.insert(row);
  return row;
}

void Bridge::deliver_system(const SessionKey& to, const store::MessageRow& row) {
  db_.after_commit([this, to, row] { deliver_system_now(to, row); });
}

void Bridge::deliver_system_now(const SessionKey& to, const store::MessageRow& row) {
  presence_.wake(to);
  emit(Json{{"event", "message"},
            {"conversation_id", row.conversation_id},
            {"id", row.id},
            {"from", row.sender},
            {"to", row.recipient},
            {"from_role", "system"},
            {"action_type", row.action_type},
            {"message", row.body},
            {"timestamp", iso8601(row.created_ms)}});
  if (!notifier_) return;
  const auto conns = presence_.to_tell(to);  // one push per unread batch, as for messages
  if (conns.empty()) return;
  const std::int64_t unread = messages_.unread_count(row.conversation_id, row.recipient);
  const std::string content = std::to_string(unread) + " new message" + (unread == 1 ? "" : "s") +
                              " (latest from system) in " + row.conversation_id +
                              " — call check_messages";
  for (auto conn : conns) {
    notifier_->push(conn, "notifications/claude/channel",
                    Json{{"content", content},
                         {"meta", Json{{"conversation_id", row.conversation_id},
                                       {"from", "system"},
                                       {"message_id", std::to_string(row.id)}}}});
  }
}

// ---- enable_yolo_mode ----

Result Bridge::enable_exec(const Caller& caller, const Credentials& cred,
                           const std::string& mode_name, const std::optional<std::string>& workspace,
                           std::optional<std::int64_t> timeout_seconds, std::optional<bool> sandbox) {
  const char* action = "enable_yolo_mode";
  if (auto r = exec_unavailable(cred, action)) return *r;
  auto auth = authenticate(caller, cred, action);
  if (auto* r = std::get_if<Refusal>(&auth)) return *r;
  auto& a = std::get<Authed>(auth);
  const std::string& conv = a.self.conversation_id;
  const std::string& session = a.self.session;
  if (sandbox.has_value() && !*sandbox) {
    return refuse(conv, session, action,
                  make_refusal("sandbox_required",
                               "sandbox=false is refused: every command runs in the bubblewrap "
                               "sandbox and no tool call can turn it off. Omit sandbox or pass "
                               "true"));
  }
  const auto mode = exec::parse_mode(mode_name);
  if (!mode) {
    return refuse(conv, session, action,
                  make_refusal("invalid_mode", "mode must be \"safe\", \"restricted\" or \"yolo\""));
  }
  if (*mode > exec_.max_mode) {
    return refuse(conv, session, action,
                  make_refusal("above_ceiling",
                               "mode " + mode_text(*mode) + " is above the ceiling " +
                                   mode_text(exec_.max_mode) +
                                   " set by the operator ([yolo] max_mode in the config file); "
                                   "ask for " +
                                   (exec_.max_mode == exec::Mode::kSafe
                                        ? std::string("safe")
                                        : mode_text(exec_.max_mode) + " or lower") +
                                   ". Only a person can raise the ceiling"),
                  Json{{"requested", mode_text(*mode)}, {"ceiling", mode_text(exec_.max_mode)}});
  }
  const std::int64_t timeout =
      timeout_seconds.value_or(std::min(kDefaultTimeoutSeconds, exec_.max_timeout_seconds));
  if (timeout < 1 || timeout > exec_.max_timeout_seconds) {
    return refuse(conv, session, action,
                  make_refusal("timeout_too_long",
                               "timeout must be between 1 and " +
                                   std::to_string(exec_.max_timeout_seconds) +
                                   " seconds ([yolo] max_timeout_seconds)"),
                  Json{{"timeout", timeout}});
  }
  if (exec_.workspaces.empty()) {
    return refuse(conv, session, action,
                  make_refusal("no_workspace",
                               "no workspace is configured: a person must list the allowed "
                               "directories in [yolo] workspaces"));
  }
  const std::string requested = workspace.value_or(exec_.workspaces.front().string());
  const exec::WorkspaceResult ws = exec::resolve_workspace(requested, exec_.workspaces);
  if (!ws.ok()) {
    return refuse(conv, session, action,
                  make_refusal("bad_workspace",
                               ws.error + " (allowed roots: " + roots_text(exec_) + ")"),
                  Json{{"workspace", redactor_->redact(requested).text}});
  }
  const std::string previous = a.conversation.exec_mode;
  const std::int64_t now = clock_.now_ms();
  Json stored{{"workspace", ws.path.string()},
              {"timeout_seconds", timeout},
              {"sandbox", true},
              {"allow_network", exec_.allow_network},
              {"set_by", session},
              {"set_at", iso8601(now)}};
  const std::string where = pretty_path(ws.path, exec_.home);
  const std::string body =
      "session " + session + " (" + a.role + ") " +
      (previous == "off" ? "enabled " : "set ") + mode_text(*mode) + " mode in " + where +
      " (was " + previous + "): commands time out after " + std::to_string(timeout) +
      " s, run in the sandbox, network " + (exec_.allow_network ? "allowed" : "off") +
      ". Each command still needs a person's approval on a terminal; results arrive here as "
      "messages from system.";
  store::MessageRow row;
  {
    store::WriteTransaction tx(db_);
    conversations_.set_exec(conv, mode_text(*mode), stored.dump());
    audit_.record(conv, session, action, "ok",
                  Json{{"mode", mode_text(*mode)},
                       {"previous_mode", previous},
                       {"workspace", ws.path.string()},
                       {"timeout_seconds", timeout},
                       {"allow_network", exec_.allow_network},
                       {"pid", caller.pid}});
    row = insert_system_message(a.partner, body);
    tx.commit();
  }
  deliver_system(a.partner, row);
  return Json{{"conversation_id", conv},
              {"session_id", session},
              {"mode", mode_text(*mode)},
              {"previous_mode", previous},
              {"max_mode", mode_text(exec_.max_mode)},
              {"workspace", ws.path.string()},
              {"timeout", timeout},
              {"sandbox", true},
              {"allow_network", exec_.allow_network},
              {"approval",
               "Every command waits for a person's approval on a terminal (claude-bridgectl "
               "approve ID) for up to " +
                   std::to_string(exec_.approval_timeout_seconds) +
                   " s; execute_command reports the ID while it waits."},
              {"partner_notified", true}};
}

// ---- execute_command ----

std::variant<Bridge::ExecPlan, Refusal> Bridge::prepare_exec(const Caller& caller,
                                                             const Credentials& cred,
                                                             const std::string& command) {
  const char* action = "execute_command";
  if (auto r = exec_unavailable(cred, action)) return *r;
  auto auth = authenticate(caller, cred, action);
  if (auto* r = std::get_if<Refusal>(&auth)) return *r;
  ExecPlan plan;
  plan.auth = std::get<Authed>(std::move(auth));
  const std::string conv = plan.auth.self.conversation_id;
  const std::string session = plan.auth.self.session;
  const Json command_detail{{"command", redactor_->redact(command).text}};
  const auto mode = exec::parse_mode(plan.auth.conversation.exec_mode);
  if (!mode) {
    return refuse(conv, session, action,
                  make_refusal("not_enabled",
                               "Command execution is not enabled for this conversation: call "
                               "enable_yolo_mode first (mode safe, restricted or yolo, up to "
                               "the operator's ceiling " +
                                   mode_text(exec_.max_mode) + ")"),
                  command_detail);
  }
  if (*mode > exec_.max_mode) {
    return refuse(conv, session, action,
                  make_refusal("above_ceiling",
                               "this conversation's mode " + mode_text(*mode) +
                                   " is above the operator's current ceiling " +
                                   mode_text(exec_.max_mode) +
                                   "; call enable_yolo_mode again with a lower mode"),
                  command_detail);
  }
  const Json stored = Json::parse(plan.auth.conversation.exec_json, nullptr, false);
  const std::string stored_ws =
      stored.is_object() ? stored.value("workspace", std::string()) : std::string();
  const exec::WorkspaceResult ws = exec::resolve_workspace(stored_ws, exec_.workspaces);
  if (!ws.ok()) {
    return refuse(conv, session, action,
                  make_refusal("bad_workspace", "this conversation's workspace is no longer "
                                                "allowed: " +
                                                    ws.error +
                                                    "; call enable_yolo_mode again (allowed "
                                                    "roots: " +
                                                    roots_text(exec_) + ")"),
                  command_detail);
  }
  if (approvals_.pending_of(conv, session) >= kMaxPendingPerSession) {
    return refuse(conv, session, action,
                  make_refusal("too_many_pending",
                               "this session already has " + std::to_string(kMaxPendingPerSession) +
                                   " commands waiting for approval; wait for them to be decided "
                                   "or to expire"),
                  command_detail);
  }
  plan.mode = *mode;
  plan.workspace = ws.path;
  plan.allow_network = exec_.allow_network;
  plan.timeout_seconds = std::clamp<std::int64_t>(
      stored.is_object() ? stored.value("timeout_seconds", kDefaultTimeoutSeconds)
                         : kDefaultTimeoutSeconds,
      1, exec_.max_timeout_seconds);
  exec::PolicyContext policy;
  policy.workspace = plan.workspace;
  policy.home = exec_.home;
  policy.allow_network = plan.allow_network;
  exec::CommandDecision decision = exec::check_command(command, plan.mode, policy);
  if (!decision.allowed()) {
    Json details = command_detail;
    details["mode"] = mode_text(plan.mode);
    details["refusal"] = redactor_->redact(decision.refusal).text;
    return refuse(conv, session, action, make_refusal("command_refused", decision.refusal),
                  details);
  }
  plan.argv = std::move(decision.argv);
  plan.shown = redactor_->redact(exec::join_command_line(plan.argv)).text;
  plan.id = "apr_" + crypto::hex(crypto::random_bytes(4));
  audit_.record(conv, session, action, "requested",
                Json{{"approval_id", plan.id},
                     {"command", plan.shown},
                     {"mode", mode_text(plan.mode)},
                     {"workspace", plan.workspace.string()},
                     {"timeout_seconds", plan.timeout_seconds},
                     {"allow_network", plan.allow_network},
                     {"pid", caller.pid}});
  return plan;
}

Refusal Bridge::exec_refused(const ExecPlan& plan, const std::string& outcome, Refusal r,
                             Json details) {
  ++refusals_[r.code];
  details["approval_id"] = plan.id;
  details["reason"] = r.code;
  try {
    audit_.record(plan.auth.self.conversation_id, plan.auth.self.session, "execute_command",
                  outcome, details);
  } catch (const std::exception& e) {
    spdlog::error("audit write failed for execute_command {}: {}", plan.id, e.what());
    audit_.reload_head();
  }
  return r;
}

void Bridge::record_client_answer(const ExecPlan& plan, const std::string& answer) {
  audit_.record(plan.auth.self.conversation_id, plan.auth.self.session, "exec_confirmation",
                answer == "accepted" ? "accepted" : "denied",
                Json{{"approval_id", plan.id},
                     {"stage", "client_dialog"},
                     {"answer", answer},
                     {"note", "an accept in the client proves no person looked (a hook can "
                              "accept); the operator's approval is still required"}});
}

std::string Bridge::queue_approval(ExecPlan& plan, std::int64_t ttl_ms,
                                   std::function<void()> wake) {
  ApprovalRequest req;
  req.conversation_id = plan.auth.self.conversation_id;
  req.session_id = plan.auth.self.session;
  req.role = plan.auth.role;
  req.argv = plan.argv;
  req.workspace = plan.workspace.string();
  req.mode = mode_text(plan.mode);
  req.allow_network = plan.allow_network;
  req.timeout_seconds = plan.timeout_seconds;
  req.client_confirmation = plan.client_confirmation;
  const Approval& queued = approvals_.add(plan.id, std::move(req), ttl_ms, std::move(wake));
  audit_.record(plan.auth.self.conversation_id, plan.auth.self.session, "exec_confirmation",
                "awaiting_operator",
                Json{{"approval_id", plan.id},
                     {"stage", "operator"},
                     {"expires_at", iso8601(queued.expires_ms)}});
  emit(Json{{"event", "approval_requested"},
            {"conversation_id", plan.auth.self.conversation_id},
            {"session_id", plan.auth.self.session},
            {"approval_id", plan.id},
            {"command", plan.shown},
            {"timestamp", iso8601(queued.created_ms)}});
  return "waiting for a person to approve `" + plan.shown +
         "` — run: claude-bridgectl approve " + plan.id;
}

ApprovalState Bridge::approval_state(const ExecPlan& plan) {
  const Approval* a = approvals_.find(plan.id);
  return a ? a->state : ApprovalState::kExpired;
}

std::optional<Refusal> Bridge::recheck_before_run(const ExecPlan& plan) {
  // The configuration may have been reloaded and the conversation changed while a person
  // looked at the command: run only what still fits.
  if (!exec_.enabled || !exec_.unavailable.empty()) {
    return exec_refused(plan, "refused",
                        make_refusal("exec_disabled", exec_.enabled ? unavailable_text(exec_)
                                                                    : disabled_text(exec_)));
  }
  auto conv = conversations_.find(plan.auth.self.conversation_id);
  Json stored = conv ? Json::parse(conv->exec_json, nullptr, false) : Json();
  const bool same = conv && clock_.now_ms() < conv->expires_ms &&
                    conv->exec_mode == mode_text(plan.mode) && stored.is_object() &&
                    stored.value("workspace", std::string()) == plan.workspace.string();
  if (!same || plan.mode > exec_.max_mode ||
      !exec::resolve_workspace(plan.workspace.string(), exec_.workspaces).ok()) {
    return exec_refused(plan, "refused",
                        make_refusal("settings_changed",
                                     "the conversation's mode or workspace, or the operator's "
                                     "configuration, changed while the command waited for "
                                     "approval; nothing ran. Check with enable_yolo_mode and "
                                     "call execute_command again"));
  }
  return std::nullopt;
}

Result Bridge::finish_exec(const ExecPlan& plan, const std::string& snapshot_ref,
                           const std::string& snapshot_skipped, exec::SandboxResult& run) {
  if (!run.started()) {
    return exec_refused(plan, "failed",
                        make_refusal("exec_failed", "the command could not be run: " + run.error),
                        Json{{"error", redactor_->redact(run.error).text}});
  }
  std::map<std::string, int> kinds;
  redact::Redacted out = redactor_->redact(valid_utf8(run.stdout_data));
  redact::Redacted err = redactor_->redact(valid_utf8(run.stderr_data));
  out.add_counts_to(kinds);
  err.add_counts_to(kinds);
  Json redactions = Json::object();
  int total = 0;
  for (const auto& [kind, n] : kinds) {
    redactions[kind] = n;
    total += n;
  }
  const std::int64_t duration_ms = run.duration.count();

  std::string outcome;
  if (run.timed_out) {
    outcome = "killed after the " + std::to_string(plan.timeout_seconds) + " s timeout";
  } else {
    outcome = "exit code " + std::to_string(run.exit_code);
    if (run.term_signal != 0) outcome += " (signal " + std::to_string(run.term_signal) + ")";
  }
  outcome += " after " + seconds_text(duration_ms) + " s";
  std::string header = "session " + plan.auth.self.session + " (" + plan.auth.role + ") ran `" +
                       plan.shown + "` in " + pretty_path(plan.workspace, exec_.home) + " (" +
                       mode_text(plan.mode) + " mode, approved by the operator as " + plan.id +
                       "): " + outcome + ".";
  if (!snapshot_ref.empty()) header += "\nSnapshot taken before the run: " + snapshot_ref;
  if (total > 0) header += "\nSecrets in the output were redacted (" + std::to_string(total) + ").";
  // The message obeys the same size limit as any other message.
  const std::size_t limit = static_cast<std::size_t>(std::max<std::int64_t>(settings_.message_max_chars, 1000));
  const std::size_t room = limit > code_points(header) + 400 ? limit - code_points(header) - 400 : 0;
  std::string body = header;
  body += "\n--- stdout (" + std::to_string(run.stdout_bytes) + " bytes" +
          (run.stdout_truncated ? ", truncated" : "") + ") ---\n" + cut_for_message(out.text, room / 2);
  body += "\n--- stderr (" + std::to_string(run.stderr_bytes) + " bytes" +
          (run.stderr_truncated ? ", truncated" : "") + ") ---\n" + cut_for_message(err.text, room / 2);

  Json details{{"approval_id", plan.id},
               {"command", plan.shown},
               {"exit_code", run.exit_code},
               {"signal", run.term_signal},
               {"timed_out", run.timed_out},
               {"duration_ms", duration_ms},
               {"stdout_bytes", run.stdout_bytes},
               {"stderr_bytes", run.stderr_bytes},
               {"redactions", redactions}};
  if (!snapshot_ref.empty()) details["snapshot_ref"] = snapshot_ref;
  if (!snapshot_skipped.empty()) details["snapshot_skipped"] = snapshot_skipped;
  store::MessageRow row;
  {
    store::WriteTransaction tx(db_);
    row = insert_system_message(plan.auth.partner, body);
    details["message_id"] = row.id;
    audit_.record(plan.auth.self.conversation_id, plan.auth.self.session, "execute_command", "ran",
                  details);
    tx.commit();
  }
  deliver_system(plan.auth.partner, row);

  Json result{{"approval_id", plan.id},
              {"command", plan.shown},
              {"mode", mode_text(plan.mode)},
              {"workspace", plan.workspace.string()},
              {"exit_code", run.exit_code},
              {"timed_out", run.timed_out},
              {"stdout", std::move(out.text)},
              {"stderr", std::move(err.text)},
              {"stdout_truncated", run.stdout_truncated},
              {"stderr_truncated", run.stderr_truncated},
              {"stdout_bytes", run.stdout_bytes},
              {"stderr_bytes", run.stderr_bytes},
              {"duration_ms", duration_ms},
              {"duration", static_cast<double>(duration_ms) / 1000.0},
              {"redacted", total > 0},
              {"redactions", redactions},
              {"partner_message_id", row.id}};
  if (run.term_signal != 0) result["signal"] = run.term_signal;
  if (!snapshot_ref.empty()) result["snapshot_ref"] = snapshot_ref;
  return result;
}

awaitable<Result> Bridge::execute_command(Caller caller, Credentials cred, std::string command,
                                          ExecHooks hooks) {
  auto prepared = prepare_exec(caller, cred, command);
  if (auto* r = std::get_if<Refusal>(&prepared)) co_return *r;
  ExecPlan plan = std::get<ExecPlan>(std::move(prepared));
  // Cancellation (notifications/cancelled, disconnect) is checked by hand after every wait, so
  // that the approval is withdrawn and the outcome audited; no co_await throws for it.
  co_await asio::this_coro::throw_if_cancelled(false);
  const auto deadline = SteadyClock::now() + std::chrono::seconds(exec_.approval_timeout_seconds);

  // Stage 1: the requesting client's own dialog, when it has one. A decline ends it; an accept
  // proves nothing (a hook can accept) and leads to stage 2 like everything else.
  if (hooks.ask_client) {
    report(hooks, "waiting for your user to answer the confirmation dialog for `" + plan.shown + "`");
    const std::string question =
        "Session " + plan.auth.self.session + " (" + plan.auth.role + ") wants to run `" +
        plan.shown + "` in " + pretty_path(plan.workspace, exec_.home) + ", " +
        mode_text(plan.mode) + " mode. Allow? (A person must also approve it on a terminal.)";
    const std::string answer = co_await ask_until(hooks.ask_client, question, deadline);
    if (is_cancelled(hooks)) co_return exec_refused(plan, "withdrawn", withdrawn_refusal());
    record_client_answer(plan, answer);
    if (answer == timeout_answer()) {
      co_return exec_refused(plan, "expired",
                             expired_refusal(plan.id, exec_.approval_timeout_seconds));
    }
    if (answer != "accepted") co_return exec_refused(plan, "denied", client_denied_refusal(answer));
    plan.client_confirmation = "accepted";
  }

  // Stage 2: a person on a terminal, always.
  const auto start = SteadyClock::now();
  if (start >= deadline) {
    co_return exec_refused(plan, "expired", expired_refusal(plan.id, exec_.approval_timeout_seconds));
  }
  asio::steady_timer timer(co_await asio::this_coro::executor);
  const std::string waiting = queue_approval(
      plan, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - start).count(),
      [&timer] { timer.cancel(); });
  WithdrawOnExit withdraw(approvals_, plan.id);
  report(hooks, waiting);
  ApprovalState state = ApprovalState::kPending;
  for (;;) {
    state = approval_state(plan);
    if (state != ApprovalState::kPending) break;
    const auto now = SteadyClock::now();
    if (now >= deadline) {
      approvals_.expire(plan.id);
      state = ApprovalState::kExpired;
      break;
    }
    timer.expires_at(std::min(deadline, now + progress_interval));
    std::error_code ec;
    co_await timer.async_wait(asio::redirect_error(use_awaitable, ec));
    if (is_cancelled(hooks)) co_return exec_refused(plan, "withdrawn", withdrawn_refusal());
    if (!ec && SteadyClock::now() < deadline && approval_state(plan) == ApprovalState::kPending) {
      report(hooks, waiting);
    }
  }
  if (state == ApprovalState::kDenied) {
    co_return exec_refused(plan, "denied", operator_denied_refusal(plan.id));
  }
  if (state != ApprovalState::kApproved) {
    co_return exec_refused(plan, "expired", expired_refusal(plan.id, exec_.approval_timeout_seconds));
  }
  if (auto r = recheck_before_run(plan)) co_return *r;

  // A recovery point before anything that may write.
  std::string snapshot_ref;
  std::string snapshot_skipped;
  if (plan.mode != exec::Mode::kSafe) {
    report(hooks, "approved; taking a git snapshot of the workspace");
    exec::SnapshotResult snap = co_await exec::git_snapshot_async(plan.workspace, hidden_paths(exec_));
    snapshot_ref = std::move(snap.ref);
    snapshot_skipped = std::move(snap.why);
    if (is_cancelled(hooks)) co_return exec_refused(plan, "withdrawn", withdrawn_refusal());
  }

  report(hooks, "approved; running `" + plan.shown + "`");
  exec::SandboxSpec spec;
  spec.argv = plan.argv;
  spec.workspace = plan.workspace;
  spec.mode = plan.mode;
  spec.timeout = std::chrono::seconds(plan.timeout_seconds);
  spec.allow_network = plan.allow_network;
  spec.output_cap = exec_.output_max_bytes;
  spec.hidden_paths = hidden_paths(exec_);
  exec::SandboxResult run = co_await exec::run_sandboxed(std::move(spec));
  if (is_cancelled(hooks)) co_return exec_refused(plan, "withdrawn", withdrawn_refusal());
  co_return finish_exec(plan, snapshot_ref, snapshot_skipped, run);
}

// ---- Operator ----

Json Bridge::approvals() {
  Json list = Json::array();
  for (const Approval& a : approvals_.pending()) {
    const auto& r = a.request;
    list.push_back(Json{{"id", a.id},
                        {"conversation_id", r.conversation_id},
                        {"session_id", r.session_id},
                        {"role", r.role},
                        {"argv", r.argv},
                        {"command", exec::join_command_line(r.argv)},
                        {"workspace", r.workspace},
                        {"mode", r.mode},
                        {"sandbox", true},
                        {"allow_network", r.allow_network},
                        {"timeout_seconds", r.timeout_seconds},
                        {"client_confirmation", r.client_confirmation},
                        {"created_at", iso8601(a.created_ms)},
                        {"expires_at", iso8601(a.expires_ms)}});
  }
  return Json{{"approvals", std::move(list)}};
}

Result Bridge::decide_approval(const std::string& id, bool approve, const Caller& op,
                               const std::optional<std::vector<std::string>>& expected_argv) {
  const std::string decision = approve ? "approve" : "deny";
  const Json who{{"approval_id", id}, {"decision", decision}, {"uid", op.uid}, {"pid", op.pid}};
  const Approval* a = approvals_.find(id);
  auto refused = [&](const std::string& conv, const std::string& session, std::string code,
                     std::string message) {
    Json d = who;
    d["reason"] = code;
    audit_.record(conv, session, "approval_decide", "refused", d);
    return make_refusal(std::move(code), std::move(message));
  };
  if (a == nullptr) {
    return refused("", "", "unknown_approval",
                   "no pending approval " + id +
                       " (it was decided, withdrawn by the requester or expired) — see: "
                       "claude-bridgectl approvals");
  }
  const std::string conv = a->request.conversation_id;
  const std::string session = a->request.session_id;
  if (expected_argv && *expected_argv != a->request.argv) {
    return refused(conv, session, "argv_mismatch",
                   "approval " + id + " is not for the command you were shown; nothing decided");
  }
  const std::string by = "uid " + std::to_string(op.uid) + " pid " + std::to_string(op.pid);
  const std::string shown = redactor_->redact(exec::join_command_line(a->request.argv)).text;
  switch (approvals_.decide(id, approve, by)) {
    case ApprovalQueue::Outcome::kDecided: {
      Json d = who;
      d["command"] = shown;
      audit_.record(conv, session, "approval_decide", approve ? "approved" : "denied", d);
      return Json{{"id", id},
                  {"decision", approve ? "approved" : "denied"},
                  {"conversation_id", conv},
                  {"session_id", session},
                  {"command", shown}};
    }
    case ApprovalQueue::Outcome::kExpired:
      return refused(conv, session, "expired",
                     "approval " + id + " has expired; the requesting agent was told and nothing ran");
    case ApprovalQueue::Outcome::kAlreadyDecided:
      return refused(conv, session, "already_decided", "approval " + id + " was already decided");
    case ApprovalQueue::Outcome::kUnknown:
      break;
  }
  return refused(conv, session, "unknown_approval", "no pending approval " + id);
}

}  // namespace cb::bridge
