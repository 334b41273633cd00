#include "daemon/bridge/presence.h"

namespace cb::bridge {

void Presence::bind(std::uint64_t connection, const SessionKey& key) {
  by_connection_[connection].insert(key);
  by_key_[key].insert(connection);
}

void Presence::unbind(std::uint64_t connection, const SessionKey& key) {
  if (auto c = by_connection_.find(connection); c != by_connection_.end()) {
    c->second.erase(key);
    if (c->second.empty()) by_connection_.erase(c);
  }
  if (auto k = by_key_.find(key); k != by_key_.end()) {
    k->second.erase(connection);
    if (k->second.empty()) by_key_.erase(k);
  }
  if (auto t = told_.find(key); t != told_.end() && t->second.erase(connection) && t->second.empty()) {
    told_.erase(t);
  }
}

void Presence::touch(const SessionKey& key, std::int64_t now_ms) { last_call_[key] = now_ms; }

std::optional<std::int64_t> Presence::last_call(const SessionKey& key) const {
  auto it = last_call_.find(key);
  if (it == last_call_.end()) return std::nullopt;
  return it->second;
}

void Presence::connection_closed(std::uint64_t connection) {
  auto it = by_connection_.find(connection);
  if (it == by_connection_.end()) return;
  for (const auto& key : it->second) {
    auto k = by_key_.find(key);
    if (k == by_key_.end()) continue;
    k->second.erase(connection);
    if (k->second.empty()) by_key_.erase(k);
    if (auto t = told_.find(key);
        t != told_.end() && t->second.erase(connection) && t->second.empty()) {
      told_.erase(t);
    }
  }
  by_connection_.erase(it);
}

bool Presence::connected(const SessionKey& key) const { return by_key_.count(key) > 0; }

std::vector<std::uint64_t> Presence::connections_of(const SessionKey& key) const {
  auto it = by_key_.find(key);
  if (it == by_key_.end()) return {};
  return {it->second.begin(), it->second.end()};
}

std::vector<std::uint64_t> Presence::to_tell(const SessionKey& key) {
  auto it = by_key_.find(key);
  if (it == by_key_.end()) return {};
  std::vector<std::uint64_t> out;
  auto& told = told_[key];
  for (std::uint64_t conn : it->second) {
    if (told.insert(conn).second) out.push_back(conn);
  }
  return out;
}

void Presence::add_waiter(Waiter* w) {
  if (waiters_[w->key].insert(w).second) ++waiter_count_;
}

void Presence::remove_waiter(Waiter* w) {
  auto it = waiters_.find(w->key);
  if (it == waiters_.end()) return;
  if (it->second.erase(w)) --waiter_count_;
  if (it->second.empty()) waiters_.erase(it);
}

void Presence::add_watcher(Waiter* w) { watchers_[w->key].insert(w); }

void Presence::remove_watcher(Waiter* w) {
  auto it = watchers_.find(w->key);
  if (it == watchers_.end()) return;
  it->second.erase(w);
  if (it->second.empty()) watchers_.erase(it);
}

std::size_t Presence::wake(const SessionKey& key) {
  // Copy: a woken waiter may remove itself.
  std::vector<Waiter*> woken;
  if (auto it = waiters_.find(key); it != waiters_.end()) {
    woken.assign(it->second.begin(), it->second.end());
  }
  std::vector<Waiter*> watching;
  if (auto it = watchers_.find(key); it != watchers_.end()) {
    watching.assign(it->second.begin(), it->second.end());
  }
  for (Waiter* w : woken) w->wake();
  // Looked up again: a woken waiter's work may have ended a watcher (removed, not freed, by
  // its owner until it returns) — a watcher removed meanwhile is not called.
  for (Waiter* w : watching) {
    auto it = watchers_.find(key);
    if (it != watchers_.end() && it->second.count(w) != 0) w->wake();
  }
  return woken.size() + watching.size();
}

std::size_t Presence::wake_all() {
  std::set<SessionKey> keys;
  for (const auto& [key, set] : waiters_) keys.insert(key);
  for (const auto& [key, set] : watchers_) keys.insert(key);
  std::size_t n = 0;
  for (const auto& key : keys) n += wake(key);
  return n;
}

Presence::Waiter* Presence::hand_off(const SessionKey& key) {
  auto it = waiters_.find(key);
  if (it == waiters_.end()) return nullptr;
  for (Waiter* w : it->second) {
    if (w->took || w->superseded || !w->take) continue;
    if (w->take()) {
      w->took = true;
      return w;
    }
  }
  return nullptr;
}

std::size_t Presence::supersede(const SessionKey& key, std::uint64_t connection) {
  auto it = waiters_.find(key);
  if (connection == 0 || it == waiters_.end()) return 0;
  std::vector<Waiter*> older;
  for (Waiter* w : it->second) {
    if (w->connection == connection && !w->superseded) older.push_back(w);
  }
  // Marked before any is woken: a woken waiter may remove itself.
  for (Waiter* w : older) w->superseded = true;
  for (Waiter* w : older) w->wake();
  return older.size();
}

std::set<std::string> Presence::waiting_sessions(const std::string& conversation_id) const {
  std::set<std::string> out;
  for (auto it = waiters_.lower_bound(SessionKey{conversation_id, ""});
       it != waiters_.end() && it->first.conversation_id == conversation_id; ++it) {
    if (!it->second.empty()) out.insert(it->first.session);
  }
  return out;
}

bool Presence::waiting(const SessionKey& key) const {
  auto it = waiters_.find(key);
  return it != waiters_.end() && !it->second.empty();
}

}  // namespace cb::bridge
