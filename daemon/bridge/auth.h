#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>

#include "common/status.h"
#include "daemon/bridge/context.h"
#include "daemon/bridge/rate_limit.h"
#include "daemon/bridge/types.h"

// Authentication and budgets: session tokens (derived, never stored), the per-connection
// lockout after failed authentications, and the read and send budgets of each session.
namespace cb::bridge {

// A caller who proved a seat: its conversation, its seat and its partner's.
struct Authed {
  store::ConversationRow conversation;
  SessionKey self;
  SessionKey partner;
  std::string role;
  std::string partner_role;
};

class Authenticator {
 public:
  // The server key is wiped on destruction.
  Authenticator(Context& ctx, std::string server_key);
  ~Authenticator();
  Authenticator(const Authenticator&) = delete;
  Authenticator& operator=(const Authenticator&) = delete;

  void reconfigure(const Settings& settings);

  // Checks the credentials (every refusal audited under `action`) and binds the caller's
  // connection to the seat (presence). A failure counts against the connection, never the seat.
  Result<Authed> authenticate(const Caller& caller, const Credentials& cred, const char* action);
  // The seat `session` of `conv`, proven by other means (an agent's join): bound to the caller's
  // connection like a token-authenticated one.
  Authed seat(const Caller& caller, store::ConversationRow conv, const std::string& session);
  // One read (check, wait, status call) of the seat's per-minute budget: an error when spent.
  Status read_budget(const Authed& a, const char* action);
  // The same for any reader: a seat, or an agent's inbox (inbox_key).
  Status read_budget(const SessionKey& reader, const char* action);
  // The send windows (minute, hour, day), counted over the stored messages themselves.
  Status send_budget(const Authed& a, const char* action);

  // HMAC-SHA256(server key, "session-token" ‖ conversation ‖ seat ‖ nonce), hex.
  std::string derive_token(const std::string& conversation_id, const std::string& session,
                           const std::string& nonce) const;

 private:
  void forget_tokens() const;

  Context& ctx_;
  std::string server_key_;
  SlidingWindow auth_failures_;
  SlidingWindow reads_;
  // derive_token's answers by HMAC input; wiped when full and on destruction.
  static constexpr std::size_t kTokenCacheSize = 4096;
  mutable std::unordered_map<std::string, std::string> token_cache_;
};

}  // namespace cb::bridge
