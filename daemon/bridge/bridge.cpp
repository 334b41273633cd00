#include "daemon/bridge/bridge.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <ctime>

#include "daemon/crypto/crypto.h"

namespace cb::bridge {


Bridge::Bridge(store::Database& db, const Clock& clock, std::string server_key, Settings settings,
               std::shared_ptr<const redact::Redactor> redactor)
    : db_(db),
      clock_(clock),
      server_key_(std::move(server_key)),
      settings_(settings),
      redactor_(std::move(redactor)),
      conversations_(db),
      messages_(db),
      statuses_(db),
      audit_(db, clock, crypto::hmac_sha256(server_key_, "claude-bridge audit chain v1")),
      auth_failures_(settings.auth_failures_per_minute, 60'000),
      reads_(settings.read_per_minute, 60'000) {}

Bridge::~Bridge() {
  crypto::wipe(server_key_);
  forget_tokens();
}

void Bridge::forget_tokens() const {
  for (auto& [input, token] : token_cache_) crypto::wipe(token);
  token_cache_.clear();
}

void Bridge::reconfigure(Settings settings, std::shared_ptr<const redact::Redactor> redactor) {
  settings_ = settings;
  auth_failures_.set_limit(settings.auth_failures_per_minute);
  reads_.set_limit(settings.read_per_minute);
  if (redactor) redactor_ = std::move(redactor);
}

std::string Bridge::derive_token(const std::string& conversation_id, const std::string& session,
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

Refusal Bridge::refuse(const std::string& conv, const std::string& session, const char* action,
                       Refusal r, const Json& details) {
  ++refusals_[r.code];
  Json d = details;
  d["reason"] = r.code;
  try {
    audit_.record(conv, session, action, "refused", d);
  } catch (const std::exception& e) {
    spdlog::error("audit write failed for a refused {}: {}", action, e.what());
    audit_.reload_head();
  }
  return r;
}

std::variant<Bridge::Authed, Refusal> Bridge::authenticate(const Caller& caller,
                                                           const Credentials& cred,
                                                           const char* action) {
  const std::int64_t now = clock_.now_ms();
  const std::string conn_key = "conn:" + std::to_string(caller.connection_id);
  // Only the connection's own failures lock it: a guessing client cannot use up the quota of
  // the session it is guessing at.
  if (auto wait = auth_failures_.would_block(conn_key, now)) {
    const std::int64_t secs = (*wait + 999) / 1000;
    return refuse(cred.conversation_id, cred.session_id, action,
                  Refusal{"auth_locked",
                          "Too many failed authentications on this connection; retry in " +
                              std::to_string(secs) +
                              " s with the exact conversation_id, session_id and token that "
                              "create_conversation returned",
                          secs},
                  Json{{"pid", caller.pid}});
  }
  auto fail = [&](Refusal r) {
    auth_failures_.record(conn_key, now);
    return refuse(cred.conversation_id, cred.session_id, action, std::move(r),
                  Json{{"pid", caller.pid}});
  };
  if (cred.session_id != "a" && cred.session_id != "b") {
    return fail(Refusal{"invalid_session", "session_id must be \"a\" or \"b\"", std::nullopt});
  }
  auto conv = conversations_.find(cred.conversation_id);
  if (!conv) {
    return fail(Refusal{"unknown_conversation",
                        "Unknown conversation " + cred.conversation_id +
                            ": check the id you were given (conv_ followed by 16 hex digits), or "
                            "start one with create_conversation",
                        std::nullopt});
  }
  const std::string expected = derive_token(conv->id, cred.session_id, conv->nonce);
  if (!crypto::equal_constant_time(expected, cred.token)) {
    return fail(Refusal{"bad_token",
                        "Invalid session token for session " + cred.session_id + " of " +
                            conv->id +
                            ": use the token create_conversation returned for this session "
                            "(the creator is \"a\"; its partner uses session_b_token as \"b\")",
                        std::nullopt});
  }
  if (now >= conv->expires_ms) {
    return refuse(conv->id, cred.session_id, action,
                  Refusal{"expired",
                          "Conversation " + conv->id + " expired at " + iso8601(conv->expires_ms) +
                              "; start a new one with create_conversation",
                          std::nullopt});
  }
  Authed a;
  a.self = SessionKey{conv->id, cred.session_id};
  a.partner = SessionKey{conv->id, cred.session_id == "a" ? "b" : "a"};
  a.role = cred.session_id == "a" ? conv->role_a : conv->role_b;
  a.partner_role = cred.session_id == "a" ? conv->role_b : conv->role_a;
  a.conversation = std::move(*conv);
  presence_.bind(caller.connection_id, a.self);
  return a;
}

std::optional<Refusal> Bridge::read_budget(const Authed& a, const char* action) {
  if (auto wait = reads_.acquire(a.self.str(), clock_.now_ms())) {
    const std::int64_t secs = (*wait + 999) / 1000;
    return refuse(a.self.conversation_id, a.self.session, action,
                  Refusal{"rate_limited",
                          "Rate limit: at most " + std::to_string(settings_.read_per_minute) +
                              " reads and status calls per minute for this session; retry in " +
                              std::to_string(secs) +
                              " s — use wait_for_messages instead of polling",
                          secs},
                  Json{{"window", "read_per_minute"}});
  }
  return std::nullopt;
}

Result Bridge::create_conversation(const Caller& caller, const std::string& my_role,
                                   const std::string& partner_role) {
  const std::int64_t now = clock_.now_ms();
  store::ConversationRow row;
  row.id = "conv_" + crypto::hex(crypto::random_bytes(8));
  row.role_a = redactor_->redact(my_role).text;
  row.role_b = redactor_->redact(partner_role).text;
  row.nonce = crypto::random_bytes(16);
  row.created_ms = now;
  row.expires_ms = now + settings_.ttl_seconds * 1000;
  {
    store::WriteTransaction tx(db_);
    conversations_.insert(row);
    audit_.record(row.id, "a", "create_conversation", "ok",
                  Json{{"role_a", row.role_a},
                       {"role_b", row.role_b},
                       {"expires_at", iso8601(row.expires_ms)},
                       {"pid", caller.pid}});
    tx.commit();
  }
  presence_.bind(caller.connection_id, SessionKey{row.id, "a"});
  emit(Json{{"event", "conversation_created"},
            {"conversation_id", row.id},
            {"role_a", row.role_a},
            {"role_b", row.role_b},
            {"timestamp", iso8601(now)}});
  return Json{{"conversation_id", row.id},
              {"session_id", "a"},
              {"session_a_token", derive_token(row.id, "a", row.nonce)},
              {"session_b_token", derive_token(row.id, "b", row.nonce)},
              {"my_role", row.role_a},
              {"partner_role", row.role_b},
              {"created_at", iso8601(row.created_ms)},
              {"expires_at", iso8601(row.expires_ms)},
              {"next_step",
               "You are session \"a\" with session_a_token. Give your partner the conversation_id "
               "and session_b_token (they call the tools with session_id \"b\"), then use "
               "send_to_partner and wait_for_messages."}};
}

Result Bridge::update_status(const Caller& caller, const Credentials& cred,
                             const std::string& status) {
  auto auth = authenticate(caller, cred, "update_my_status");
  if (auto* r = std::get_if<Refusal>(&auth)) return *r;
  auto& a = std::get<Authed>(auth);
  if (auto r = read_budget(a, "update_my_status")) return *r;
  const std::int64_t now = clock_.now_ms();
  {
    store::WriteTransaction tx(db_);
    statuses_.upsert(a.self.conversation_id, a.self.session, status, now);
    audit_.record(a.self.conversation_id, a.self.session, "update_my_status", "ok",
                  Json{{"status", status}});
    tx.commit();
  }
  emit(Json{{"event", "status"},
            {"conversation_id", a.self.conversation_id},
            {"session_id", a.self.session},
            {"role", a.role},
            {"status", status},
            {"timestamp", iso8601(now)}});
  return Json{{"conversation_id", a.self.conversation_id},
              {"session_id", a.self.session},
              {"status", status},
              {"last_heartbeat", iso8601(now)}};
}

Result Bridge::partner_status(const Caller& caller, const Credentials& cred) {
  auto auth = authenticate(caller, cred, "check_partner_status");
  if (auto* r = std::get_if<Refusal>(&auth)) return *r;
  auto& a = std::get<Authed>(auth);
  if (auto r = read_budget(a, "check_partner_status")) return *r;
  const std::int64_t now = clock_.now_ms();
  auto row = statuses_.find(a.partner.conversation_id, a.partner.session);
  Json out{{"conversation_id", a.partner.conversation_id},
           {"partner_session_id", a.partner.session},
           {"partner_role", a.partner_role},
           {"status", row ? row->status : "unknown"},
           {"last_heartbeat", row ? Json(iso8601(row->heartbeat_ms)) : Json(nullptr)},
           {"age_seconds", row ? Json((now - row->heartbeat_ms) / 1000) : Json(nullptr)},
           {"alive", row && (now - row->heartbeat_ms) < settings_.alive_seconds * 1000},
           {"connected", presence_.connected(a.partner)},
           {"waiting", presence_.waiting(a.partner)},
           {"unread_by_partner", messages_.unread_count(a.partner.conversation_id, a.partner.session)}};
  return out;
}

int Bridge::subscribe(Listener listener) {
  const int id = next_listener_++;
  listeners_[id] = std::move(listener);
  return id;
}

void Bridge::unsubscribe(int id) { listeners_.erase(id); }

void Bridge::emit(const Json& event) {
  // Copy: a listener may unsubscribe while being called.
  auto listeners = listeners_;
  for (auto& [id, fn] : listeners) fn(event);
}

void Bridge::audit_admin(const std::string& action, const std::string& conversation_id,
                         const std::string& outcome, const Json& details) {
  audit_.record(conversation_id, "", action, outcome, details);
}

}  // namespace cb::bridge
