#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include "daemon/async.h"
#include "daemon/bridge/approvals.h"
#include "daemon/audit/audit.h"
#include "common/clock.h"
#include "common/utf8.h"
#include "daemon/exec/policy.h"
#include "daemon/exec/sandbox.h"
#include "daemon/bridge/presence.h"
#include "daemon/bridge/rate_limit.h"
#include "daemon/redact/redactor.h"
#include "daemon/bridge/settings.h"
#include "daemon/store/tables.h"

namespace cb::bridge {

using Json = nlohmann::json;

// An expected refusal: told to the model as an isError result, audited, counted.
struct Refusal {
  std::string code;     // stable machine name: unknown_conversation, bad_token, expired, ...
  std::string message;  // one line: what happened and what to do
  std::optional<std::int64_t> retry_after_seconds;
};
using Result = std::variant<Json, Refusal>;

// Who made a call: the connection it came in on (presence) and the peer process.
struct Caller {
  std::uint64_t connection_id = 0;
  pid_t pid = -1;
  uid_t uid = static_cast<uid_t>(-1);
};

struct Credentials {
  std::string conversation_id;
  std::string session_id;  // "a" or "b"
  std::string token;
};

// How the bridge reaches a connection with an unsolicited notification (channel push).
class Notifier {
 public:
  virtual ~Notifier() = default;
  virtual void push(std::uint64_t connection_id, const std::string& method, Json params) = 0;
};

// ---- Command execution (YOLO mode; execution.cpp, approvals.h, YOLO_MODE.md) ----
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
  std::string config_file;     // named in the "how to turn it on" answer
};

// What execute_command needs from the MCP call that asked: progress, cancellation and the
// requesting client's own confirmation dialog.
struct ExecHooks {
  std::function<void(const std::string&)> progress;
  std::function<bool()> cancelled;
  // Asks the requesting client's user (MCP elicitation) whether to allow; completes with
  // "accepted" (allowed), "declined", "cancelled" or "no_answer". Empty when the client declared
  // no elicitation capability.
  std::function<awaitable<std::string>(std::string message)> ask_client;
};
// ---- end of command execution ----

// The product: conversations, messages and delivery, presence, tokens, rate limits, audit,
// redaction. Single-threaded; every call is one transaction. Knows nothing of JSON-RPC.
class Bridge {
 public:
  Bridge(store::Database& db, const Clock& clock, std::string server_key, Settings settings,
         std::shared_ptr<const redact::Redactor> redactor);
  ~Bridge();
  Bridge(const Bridge&) = delete;
  Bridge& operator=(const Bridge&) = delete;

  // Swaps in new settings and rules (config reload); connections and waiters stay.
  void reconfigure(Settings settings, std::shared_ptr<const redact::Redactor> redactor);
  void set_notifier(Notifier* notifier) { notifier_ = notifier; }
  const Settings& settings() const { return settings_; }
  const redact::Redactor& redactor() const { return *redactor_; }

  // ---- The tools (names and parameters of the original) ----
  Result create_conversation(const Caller& caller, const std::string& my_role,
                             const std::string& partner_role);
  Result send(const Caller& caller, const Credentials& cred, const std::string& message,
              const std::string& action_type, const std::vector<std::string>& files);
  Result check_messages(const Caller& caller, const Credentials& cred,
                        std::optional<std::int64_t> since_id, std::optional<std::int64_t> limit);
  Result update_status(const Caller& caller, const Credentials& cred, const std::string& status);
  Result partner_status(const Caller& caller, const Credentials& cred);
  // check_messages that writes nothing (no read mark, no audit entry; "marked_read": false):
  // what reads fall back on when the database cannot be written (disk full).
  Result peek_messages(const Caller& caller, const Credentials& cred,
                       std::optional<std::int64_t> since_id, std::optional<std::int64_t> limit);
  store::Database& database() { return db_; }

  // Returns unread messages at once when there are any, else blocks until the first one
  // arrives, the timeout passes (empty list) or `cancelled()` turns true (nothing consumed).
  // `progress` is called every progress_interval while blocked.
  awaitable<Result> wait_for_messages(Caller caller, Credentials cred,
                                      std::optional<std::int64_t> since_id,
                                      std::optional<std::int64_t> limit,
                                      std::int64_t timeout_seconds,
                                      std::function<void(const std::string&)> progress,
                                      std::function<bool()> cancelled);
  std::chrono::milliseconds progress_interval{5000};

  void connection_closed(std::uint64_t connection_id) { presence_.connection_closed(connection_id); }

  // ---- Operator (ctl.sock) ----
  Json list_conversations();
  Result show_conversation(const std::string& id);
  Result tokens(const std::string& id, const std::string& who);
  Json audit_entries(const std::string& conversation_id, std::int64_t limit);
  audit::AuditLog::Verification verify_audit() { return audit_.verify(); }
  void reload_after_restore() { audit_.reload_head(); }  // the database was replaced under us
  // Deletes expired conversations (all of them, or only those expired before `before_ms`).
  Json cleanup(std::optional<std::int64_t> before_ms = std::nullopt);
  Json stats();
  // Redacts `text` with the live rule set.
  redact::Redacted redact(std::string_view text) const { return redactor_->redact(text); }
  // Records an operator action in the audit trail.
  void audit_admin(const std::string& action, const std::string& conversation_id,
                   const std::string& outcome, const Json& details);

  // Live events for `claudebridgectl watch`: message and status changes (texts redacted).
  using Listener = std::function<void(const Json& event)>;
  int subscribe(Listener listener);
  void unsubscribe(int id);

  // ---- Command execution (execution.cpp) ----
  void reconfigure_exec(ExecSettings settings) { exec_ = std::move(settings); }
  const ExecSettings& exec_settings() const { return exec_; }
  // enable_yolo_mode: sets the conversation's mode (any mode up to the ceiling; lowering is
  // allowed), workspace and timeout; tells the partner through a message from "system".
  Result enable_exec(const Caller& caller, const Credentials& cred, const std::string& mode,
                     const std::optional<std::string>& workspace,
                     std::optional<std::int64_t> timeout_seconds, std::optional<bool> sandbox);
  // execute_command: checks the command against the conversation's mode, asks the client's
  // user (when it can), queues it for a person's approval on a terminal, waits (progress every
  // progress_interval) until approved, denied, expired or cancelled (the approval is then
  // withdrawn), runs it in the sandbox, returns the redacted result and sends it to the
  // partner as a message from "system".
  awaitable<Result> execute_command(Caller caller, Credentials cred, std::string command,
                                    ExecHooks hooks);
  // Operator: pending approvals ({"approvals": [...]}), and a person's decision. When
  // `expected_argv` is given the decision applies only if the approval is for exactly that
  // argv (what the operator was shown).
  Json approvals();
  Result decide_approval(const std::string& id, bool approve, const Caller& op,
                         const std::optional<std::vector<std::string>>& expected_argv);
  // ---- end of command execution ----

  Presence& presence() { return presence_; }
  std::string derive_token(const std::string& conversation_id, const std::string& session,
                           const std::string& nonce) const;

 private:
  struct Authed {
    store::ConversationRow conversation;
    SessionKey self;
    SessionKey partner;
    std::string role;
    std::string partner_role;
  };
  std::variant<Authed, Refusal> authenticate(const Caller& caller, const Credentials& cred,
                                             const char* action);
  std::optional<Refusal> read_budget(const Authed& a, const char* action);
  std::optional<Refusal> send_budget(const Authed& a);
  Refusal refuse(const std::string& conv, const std::string& session, const char* action,
                 Refusal r, const Json& details = Json::object());
  // Reads and marks read (falls back to peek_inbox when the marks cannot be written).
  Result read_inbox(const Authed& a, std::optional<std::int64_t> since_id,
                    std::optional<std::int64_t> limit, const char* action);
  Result read_and_mark(const Authed& a, std::optional<std::int64_t> since_id,
                       std::optional<std::int64_t> limit, const char* action);
  // What a read marked: messages after_id < id <= up_to_id marked read at at_ms.
  struct Marked {
    std::int64_t after_id = 0;
    std::int64_t up_to_id = 0;
    std::int64_t at_ms = 0;
    std::size_t count = 0;
  };
  // The answer of a read, its messages marked read, within the caller's transaction.
  Json mark_inbox(const Authed& a, std::optional<std::int64_t> since_id,
                  std::optional<std::int64_t> limit, const char* action, Marked* marked);
  // A cancelled wait whose messages a send had handed it: they are unread again.
  void give_back(const Authed& a, const Marked& marked);
  Json peek_inbox(const Authed& a, std::optional<std::int64_t> since_id,
                  std::optional<std::int64_t> limit);
  // After the commit that holds `row`: wakes the recipient's waiters, pushes channel
  // notifications (unless a waiter of the recipient took the message: it has it already),
  // tells watchers.
  void deliver(const Authed& from, const store::MessageRow& row, bool taken);
  void deliver_now(const Authed& from, const store::MessageRow& row, bool taken);
  void emit(const Json& event);
  // Whether anyone listens to emit(): an event not watched is not built.
  bool watched() const { return !listeners_.empty(); }

  // ---- Command execution (execution.cpp) ----
  struct ExecPlan;  // one execute_command call, from its checks to its result
  std::optional<Refusal> exec_unavailable(const Credentials& cred, const char* action);
  std::variant<ExecPlan, Refusal> prepare_exec(const Caller& caller, const Credentials& cred,
                                               const std::string& command);
  Refusal exec_refused(const ExecPlan& plan, const std::string& outcome, Refusal r,
                       Json details = Json::object());
  void record_client_answer(const ExecPlan& plan, const std::string& answer);
  std::string queue_approval(ExecPlan& plan, std::int64_t ttl_ms, std::function<void()> wake);
  ApprovalState approval_state(const ExecPlan& plan);
  std::optional<Refusal> recheck_before_run(const ExecPlan& plan);
  Result finish_exec(const ExecPlan& plan, const std::string& snapshot_ref,
                     const std::string& snapshot_skipped, exec::SandboxResult& run);
  // Stores a message from "system" to `to` within the caller's transaction; deliver_system()
  // after the commit wakes `to`'s waiters, emits the watch event and pushes to its channel.
  store::MessageRow insert_system_message(const SessionKey& to, const std::string& body);
  void deliver_system(const SessionKey& to, const store::MessageRow& row);
  void deliver_system_now(const SessionKey& to, const store::MessageRow& row);
  // ---- end of command execution ----

  store::Database& db_;
  const Clock& clock_;
  std::string server_key_;
  Settings settings_;
  std::shared_ptr<const redact::Redactor> redactor_;
  store::Conversations conversations_;
  store::Messages messages_;
  store::Statuses statuses_;
  audit::AuditLog audit_;
  Presence presence_;
  SlidingWindow auth_failures_;
  SlidingWindow reads_;
  Notifier* notifier_ = nullptr;
  // derive_token's answers by HMAC input; wiped when full and on destruction.
  static constexpr std::size_t kTokenCacheSize = 4096;
  mutable std::unordered_map<std::string, std::string> token_cache_;
  void forget_tokens() const;
  std::map<std::string, std::int64_t> empty_polls_;  // per session key, since its last read
  std::int64_t empty_polls_total_ = 0;
  std::map<std::string, std::int64_t> refusals_;     // by code
  std::map<int, Listener> listeners_;
  int next_listener_ = 1;
  // ---- Command execution ----
  ExecSettings exec_;
  ApprovalQueue approvals_{clock_};  // after clock_, which it refers to
  // ---- end of command execution ----
};

}  // namespace cb::bridge
