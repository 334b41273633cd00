#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "daemon/async.h"
#include "daemon/bridge/audit.h"
#include "daemon/bridge/clock.h"
#include "daemon/bridge/presence.h"
#include "daemon/bridge/rate_limit.h"
#include "daemon/bridge/redact/redactor.h"
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

// The product: conversations, messages and delivery, presence, tokens, rate limits, audit,
// redaction. Single-threaded; every call is one transaction. Knows nothing of JSON-RPC.
class Bridge {
 public:
  Bridge(store::Database& db, const Clock& clock, std::string server_key, Settings settings,
         std::shared_ptr<const Redactor> redactor);
  ~Bridge();
  Bridge(const Bridge&) = delete;
  Bridge& operator=(const Bridge&) = delete;

  // Swaps in new settings and rules (config reload); connections and waiters stay.
  void reconfigure(Settings settings, std::shared_ptr<const Redactor> redactor);
  void set_notifier(Notifier* notifier) { notifier_ = notifier; }
  const Settings& settings() const { return settings_; }
  const Redactor& redactor() const { return *redactor_; }

  // ---- The tools (names and parameters of the original) ----
  Result create_conversation(const Caller& caller, const std::string& my_role,
                             const std::string& partner_role);
  Result send(const Caller& caller, const Credentials& cred, const std::string& message,
              const std::string& action_type, const std::vector<std::string>& files);
  Result check_messages(const Caller& caller, const Credentials& cred,
                        std::optional<std::int64_t> since_id, std::optional<std::int64_t> limit);
  Result update_status(const Caller& caller, const Credentials& cred, const std::string& status);
  Result partner_status(const Caller& caller, const Credentials& cred);

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
  AuditLog::Verification verify_audit() { return audit_.verify(); }
  // Deletes expired conversations (all of them, or only those expired before `before_ms`).
  Json cleanup(std::optional<std::int64_t> before_ms = std::nullopt);
  Json stats();
  // Redacts `text` with the live rule set.
  Redacted redact(std::string_view text) const { return redactor_->redact(text); }
  // Records an operator action in the audit trail.
  void audit_admin(const std::string& action, const std::string& conversation_id,
                   const std::string& outcome, const Json& details);

  // Live events for `claudebridgectl watch`: message and status changes (texts redacted).
  using Listener = std::function<void(const Json& event)>;
  int subscribe(Listener listener);
  void unsubscribe(int id);

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
  Result read_inbox(const Authed& a, std::optional<std::int64_t> since_id,
                    std::optional<std::int64_t> limit, const char* action);
  void deliver(const Authed& from, const store::MessageRow& row);
  void emit(const Json& event);

  store::Database& db_;
  const Clock& clock_;
  std::string server_key_;
  Settings settings_;
  std::shared_ptr<const Redactor> redactor_;
  store::Conversations conversations_;
  store::Messages messages_;
  store::Statuses statuses_;
  AuditLog audit_;
  Presence presence_;
  SlidingWindow auth_failures_;
  SlidingWindow reads_;
  Notifier* notifier_ = nullptr;
  std::map<std::string, std::int64_t> empty_polls_;  // per session key, since its last read
  std::int64_t empty_polls_total_ = 0;
  std::map<std::string, std::int64_t> refusals_;     // by code
  std::map<int, Listener> listeners_;
  int next_listener_ = 1;
};

// Number of Unicode code points in UTF-8 text.
std::size_t code_points(std::string_view utf8);

}  // namespace cb::bridge
