#include "daemon/bridge/auth.h"

#include <algorithm>

#include "daemon/crypto/crypto.h"

namespace cb::bridge {

Authenticator::Authenticator(Context& ctx, std::string server_key)
    : ctx_(ctx),
      server_key_(std::move(server_key)),
      auth_failures_(ctx.settings.auth_failures_per_minute, 60'000),
      reads_(ctx.settings.read_per_minute, 60'000) {}

Authenticator::~Authenticator() {
  crypto::wipe(server_key_);
  forget_tokens();
}

void Authenticator::forget_tokens() const {
  for (auto& [input, token] : token_cache_) crypto::wipe(token);
  token_cache_.clear();
}

void Authenticator::reconfigure(const Settings& settings) {
  auth_failures_.set_limit(settings.auth_failures_per_minute);
  reads_.set_limit(settings.read_per_minute);
}

std::string Authenticator::derive_token(const std::string& conversation_id,
                                        const std::string& session,
                                        const std::string& nonce) const {
  std::string data = "session-token";
  data.push_back('\0');
  data += conversation_id;
  data.push_back('\0');
  data += session;
  data.push_back('\0');
  data += nonce;
  // Every authenticated call needs its session's token: derived once, then looked up (an HMAC
  // through OpenSSL's provider machinery costs more than the rest of authentication).
  if (auto it = token_cache_.find(data); it != token_cache_.end()) return it->second;
  if (token_cache_.size() >= kTokenCacheSize) forget_tokens();
  std::string token = crypto::hex(crypto::hmac_sha256(server_key_, data));
  token_cache_.emplace(std::move(data), token);
  return token;
}

Result<Authed> Authenticator::authenticate(const Caller& caller, const Credentials& cred,
                                           const char* action) {
  const std::int64_t now = ctx_.clock.now_ms();
  const std::string conn_key = "conn:" + std::to_string(caller.connection_id);
  // Only the connection's own failures lock it: a guessing client cannot use up the quota of
  // the session it is guessing at.
  if (auto wait = auth_failures_.would_block(conn_key, now)) {
    const std::int64_t secs = (*wait + 999) / 1000;
    return ctx_.refuse(cred.conversation_id, cred.session_id, action,
                       Status::error("auth_locked",
                                     "Too many failed authentications on this connection; retry "
                                     "in " +
                                         std::to_string(secs) +
                                         " s with the exact conversation_id, session_id and "
                                         "token that create_conversation returned",
                                     secs),
                       Json{{"pid", caller.pid}});
  }
  auto fail = [&](Status r) {
    auth_failures_.record(conn_key, now);
    return ctx_.refuse(cred.conversation_id, cred.session_id, action, std::move(r),
                       Json{{"pid", caller.pid}});
  };
  if (cred.session_id != "a" && cred.session_id != "b") {
    return fail(Status::error("invalid_session", "session_id must be \"a\" or \"b\""));
  }
  auto conv = ctx_.conversations.find(cred.conversation_id);
  if (!conv) {
    return fail(Status::error("unknown_conversation",
                              "Unknown conversation " + cred.conversation_id +
                                  ": check the id you were given (conv_ followed by 16 hex "
                                  "digits), or start one with create_conversation"));
  }
  const std::string expected = derive_token(conv->id, cred.session_id, conv->nonce);
  if (!crypto::equal_constant_time(expected, cred.token)) {
    return fail(Status::error("bad_token",
                              "Invalid session token for session " + cred.session_id + " of " +
                                  conv->id +
                                  ": use the token create_conversation returned for this "
                                  "session (the creator is \"a\"; its partner uses "
                                  "session_b_token as \"b\")"));
  }
  if (now >= conv->expires_ms) {
    return ctx_.refuse(conv->id, cred.session_id, action,
                       Status::error("expired", "Conversation " + conv->id + " expired at " +
                                                    iso8601(conv->expires_ms) +
                                                    "; start a new one with create_conversation"));
  }
  return seat(caller, std::move(*conv), cred.session_id);
}

Authed Authenticator::seat(const Caller& caller, store::ConversationRow conv,
                           const std::string& session) {
  Authed a;
  a.self = SessionKey{conv.id, session};
  a.partner = SessionKey{conv.id, session == "a" ? "b" : "a"};
  a.role = session == "a" ? conv.role_a : conv.role_b;
  a.partner_role = session == "a" ? conv.role_b : conv.role_a;
  a.conversation = std::move(conv);
  ctx_.presence.bind(caller.connection_id, a.self);
  // Any authenticated call is a heartbeat (check_partner_status's alive).
  ctx_.presence.touch(a.self, ctx_.clock.now_ms());
  return a;
}

Status Authenticator::read_budget(const Authed& a, const char* action) {
  return read_budget(a.self, action);
}

Status Authenticator::read_budget(const SessionKey& reader, const char* action) {
  auto wait = reads_.acquire(reader.str(), ctx_.clock.now_ms());
  if (!wait) return Status();
  const std::int64_t secs = (*wait + 999) / 1000;
  return ctx_.refuse(reader.conversation_id == "@" ? "" : reader.conversation_id, reader.session,
                     action,
                     Status::error("rate_limited",
                                   "Rate limit: at most " +
                                       std::to_string(ctx_.settings.read_per_minute) +
                                       " reads and status calls per minute for this session; "
                                       "retry in " +
                                       std::to_string(secs) +
                                       " s — use wait_for_messages instead of polling",
                                   secs),
                     Json{{"window", "read_per_minute"}});
}

Status Authenticator::send_budget(const Authed& a, const char* action) {
  struct Window {
    const char* name;
    std::int64_t limit;
    std::int64_t ms;
    const char* unit;
  };
  const Settings& s = ctx_.settings;
  const Window windows[] = {{"send_per_minute", s.send_per_minute, 60'000, "minute"},
                            {"send_per_hour", s.send_per_hour, 3'600'000, "hour"},
                            {"send_per_day", s.send_per_day, 86'400'000, "day"}};
  const std::int64_t now = ctx_.clock.now_ms();
  for (const auto& w : windows) {
    if (w.limit <= 0) continue;
    // Sliding window over the stored messages themselves: exact, and it survives restarts.
    const std::int64_t since = now - w.ms + 1;
    const std::int64_t sent =
        ctx_.messages.sent_since(a.self.conversation_id, a.self.session, {since}).front();
    if (sent < w.limit) continue;
    const auto oldest =
        ctx_.messages.nth_sent_time(a.self.conversation_id, a.self.session, since, sent - w.limit);
    const std::int64_t wait_ms = oldest ? *oldest + w.ms - now : w.ms;
    const std::int64_t secs = std::max<std::int64_t>(1, (wait_ms + 999) / 1000);
    return ctx_.refuse(a.self.conversation_id, a.self.session, action,
                       Status::error("rate_limited",
                                     "Rate limit: at most " + std::to_string(w.limit) +
                                         " messages per " + w.unit +
                                         " for this session; retry in " + std::to_string(secs) +
                                         " s (retry_after_seconds=" + std::to_string(secs) +
                                         "), or put more into one message",
                                     secs),
                       Json{{"window", w.name}, {"limit", w.limit}});
  }
  return Status();
}

}  // namespace cb::bridge
