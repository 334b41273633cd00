// enable_yolo_mode, the checks before a command is queued, and the operator's approvals.
#include "daemon/bridge/exec_service.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "daemon/bridge/exec_plan.h"
#include "daemon/bridge/exec_texts.h"
#include "daemon/crypto/crypto.h"
#include "daemon/exec/command_line.h"
#include "daemon/exec/workspace.h"

namespace cb::bridge {

using namespace exec_texts;

Status ExecService::exec_unavailable(const Credentials& cred, const char* action) {
  if (!exec_.enabled) {
    return ctx_.refuse(cred.conversation_id, cred.session_id, action,
                  Status::error("exec_disabled", disabled_text()));
  }
  if (!exec_.unavailable.empty()) {
    return ctx_.refuse(cred.conversation_id, cred.session_id, action,
                  Status::error("sandbox_unavailable", unavailable_text(exec_)));
  }
  return Status();
}

// ---- enable_yolo_mode ----

Result<ModeSet> ExecService::enable_exec(const Caller& caller, const Credentials& cred,
                           const std::string& mode_name, const std::optional<std::string>& workspace,
                           std::optional<std::int64_t> timeout_seconds, std::optional<bool> sandbox) {
  const char* action = "enable_yolo_mode";
  if (Status s = exec_unavailable(cred, action); !s.ok()) return s;
  auto auth = auth_.authenticate(caller, cred, action);
  if (!auth) return std::move(auth).status();
  const Authed& a = *auth;
  const std::string& conv = a.self.conversation_id;
  const std::string& session = a.self.session;
  if (sandbox.has_value() && !*sandbox) {
    return ctx_.refuse(conv, session, action,
                  Status::error("sandbox_required",
                               "sandbox=false is refused: every command runs in the bubblewrap "
                               "sandbox and no tool call can turn it off. Omit sandbox or pass "
                               "true"));
  }
  const auto mode = exec::parse_mode(mode_name);
  if (!mode) {
    return ctx_.refuse(conv, session, action,
                  Status::error("invalid_mode", "mode must be \"safe\", \"restricted\" or \"yolo\""));
  }
  if (*mode > exec_.max_mode) {
    return ctx_.refuse(conv, session, action,
                  Status::error("above_ceiling",
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
    return ctx_.refuse(conv, session, action,
                  Status::error("timeout_too_long",
                               "timeout must be between 1 and " +
                                   std::to_string(exec_.max_timeout_seconds) +
                                   " seconds ([yolo] max_timeout_seconds)"),
                  Json{{"timeout", timeout}});
  }
  if (exec_.workspaces.empty()) {
    return ctx_.refuse(conv, session, action,
                  Status::error("no_workspace",
                               "no workspace is configured: a person must list the allowed "
                               "directories in [yolo] workspaces"));
  }
  const std::string requested = workspace.value_or(exec_.workspaces.front().string());
  const Result<std::filesystem::path> ws = exec::resolve_workspace(requested, exec_.workspaces);
  if (!ws.ok()) {
    return ctx_.refuse(conv, session, action,
                  Status::error("bad_workspace", ws.status().message() + " (allowed roots: " +
                                                     roots_text(exec_) + ")"),
                  Json{{"workspace", ctx_.redactor->redact(requested).text}});
  }
  const std::string previous = a.conversation.exec_mode;
  const std::int64_t now = ctx_.clock.now_ms();
  Json stored{{"workspace", ws->string()},
              {"timeout_seconds", timeout},
              {"sandbox", true},
              {"allow_network", exec_.allow_network},
              {"set_by", session},
              {"set_at", iso8601(now)}};
  const std::string where = pretty_path(*ws, exec_.home);
  const std::string body =
      "session " + session + " (" + a.role + ") " +
      (previous == "off" ? "enabled " : "set ") + mode_text(*mode) + " mode in " + where +
      " (was " + previous + "): commands time out after " + std::to_string(timeout) +
      " s, run in the sandbox, network " + (exec_.allow_network ? "allowed" : "off") +
      ". Each command still needs a person's approval on a terminal; results arrive here as "
      "messages from system.";
  store::MessageRow row;
  store::Ticket ticket;
  {
    store::WriteTransaction tx(ctx_.db);
    ctx_.conversations.set_exec(conv, mode_text(*mode), stored.dump());
    ctx_.audit.record(conv, session, action, "ok",
                  Json{{"mode", mode_text(*mode)},
                       {"previous_mode", previous},
                       {"workspace", ws->string()},
                       {"timeout_seconds", timeout},
                       {"allow_network", exec_.allow_network},
                       {"pid", caller.pid}});
    row = mailbox_.post_system(a.partner, body);
    ticket = tx.commit();
  }
  mailbox_.deliver(row, "system", a.partner);
  ModeSet set;
  set.ticket = ticket;
  set.conversation_id = conv;
  set.session_id = session;
  set.mode = mode_text(*mode);
  set.previous_mode = previous;
  set.max_mode = mode_text(exec_.max_mode);
  set.workspace = ws->string();
  set.timeout_seconds = timeout;
  set.allow_network = exec_.allow_network;
  set.approval_timeout_seconds = exec_.approval_timeout_seconds;
  return set;
}

// ---- execute_command ----

Result<ExecService::ExecPlan> ExecService::prepare_exec(const Caller& caller,
                                                             const Credentials& cred,
                                                             const std::string& command) {
  const char* action = "execute_command";
  if (Status s = exec_unavailable(cred, action); !s.ok()) return s;
  auto auth = auth_.authenticate(caller, cred, action);
  if (!auth) return std::move(auth).status();
  ExecPlan plan;
  plan.auth = std::move(*auth);
  const std::string conv = plan.auth.self.conversation_id;
  const std::string session = plan.auth.self.session;
  const Json command_detail{{"command", ctx_.redactor->redact(command).text}};
  const auto mode = exec::parse_mode(plan.auth.conversation.exec_mode);
  if (!mode) {
    return ctx_.refuse(conv, session, action,
                  Status::error("not_enabled",
                               "Command execution is not enabled for this conversation: call "
                               "enable_yolo_mode first (mode safe, restricted or yolo, up to "
                               "the operator's ceiling " +
                                   mode_text(exec_.max_mode) + ")"),
                  command_detail);
  }
  if (*mode > exec_.max_mode) {
    return ctx_.refuse(conv, session, action,
                  Status::error("above_ceiling",
                               "this conversation's mode " + mode_text(*mode) +
                                   " is above the operator's current ceiling " +
                                   mode_text(exec_.max_mode) +
                                   "; call enable_yolo_mode again with a lower mode"),
                  command_detail);
  }
  const Json stored = Json::parse(plan.auth.conversation.exec_json, nullptr, false);
  const std::string stored_ws =
      stored.is_object() ? stored.value("workspace", std::string()) : std::string();
  const Result<std::filesystem::path> ws = exec::resolve_workspace(stored_ws, exec_.workspaces);
  if (!ws.ok()) {
    return ctx_.refuse(conv, session, action,
                  Status::error("bad_workspace", "this conversation's workspace is no longer "
                                                "allowed: " +
                                                    ws.status().message() +
                                                    "; call enable_yolo_mode again (allowed "
                                                    "roots: " +
                                                    roots_text(exec_) + ")"),
                  command_detail);
  }
  if (approvals_.pending_of(conv, session) >= kMaxPendingPerSession) {
    return ctx_.refuse(conv, session, action,
                  Status::error("too_many_pending",
                               "this session already has " + std::to_string(kMaxPendingPerSession) +
                                   " commands waiting for approval; wait for them to be decided "
                                   "or to expire"),
                  command_detail);
  }
  plan.mode = *mode;
  plan.workspace = *ws;
  plan.allow_network = exec_.allow_network;
  plan.timeout_seconds = std::clamp<std::int64_t>(
      stored.is_object() ? stored.value("timeout_seconds", kDefaultTimeoutSeconds)
                         : kDefaultTimeoutSeconds,
      1, exec_.max_timeout_seconds);
  exec::PolicyContext policy;
  policy.workspace = plan.workspace;
  policy.home = exec_.home;
  policy.allow_network = plan.allow_network;
  Result<std::vector<std::string>> decision = exec::check_command(command, plan.mode, policy);
  if (!decision.ok()) {
    Json details = command_detail;
    details["mode"] = mode_text(plan.mode);
    details["refusal"] = ctx_.redactor->redact(decision.status().message()).text;
    return ctx_.refuse(conv, session, action, decision.status(), details);
  }
  plan.argv = std::move(decision).value();
  plan.shown = ctx_.redactor->redact(exec::join_command_line(plan.argv)).text;
  plan.id = "apr_" + crypto::hex(crypto::random_bytes(4));
  ctx_.audit.record(conv, session, action, "requested",
                Json{{"approval_id", plan.id},
                     {"command", plan.shown},
                     {"mode", mode_text(plan.mode)},
                     {"workspace", plan.workspace.string()},
                     {"timeout_seconds", plan.timeout_seconds},
                     {"allow_network", plan.allow_network},
                     {"pid", caller.pid}});
  return plan;
}

Status ExecService::exec_refused(const ExecPlan& plan, const std::string& outcome, Status r,
                             Json details) {
  ++ctx_.refusals[r.code()];
  details["approval_id"] = plan.id;
  details["reason"] = r.code();
  try {
    ctx_.audit.record(plan.auth.self.conversation_id, plan.auth.self.session, "execute_command",
                  outcome, details);
  } catch (const std::exception& e) {
    spdlog::error("audit write failed for execute_command {}: {}", plan.id, e.what());
    ctx_.audit.reload_head();
  }
  return r;
}

void ExecService::record_client_answer(const ExecPlan& plan, const std::string& answer) {
  ctx_.audit.record(plan.auth.self.conversation_id, plan.auth.self.session, "exec_confirmation",
                answer == "accepted" ? "accepted" : "denied",
                Json{{"approval_id", plan.id},
                     {"stage", "client_dialog"},
                     {"answer", answer},
                     {"note", "an accept in the client proves no person looked (a hook can "
                              "accept); the operator's approval is still required"}});
}

std::string ExecService::queue_approval(ExecPlan& plan, std::int64_t ttl_ms,
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
  ctx_.audit.record(plan.auth.self.conversation_id, plan.auth.self.session, "exec_confirmation",
                "awaiting_operator",
                Json{{"approval_id", plan.id},
                     {"stage", "operator"},
                     {"expires_at", iso8601(queued.expires_ms)}});
  ctx_.events.emit(Json{{"event", "approval_requested"},
            {"conversation_id", plan.auth.self.conversation_id},
            {"session_id", plan.auth.self.session},
            {"approval_id", plan.id},
            {"command", plan.shown},
            {"timestamp", iso8601(queued.created_ms)}});
  return "waiting for a person to approve `" + plan.shown +
         "` — run: claude-bridgectl approve " + plan.id;
}

ApprovalState ExecService::approval_state(const ExecPlan& plan) {
  const Approval* a = approvals_.find(plan.id);
  return a ? a->state : ApprovalState::kExpired;
}

Status ExecService::recheck_before_run(const ExecPlan& plan) {
  // The configuration may have been reloaded and the conversation changed while a person
  // looked at the command: run only what still fits.
  if (!exec_.enabled || !exec_.unavailable.empty()) {
    return exec_refused(plan, "refused",
                        Status::error("exec_disabled", exec_.enabled ? unavailable_text(exec_)
                                                                    : disabled_text()));
  }
  auto conv = ctx_.conversations.find(plan.auth.self.conversation_id);
  Json stored = conv ? Json::parse(conv->exec_json, nullptr, false) : Json();
  const bool same = conv && ctx_.clock.now_ms() < conv->expires_ms &&
                    conv->exec_mode == mode_text(plan.mode) && stored.is_object() &&
                    stored.value("workspace", std::string()) == plan.workspace.string();
  if (!same || plan.mode > exec_.max_mode ||
      !exec::resolve_workspace(plan.workspace.string(), exec_.workspaces).ok()) {
    return exec_refused(plan, "refused",
                        Status::error("settings_changed",
                                     "the conversation's mode or workspace, or the operator's "
                                     "configuration, changed while the command waited for "
                                     "approval; nothing ran. Check with enable_yolo_mode and "
                                     "call execute_command again"));
  }
  return Status();
}

// ---- Operator ----

PendingApprovals ExecService::approvals() {
  PendingApprovals out;
  for (const Approval& a : approvals_.pending()) {
    const auto& r = a.request;
    out.approvals.push_back(PendingApproval{a.id, r.conversation_id, r.session_id, r.role, r.argv,
                                            exec::join_command_line(r.argv), r.workspace, r.mode,
                                            r.allow_network, r.timeout_seconds,
                                            r.client_confirmation, a.created_ms, a.expires_ms});
  }
  return out;
}

Result<ApprovalDecision> ExecService::decide_approval(const std::string& id, bool approve, const Caller& op,
                               const std::optional<std::vector<std::string>>& expected_argv) {
  const std::string decision = approve ? "approve" : "deny";
  const Json who{{"approval_id", id}, {"decision", decision}, {"uid", op.uid}, {"pid", op.pid}};
  const Approval* a = approvals_.find(id);
  auto refused = [&](const std::string& conv, const std::string& session, std::string code,
                     std::string message) {
    Json d = who;
    d["reason"] = code;
    ctx_.audit.record(conv, session, "approval_decide", "refused", d);
    return Status::error(std::move(code), std::move(message));
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
  const std::string shown = ctx_.redactor->redact(exec::join_command_line(a->request.argv)).text;
  switch (approvals_.decide(id, approve, by)) {
    case ApprovalQueue::Outcome::kDecided: {
      Json d = who;
      d["command"] = shown;
      ctx_.audit.record(conv, session, "approval_decide", approve ? "approved" : "denied", d);
      return ApprovalDecision{id, approve, conv, session, shown};
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
