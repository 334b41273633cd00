#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "daemon/store/ticket.h"

namespace cb::bridge {

// (conversation id, session "a"/"b")
struct SessionKey {
  std::string conversation_id;
  std::string session;
  auto operator<=>(const SessionKey&) const = default;
  std::string str() const { return conversation_id + "/" + session; }
};

// Live knowledge the database does not hold: which connections have authenticated as which
// session, and who is blocked in wait_for_messages. Owned by the Bridge; single-threaded.
class Presence {
 public:
  // A blocked wait_for_messages; wake() is called at most once per arrival burst.
  struct Waiter {
    SessionKey key;
    std::function<void()> wake;
    // Called by a send inside its own transaction: the wait marks its messages read there and
    // keeps its answer, so it needs no transaction of its own when woken. True if it took them.
    std::function<bool()> take;
    bool took = false;  // set by hand_off; cleared when the sender's transaction rolls back
    store::Ticket handed;  // the sender's commit, which holds what the wait took
    std::uint64_t connection = 0;  // the connection the wait came in on (0: none known)
    bool superseded = false;       // a newer read of the same seat on that connection came
  };

  void bind(std::uint64_t connection, const SessionKey& key);
  void unbind(std::uint64_t connection, const SessionKey& key);
  // An authenticated call of `key` (a heartbeat); kept while the daemon runs.
  void touch(const SessionKey& key, std::int64_t now_ms);
  std::optional<std::int64_t> last_call(const SessionKey& key) const;
  // Forgets every binding of a closed connection.
  void connection_closed(std::uint64_t connection);
  bool connected(const SessionKey& key) const;
  std::vector<std::uint64_t> connections_of(const SessionKey& key) const;
  // Push is once per unread batch: the connections of `key` not yet told of unread mail, now
  // marked told. They are told again only after the session reads its inbox (inbox_read).
  std::vector<std::uint64_t> to_tell(const SessionKey& key);
  void inbox_read(const SessionKey& key) { told_.erase(key); }
  std::size_t connections() const { return by_connection_.size(); }

  void add_waiter(Waiter* w);
  void remove_waiter(Waiter* w);
  // A hook's wait (issue 24, HookNotices): woken with the waiters of its key, but it takes
  // nothing and is no blocked wait_for_messages — waiting(), waiting_sessions(), waiters() and
  // hand_off() leave it out.
  void add_watcher(Waiter* w);
  void remove_watcher(Waiter* w);
  // Wakes every waiter and watcher of `key`; returns how many.
  std::size_t wake(const SessionKey& key);
  // Wakes every waiter and watcher (a team's announcements may have been missed); how many.
  std::size_t wake_all();
  // The first waiter of `key` that takes its messages (see Waiter::take), or nullptr.
  // Superseded waiters take nothing.
  Waiter* hand_off(const SessionKey& key);
  // A new read of `key` came in on `connection`: every older wait of `key` on that connection
  // was abandoned by its client (Claude Code gives up on a call after its idle timeout without
  // sending notifications/cancelled), so each is marked superseded and woken to end without
  // taking anything. Returns how many. Connection 0 supersedes nothing.
  std::size_t supersede(const SessionKey& key, std::uint64_t connection);
  bool waiting(const SessionKey& key) const;
  // The sessions of `conversation_id` with a blocked wait (for "@": the agents waiting).
  std::set<std::string> waiting_sessions(const std::string& conversation_id) const;
  std::size_t waiters() const { return waiter_count_; }

 private:
  std::map<std::uint64_t, std::set<SessionKey>> by_connection_;
  std::map<SessionKey, std::set<std::uint64_t>> by_key_;
  std::map<SessionKey, std::set<std::uint64_t>> told_;  // connections pushed to since the last read
  std::map<SessionKey, std::set<Waiter*>> waiters_;
  std::map<SessionKey, std::set<Waiter*>> watchers_;
  std::map<SessionKey, std::int64_t> last_call_;
  std::size_t waiter_count_ = 0;
};

}  // namespace cb::bridge
