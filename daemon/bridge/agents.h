#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "daemon/bridge/context.h"
#include "daemon/bridge/types.h"

// Named agents (issue 23): which client session holds which name, the names kept across
// restarts with their mail, the agents' own status and note, and the list the model sees.
// A name is held by at most one live connection; presence is that connection.
namespace cb::bridge {

// The presence key of an agent's whole inbox (waiters, connections to tell).
inline SessionKey inbox_key(const std::string& agent) { return SessionKey{"@", agent}; }

class Agents {
 public:
  // Loads every stored agent.
  explicit Agents(Context& ctx);
  Agents(const Agents&) = delete;
  Agents& operator=(const Agents&) = delete;

  static constexpr std::size_t kMaxName = 32;
  // [a-z][a-z0-9_-]{0,31}
  static bool valid_name(std::string_view name);
  // A name made of free text ("My Frontend" → "my-frontend"); empty when nothing is usable.
  static std::string name_from(std::string_view text);

  // Binds a connection to an agent: the chosen name, else the project directory's base name;
  // when a live connection of another client holds it, the next free "-2", "-3"… A stored
  // agent that is offline is taken back with its unread mail — by its chosen name, or when it
  // belongs to the same project (or had the same client session id). A live name held by the
  // same client process (a reconnect) moves to the new connection.
  Result<BoundAgent> bind(std::uint64_t connection, const ClientIdentity& who);
  // The connection is gone: its agent goes offline (its name and mail stay).
  void connection_closed(std::uint64_t connection);
  // The agent bound to a connection, or an empty string.
  const std::string& name_of(std::uint64_t connection) const;
  bool live(const std::string& name) const { return live_.count(name) != 0; }
  // The stored agent. In a team (issue 27) a name not known here yet is looked up in the
  // shared store: another daemon's agent.
  const store::AgentRow* find(const std::string& name) const;
  // In a team: held by a live agent of another daemon, whose heartbeat is younger than
  // kOfflineAfterMs.
  bool live_elsewhere(const store::AgentRow& row, std::int64_t now_ms) const;
  // The machine this daemon runs on, as list_agents shows it ([store] host, else the hostname).
  const std::string& host() const { return host_; }
  static constexpr std::int64_t kHeartbeatMs = 10'000;
  static constexpr std::int64_t kOfflineAfterMs = 30'000;
  // Any call of the agent: it is alive now (memory only; written when it goes offline).
  void seen(const std::string& name);
  std::vector<std::string> live_names() const;
  std::size_t count() const { return rows_.size(); }
  std::size_t live_count() const { return live_.size(); }

  // A process as /proc names it: its pid and start time (field 22), so a reused pid is not it.
  struct Process {
    pid_t pid = -1;
    std::uint64_t start = 0;
  };
  // The live agent a hook runs for (issue 24): the first of `ancestors` (the hook's own
  // ancestors, nearest first) that is the client process of a live agent — of several agents
  // of one client process, the one whose client session id is `session_id` — else the live
  // agent whose client session id is `session_id`. Empty when none fits, and when two fit and
  // nothing tells them apart: a hook never guesses. O(log n) per ancestor.
  std::string lookup(const std::vector<Process>& ancestors, const std::string& session_id) const;
  // The client process of a live agent; pid -1 when it is offline.
  Process client_of(const std::string& name) const;

  // Every agent (or those of `me`'s project), `me` first, then live ones, then by name.
  AgentList list(const std::string& me, bool project_only);
  Result<AgentStatusUpdate> set_status(const std::string& name, const std::string& status,
                                       const std::string& note);
  // The database was replaced (restore): reload the stored agents, keep the live bindings.
  void reload();

 private:
  struct Live {
    std::uint64_t connection = 0;
    pid_t client_pid = -1;
    std::uint64_t client_start = 0;
    std::int64_t last_call_ms = 0;
    std::string session_id;  // the client's session id; empty when it exports none
  };
  std::string choose_name(const ClientIdentity& who, bool* restored);
  void write_offline(const std::string& name, std::int64_t now);
  // live_[name] goes (offline, or moved to a new connection): out of the lookup indexes too.
  void forget_live(std::map<std::string, Live>::iterator it);
  // Of `names` (candidates for a hook), the only one, or the only one of client session
  // `session_id`; empty when that is not exactly one.
  std::string only_one(const std::vector<std::string>& names, const std::string& session_id) const;

  Context& ctx_;
  store::Team* team_ = nullptr;  // the shared store's team; nullptr for a daemon of its own
  std::string host_;
  // The stored agents (in a team, refreshed from the shared store when it matters).
  mutable std::map<std::string, store::AgentRow> rows_;
  std::map<std::string, Live> live_;
  std::unordered_map<std::uint64_t, std::string> by_connection_;
  // The live agents by client process and by client session id, for lookup().
  std::multimap<std::pair<pid_t, std::uint64_t>, std::string> by_client_;
  std::multimap<std::string, std::string> by_session_;
};

}  // namespace cb::bridge
