#include "common/process_info.h"
#include "daemon/bridge/agents.h"

#include "daemon/bridge/mailbox.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <iterator>
#include <set>

namespace cb::bridge {
namespace {

const std::string kNoName;

std::string base_name(const std::string& dir) {
  std::string d = dir;
  while (d.size() > 1 && d.back() == '/') d.pop_back();
  const auto slash = d.rfind('/');
  return slash == std::string::npos ? d : d.substr(slash + 1);
}

// "frontend", "frontend-2"…: the n-th candidate, cut so the suffix fits.
std::string candidate(const std::string& base, int n) {
  if (n == 1) return base;
  const std::string suffix = "-" + std::to_string(n);
  return base.substr(0, std::min(base.size(), Agents::kMaxName - suffix.size())) + suffix;
}

Json agent_event(const store::AgentRow& row, const char* state) {
  return Json{{"event", "agent"},
              {"name", row.name},
              {"project", row.project},
              {"client", row.client},
              {"state", state}};
}

}  // namespace

Agents::Agents(Context& ctx) : ctx_(ctx), team_(ctx.db.team()) {
  host_ = team_ ? team_->self().host : proc::host_name();
  reload();
}

bool Agents::live_elsewhere(const store::AgentRow& row, std::int64_t now_ms) const {
  return team_ && row.daemon_id != team_->self().daemon_id && row.heartbeat_ms > 0 &&
         now_ms - row.heartbeat_ms < kOfflineAfterMs;
}

void Agents::reload() {
  // Rows are assigned in place, so a row find() returned stays valid across a reload (a team
  // reloads at every bind and list); only an agent gone from the store (a restore) goes.
  std::set<std::string> stored;
  for (auto& row : ctx_.agents.all()) {
    stored.insert(row.name);
    std::string name = row.name;
    rows_[std::move(name)] = std::move(row);
  }
  for (auto it = rows_.begin(); it != rows_.end();) {
    it = stored.count(it->first) != 0 ? std::next(it) : rows_.erase(it);
  }
}

bool Agents::valid_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxName) return false;
  if (name[0] < 'a' || name[0] > 'z') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

std::string Agents::name_from(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (ok) {
      out.push_back(c);
    } else if (!out.empty() && out.back() != '-') {
      out.push_back('-');  // a run of anything else is one dash
    }
  }
  const auto first = out.find_first_of("abcdefghijklmnopqrstuvwxyz");
  if (first == std::string::npos) return "";
  out.erase(0, first);
  if (out.size() > kMaxName) out.resize(kMaxName);
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out;
}

std::string Agents::choose_name(const ClientIdentity& who, bool* restored) {
  *restored = false;
  const bool chosen = !who.agent.empty();
  // The same client session as an offline agent (claude --resume): that agent, unless the
  // person chose a name.
  if (!chosen && !who.session_id.empty()) {
    for (const auto& [name, row] : rows_) {
      if (row.client_session_id == who.session_id && !live(name)) {
        *restored = true;
        return name;
      }
    }
  }
  std::string base = chosen ? name_from(who.agent) : name_from(base_name(who.project_dir));
  if (base.empty()) base = "agent";
  for (int n = 1;; ++n) {
    const std::string name = candidate(base, n);
    if (auto it = live_.find(name); it != live_.end()) {
      // Held by a live connection: the same client process reconnecting takes it over.
      if (it->second.client_pid == who.client_pid && it->second.client_start == who.client_start &&
          who.client_pid > 0) {
        *restored = true;
        return name;
      }
      continue;
    }
    auto row = rows_.find(name);
    if (row == rows_.end()) return name;
    // Held by a live agent on another machine of the team.
    if (live_elsewhere(row->second, ctx_.clock.now_ms())) continue;
    // Offline and stored: a chosen name is the person's to take back; a derived one only from
    // the same project (another project's "api" is not this one).
    if (chosen || row->second.project == who.project_dir) {
      *restored = true;
      return name;
    }
  }
}

Result<BoundAgent> Agents::bind(std::uint64_t connection, const ClientIdentity& who) {
  if (!who.agent.empty() && name_from(who.agent).empty()) {
    spdlog::warn("connection {}: the chosen agent name has no letter to start a name with; "
                 "using the project's",
                 connection);
  }
  if (by_connection_.count(connection) != 0) connection_closed(connection);  // bound again
  if (team_) reload();  // other daemons' agents, and who of them is live now
  bool restored = false;
  const std::string name = choose_name(who, &restored);
  const std::int64_t now = ctx_.clock.now_ms();
  if (auto it = live_.find(name); it != live_.end()) {
    // A reconnect of the same client: the old connection no longer speaks for the agent.
    by_connection_.erase(it->second.connection);
    ctx_.presence.unbind(it->second.connection, inbox_key(name));
    forget_live(it);
  }
  store::AgentRow row;
  if (auto it = rows_.find(name); it != rows_.end()) row = it->second;
  const bool existed = !row.name.empty();
  row.name = name;
  row.project = who.project_dir;
  row.client = who.client;
  row.client_session_id = who.session_id;
  if (!existed) row.created_ms = now;
  row.last_seen_ms = now;
  row.heartbeat_ms = team_ ? now : 0;  // live here from now on, for the other daemons
  {
    store::WriteTransaction tx(ctx_.db);
    ctx_.agents.upsert(row);
    ctx_.audit.record("", name, "agent_bound", "ok",
                      Json{{"project", row.project},
                           {"client", row.client},
                           {"client_pid", who.client_pid},
                           {"restored", restored},
                           {"connection", connection}});
    tx.commit();
  }
  rows_[name] = row;
  live_[name] = Live{connection, who.client_pid, who.client_start, now, who.session_id};
  by_client_.emplace(std::pair{who.client_pid, who.client_start}, name);
  if (!who.session_id.empty()) by_session_.emplace(who.session_id, name);
  by_connection_[connection] = name;
  ctx_.presence.bind(connection, inbox_key(name));
  if (ctx_.events.watched()) ctx_.events.emit(agent_event(row, "online"));
  BoundAgent out;
  out.name = name;
  out.restored = restored && existed;
  out.unread = ctx_.inboxes.agent_unread(name);
  spdlog::info("connection {} is agent {} ({}{}, project {})", connection, name,
               out.restored ? "restored, " : "", who.client.empty() ? "client" : who.client,
               row.project);
  return out;
}

void Agents::write_offline(const std::string& name, std::int64_t now) {
  auto it = rows_.find(name);
  if (it == rows_.end()) return;
  it->second.last_seen_ms = now;
  it->second.heartbeat_ms = 0;  // offline at once for the other daemons of a team
  try {
    store::WriteTransaction tx(ctx_.db);
    ctx_.agents.upsert(it->second);
    ctx_.audit.record("", name, "agent_offline", "ok", Json::object());
    tx.commit();
  } catch (const std::exception& e) {
    // Only the last-seen time is lost; the agent, its name and mail stay.
    spdlog::warn("agent {} went offline but its last-seen time was not stored: {}", name,
                 store::storage_failure(e).value_or(e.what()));
  }
  if (ctx_.events.watched()) ctx_.events.emit(agent_event(it->second, "offline"));
}

void Agents::connection_closed(std::uint64_t connection) {
  auto it = by_connection_.find(connection);
  if (it == by_connection_.end()) return;
  const std::string name = it->second;
  by_connection_.erase(it);
  auto live = live_.find(name);
  if (live == live_.end() || live->second.connection != connection) return;
  const std::int64_t now = std::max(live->second.last_call_ms, ctx_.clock.now_ms());
  forget_live(live);
  write_offline(name, now);
}

void Agents::forget_live(std::map<std::string, Live>::iterator it) {
  const std::string& name = it->first;
  const Live& l = it->second;
  auto [c, c_end] = by_client_.equal_range(std::pair{l.client_pid, l.client_start});
  for (; c != c_end; ++c) {
    if (c->second == name) {
      by_client_.erase(c);
      break;
    }
  }
  if (!l.session_id.empty()) {
    auto [s, s_end] = by_session_.equal_range(l.session_id);
    for (; s != s_end; ++s) {
      if (s->second == name) {
        by_session_.erase(s);
        break;
      }
    }
  }
  live_.erase(it);
}

std::string Agents::only_one(const std::vector<std::string>& names,
                             const std::string& session_id) const {
  if (names.size() == 1) return names.front();
  std::string found;
  for (const auto& n : names) {
    auto l = live_.find(n);
    if (session_id.empty() || l == live_.end() || l->second.session_id != session_id) continue;
    if (!found.empty()) return "";
    found = n;
  }
  return found;
}

std::string Agents::lookup(const std::vector<Process>& ancestors,
                           const std::string& session_id) const {
  for (const Process& p : ancestors) {
    if (p.pid <= 1) continue;
    auto [it, end] = by_client_.equal_range(std::pair{p.pid, p.start});
    if (it == end) continue;
    std::vector<std::string> names;
    for (; it != end; ++it) names.push_back(it->second);
    // The nearest client process decides: an ambiguous one is not skipped for a farther one.
    return only_one(names, session_id);
  }
  if (session_id.empty()) return "";
  auto [it, end] = by_session_.equal_range(session_id);
  std::vector<std::string> names;
  for (; it != end; ++it) names.push_back(it->second);
  return names.size() == 1 ? names.front() : "";
}

Agents::Process Agents::client_of(const std::string& name) const {
  auto it = live_.find(name);
  if (it == live_.end()) return {};
  return Process{it->second.client_pid, it->second.client_start};
}

const std::string& Agents::name_of(std::uint64_t connection) const {
  auto it = by_connection_.find(connection);
  return it == by_connection_.end() ? kNoName : it->second;
}

const store::AgentRow* Agents::find(const std::string& name) const {
  auto it = rows_.find(name);
  if (it != rows_.end()) return &it->second;
  if (!team_ || !valid_name(name)) return nullptr;
  auto row = ctx_.agents.find(name);
  if (!row) return nullptr;
  return &rows_.emplace(name, std::move(*row)).first->second;
}

void Agents::seen(const std::string& name) {
  if (auto it = live_.find(name); it != live_.end()) it->second.last_call_ms = ctx_.clock.now_ms();
}

std::vector<std::string> Agents::live_names() const {
  std::vector<std::string> out;
  out.reserve(live_.size());
  for (const auto& [name, l] : live_) out.push_back(name);
  return out;
}

AgentList Agents::list(const std::string& me, bool project_only) {
  AgentList out;
  out.you = me;
  if (team_) reload();  // every daemon's agents, with their heartbeats
  const std::int64_t now = ctx_.clock.now_ms();
  const store::AgentRow* mine = find(me);
  if (mine) out.your_project = mine->project;
  std::unordered_map<std::string, std::int64_t> unread;
  if (mine) {
    for (auto& [sender, n] : ctx_.inboxes.agent_unread_by_sender(me)) unread[sender] = n;
  }
  // One pass over the names (rows_ and live_ are both sorted by name), filling three buckets —
  // the caller, who is online, the rest — so the list needs no sort (list_agents with 1,000
  // agents is a budgeted figure, docs/benchmarks.md).
  const std::set<std::string> waiting = ctx_.presence.waiting_sessions("@");
  std::vector<AgentView> online;
  std::vector<AgentView> offline;
  online.reserve(live_.size());
  offline.reserve(rows_.size());
  auto live = live_.begin();
  for (const auto& [name, row] : rows_) {
    while (live != live_.end() && live->first < name) ++live;
    if (project_only && mine && row.project != mine->project) continue;
    AgentView v;
    v.name = name;
    v.project = row.project;
    v.client = row.client;
    v.status = row.status;
    v.note = row.note;
    const bool here = live != live_.end() && live->first == name;
    const bool elsewhere = !here && live_elsewhere(row, now);
    v.connected = here || elsewhere;
    v.host = here || row.host.empty() ? host_ : row.host;
    v.last_seen_ms = here        ? std::max(live->second.last_call_ms, row.last_seen_ms)
                     : elsewhere ? std::max(row.heartbeat_ms, row.last_seen_ms)
                                 : row.last_seen_ms;
    v.waiting = v.connected && waiting.count(name) != 0;
    if (!unread.empty()) {
      if (auto u = unread.find(name); u != unread.end()) v.unread_from_them = u->second;
    }
    if (name == me) {
      out.agents.push_back(std::move(v));
    } else {
      (v.connected ? online : offline).push_back(std::move(v));
    }
  }
  out.agents.reserve(out.agents.size() + online.size() + offline.size());
  std::move(online.begin(), online.end(), std::back_inserter(out.agents));
  std::move(offline.begin(), offline.end(), std::back_inserter(out.agents));
  return out;
}

Result<AgentStatusUpdate> Agents::set_status(const std::string& name, const std::string& status,
                                             const std::string& note) {
  auto it = rows_.find(name);
  if (it == rows_.end()) {
    return Status::error("unknown_agent", "No agent " + name + " — this connection is not bound");
  }
  const std::int64_t now = ctx_.clock.now_ms();
  store::AgentRow row = it->second;
  row.status = status;
  row.note = ctx_.redactor->redact(note).text;
  no_nul(row.note);
  row.status_ms = now;
  row.last_seen_ms = now;
  AgentStatusUpdate out;
  {
    store::WriteTransaction tx(ctx_.db);
    ctx_.agents.upsert(row);
    ctx_.audit.record("", name, "update_my_status", "ok",
                      Json{{"status", status}, {"note", row.note}});
    out.ticket = tx.commit();
  }
  it->second = row;
  if (ctx_.events.watched()) {
    ctx_.events.emit(Json{{"event", "status"},
                          {"agent", name},
                          {"status", status},
                          {"note", row.note},
                          {"timestamp", iso8601(now)}});
  }
  out.name = name;
  out.status = status;
  out.note = row.note;
  out.at_ms = now;
  return out;
}

}  // namespace cb::bridge
