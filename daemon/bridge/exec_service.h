#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "daemon/async.h"
#include "daemon/bridge/approvals.h"
#include "daemon/bridge/auth.h"
#include "daemon/bridge/context.h"
#include "daemon/bridge/exec_types.h"
#include "daemon/bridge/mailbox.h"
#include "daemon/exec/policy.h"
#include "daemon/exec/sandbox.h"

// Command execution ("YOLO mode"; YOLO_MODE.md): enable_yolo_mode, execute_command and the
// operator's approvals. The engine (splitter, policy, workspace, sandbox, snapshot) lives in
// daemon/exec/; this service decides when it may run: only when a person turned it on in the
// config file, only up to the person's ceiling, only after a person approved the exact argv on
// a terminal.
namespace cb::bridge {

// Set only by a person: the [yolo] section of the config file, applied at start-up and on
// reload. No tool call changes any of it.
struct ExecSettings {
  bool enabled = false;
  exec::Mode max_mode = exec::Mode::kSafe;  // the ceiling enable_yolo_mode may set
  // Allowed workspace roots, each accepted by exec::check_allowed_root() at start-up; the first
  // is the default workspace.
  std::vector<std::filesystem::path> workspaces;
  std::int64_t max_timeout_seconds = 300;
  bool allow_network = false;
  std::int64_t approval_timeout_seconds = 300;  // the whole confirmation must finish in this
  std::size_t output_max_bytes = 65536;         // kept per stream
  // Why the sandbox cannot run on this host (sandbox_unavailable_reason()); "" when it can.
  std::string unavailable;
  // Hidden from every sandbox on top of exec::default_hidden_paths(): the daemon's socket and
  // state directories and its config file, wherever flags moved them.
  std::vector<std::filesystem::path> extra_hidden_paths;
  std::filesystem::path home;  // the daemon user's home: never deletable by any command
};

// What execute_command needs from the call that asked: progress, cancellation and the
// requesting client's own confirmation dialog.
struct ExecHooks {
  std::function<void(const std::string&)> progress;
  std::function<bool()> cancelled;
  // Asks the requesting client's user (MCP elicitation) whether to allow; completes with
  // "accepted" (allowed), "declined", "cancelled" or "no_answer". Empty when the client declared
  // no elicitation capability.
  std::function<awaitable<std::string>(std::string message)> ask_client;
};

class ExecService {
 public:
  ExecService(Context& ctx, Authenticator& auth, Mailbox& mailbox)
      : ctx_(ctx), auth_(auth), mailbox_(mailbox), approvals_(ctx.clock) {}
  ExecService(const ExecService&) = delete;
  ExecService& operator=(const ExecService&) = delete;

  void reconfigure(ExecSettings settings) { exec_ = std::move(settings); }
  const ExecSettings& settings() const { return exec_; }

  // enable_yolo_mode: sets the conversation's mode (any mode up to the ceiling; lowering is
  // allowed), workspace and timeout; tells the partner through a message from "system".
  Result<ModeSet> enable_exec(const Caller& caller, const Credentials& cred,
                              const std::string& mode, const std::optional<std::string>& workspace,
                              std::optional<std::int64_t> timeout_seconds,
                              std::optional<bool> sandbox);
  // execute_command: checks the command against the conversation's mode, asks the client's
  // user (when it can), queues it for a person's approval on a terminal, waits (progress every
  // progress_interval; the deadline on the Clock) until approved, denied, expired or cancelled
  // (the approval is then withdrawn), runs it in the sandbox, returns the redacted result and
  // sends it to the partner as a message from "system".
  awaitable<Result<CommandRun>> execute_command(Caller caller, Credentials cred,
                                                std::string command, ExecHooks hooks);
  std::chrono::milliseconds progress_interval{5000};

  // Operator: pending approvals, and a person's decision. When `expected_argv` is given the
  // decision applies only if the approval is for exactly that argv (what the operator was
  // shown).
  PendingApprovals approvals();
  Result<ApprovalDecision> decide_approval(
      const std::string& id, bool approve, const Caller& op,
      const std::optional<std::vector<std::string>>& expected_argv);

 private:
  struct ExecPlan;  // one execute_command call, from its checks to its result
  Status exec_unavailable(const Credentials& cred, const char* action);
  Result<ExecPlan> prepare_exec(const Caller& caller, const Credentials& cred,
                                const std::string& command);
  Status exec_refused(const ExecPlan& plan, const std::string& outcome, Status r,
                      nlohmann::json details = nlohmann::json::object());
  void record_client_answer(const ExecPlan& plan, const std::string& answer);
  std::string queue_approval(ExecPlan& plan, std::int64_t ttl_ms, std::function<void()> wake);
  ApprovalState approval_state(const ExecPlan& plan);
  Status recheck_before_run(const ExecPlan& plan);
  Result<CommandRun> finish_exec(const ExecPlan& plan, const std::string& snapshot_ref,
                                     const std::string& snapshot_skipped, exec::SandboxResult& run);

  Context& ctx_;
  Authenticator& auth_;
  Mailbox& mailbox_;
  ExecSettings exec_;
  ApprovalQueue approvals_;
};

}  // namespace cb::bridge
