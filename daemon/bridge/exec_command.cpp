// execute_command: the client's dialog, the operator's approval, the run and its result.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <asio/experimental/awaitable_operators.hpp>
#include <chrono>
#include <variant>

#include "common/utf8.h"
#include "daemon/bridge/exec_plan.h"
#include "daemon/bridge/exec_service.h"
#include "daemon/bridge/exec_texts.h"
#include "daemon/exec/command_line.h"
#include "daemon/exec/snapshot.h"

// GCC 12 at -O1 reports a false -Wmismatched-new-delete inside Asio's awaitable frame
// allocator (operator new/delete are a matching pair of class members there).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace cb::bridge {

using namespace exec_texts;

namespace {

std::string timeout_answer() { return "timeout"; }

// Asks the requesting client, giving up after `left` (the client's request is then withdrawn
// by request_client's own cancellation). State lives in parameters, not captures (GCC 12).
awaitable<std::string> ask_until(std::function<awaitable<std::string>(std::string)> ask,
                                 std::string message, std::chrono::milliseconds left) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  timer.expires_after(left);
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

Result<CommandRun> ExecService::finish_exec(const ExecPlan& plan, const std::string& snapshot_ref,
                           const std::string& snapshot_skipped, exec::SandboxResult& run) {
  if (!run.started()) {
    return exec_refused(plan, "failed",
                        Status::error("exec_failed",
                                      "the command could not be run: " + run.status.message()),
                        Json{{"error", ctx_.redactor->redact(run.status.message()).text}});
  }
  std::map<std::string, int> kinds;
  redact::Redacted out = ctx_.redactor->redact(valid_utf8(run.stdout_data));
  redact::Redacted err = ctx_.redactor->redact(valid_utf8(run.stderr_data));
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
  const std::size_t limit = static_cast<std::size_t>(std::max<std::int64_t>(ctx_.settings.message_max_chars, 1000));
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
  store::Ticket ticket;
  {
    store::WriteTransaction tx(ctx_.db);
    row = mailbox_.post_system(plan.auth.partner, body);
    details["message_id"] = row.id;
    ctx_.audit.record(plan.auth.self.conversation_id, plan.auth.self.session, "execute_command", "ran",
                  details);
    ticket = tx.commit();
  }
  mailbox_.deliver(row, "system", plan.auth.partner);

  CommandRun result;
  result.ticket = ticket;
  result.approval_id = plan.id;
  result.command = plan.shown;
  result.mode = mode_text(plan.mode);
  result.workspace = plan.workspace.string();
  result.exit_code = run.exit_code;
  result.signal = run.term_signal;
  result.timed_out = run.timed_out;
  result.stdout_text = std::move(out.text);
  result.stderr_text = std::move(err.text);
  result.stdout_truncated = run.stdout_truncated;
  result.stderr_truncated = run.stderr_truncated;
  result.stdout_bytes = run.stdout_bytes;
  result.stderr_bytes = run.stderr_bytes;
  result.duration_ms = duration_ms;
  result.redactions = std::move(kinds);
  result.snapshot_ref = snapshot_ref;
  result.partner_message_id = row.id;
  return result;
}

awaitable<Result<CommandRun>> ExecService::execute_command(Caller caller, Credentials cred, std::string command,
                                          ExecHooks hooks) {
  auto prepared = prepare_exec(caller, cred, command);
  if (!prepared) co_return std::move(prepared).status();
  ExecPlan plan = std::move(*prepared);
  // Cancellation (notifications/cancelled, disconnect) is checked by hand after every wait, so
  // that the approval is withdrawn and the outcome audited; no co_await throws for it.
  co_await asio::this_coro::throw_if_cancelled(false);
  // The deadline is on the Clock; timers only pace the checks.
  const std::int64_t deadline_ms = ctx_.clock.now_ms() + exec_.approval_timeout_seconds * 1000;

  // Stage 1: the requesting client's own dialog, when it has one. A decline ends it; an accept
  // proves nothing (a hook can accept) and leads to stage 2 like everything else.
  if (hooks.ask_client) {
    report(hooks, "waiting for your user to answer the confirmation dialog for `" + plan.shown + "`");
    const std::string question =
        "Session " + plan.auth.self.session + " (" + plan.auth.role + ") wants to run `" +
        plan.shown + "` in " + pretty_path(plan.workspace, exec_.home) + ", " +
        mode_text(plan.mode) + " mode. Allow? (A person must also approve it on a terminal.)";
    const std::string answer = co_await ask_until(
        hooks.ask_client, question,
        std::chrono::milliseconds(std::max<std::int64_t>(0, deadline_ms - ctx_.clock.now_ms())));
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
  const std::int64_t start_ms = ctx_.clock.now_ms();
  if (start_ms >= deadline_ms) {
    co_return exec_refused(plan, "expired", expired_refusal(plan.id, exec_.approval_timeout_seconds));
  }
  asio::steady_timer timer(co_await asio::this_coro::executor);
  const std::string waiting = queue_approval(
      plan, deadline_ms - start_ms,
      [&timer] { timer.cancel(); });
  WithdrawOnExit withdraw(approvals_, plan.id);
  report(hooks, waiting);
  ApprovalState state = ApprovalState::kPending;
  for (;;) {
    state = approval_state(plan);
    if (state != ApprovalState::kPending) break;
    const std::int64_t now_ms = ctx_.clock.now_ms();
    if (now_ms >= deadline_ms) {
      approvals_.expire(plan.id);
      state = ApprovalState::kExpired;
      break;
    }
    timer.expires_after(
        std::min<std::chrono::milliseconds>(std::chrono::milliseconds(deadline_ms - now_ms), progress_interval));
    std::error_code ec;
    co_await timer.async_wait(asio::redirect_error(use_awaitable, ec));
    if (is_cancelled(hooks)) co_return exec_refused(plan, "withdrawn", withdrawn_refusal());
    if (!ec && ctx_.clock.now_ms() < deadline_ms && approval_state(plan) == ApprovalState::kPending) {
      report(hooks, waiting);
    }
  }
  if (state == ApprovalState::kDenied) {
    co_return exec_refused(plan, "denied", operator_denied_refusal(plan.id));
  }
  if (state != ApprovalState::kApproved) {
    co_return exec_refused(plan, "expired", expired_refusal(plan.id, exec_.approval_timeout_seconds));
  }
  if (Status s = recheck_before_run(plan); !s.ok()) co_return s;

  // A recovery point before anything that may write.
  std::string snapshot_ref;
  std::string snapshot_skipped;
  if (plan.mode != exec::Mode::kSafe) {
    report(hooks, "approved; taking a git snapshot of the workspace");
    Result<std::string> snap =
        co_await exec::git_snapshot_async(plan.workspace, hidden_paths(exec_));
    if (snap.ok()) {
      snapshot_ref = std::move(snap).value();
    } else {
      snapshot_skipped = snap.status().message();
    }
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

}  // namespace cb::bridge
