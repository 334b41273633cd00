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
  const store::AgentRow* find(const std::string& name) const;
  // Any call of the agent: it is alive now (memory only; written when it goes offline).
  void seen(const std::string& name);
  std::vector<std::string> live_names() const;
  std::size_t count() const { return rows_.size(); }
  std::size_t live_count() const { return live_.size(); }

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
  };
  std::string choose_name(const ClientIdentity& who, bool* restored);
  void write_offline(const std::string& name, std::int64_t now);

  Context& ctx_;
  std::map<std::string, store::AgentRow> rows_;
  std::map<std::string, Live> live_;
  std::unordered_map<std::uint64_t, std::string> by_connection_;
};

}  // namespace cb::bridge
