// The team's shared state on PostgreSQL (issue 27): the daemons, presence heartbeats and the
// team key's fingerprint.
#include "daemon/store/pg/pg_database.h"
#include "daemon/store/tables.h"

namespace cb::store::pg {
namespace {

// A text[] literal for `= ANY($n)`: every element double-quoted, with " and \ escaped.
std::string text_array(const std::vector<std::string>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    out += '"';
    for (char c : items[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

class PgTeam final : public Team {
 public:
  explicit PgTeam(PgDatabase& db) : db_(db) {}

  const DaemonRow& self() const override { return db_.options().self; }

  void heartbeat(std::int64_t now_ms, const std::vector<std::string>& live_agents) override {
    const DaemonRow& me = self();
    Connection& c = db_.connection();
    c.query(
        "INSERT INTO daemons (daemon_id, host, started_ms, heartbeat_ms) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (daemon_id) DO UPDATE SET host = EXCLUDED.host, "
        "heartbeat_ms = EXCLUDED.heartbeat_ms",
        {Param(me.daemon_id), Param(me.host), Param(me.started_ms), Param(now_ms)});
    if (live_agents.empty()) return;
    c.query("UPDATE agents SET heartbeat_ms = $1, host = $2, daemon_id = $3 WHERE name = ANY($4)",
            {Param(now_ms), Param(me.host), Param(me.daemon_id), Param(text_array(live_agents))});
  }

  std::vector<DaemonRow> daemons() override {
    Rows r = db_.connection().query(
        "SELECT daemon_id, host, started_ms, heartbeat_ms FROM daemons "
        "ORDER BY heartbeat_ms DESC, daemon_id");
    std::vector<DaemonRow> out;
    out.reserve(static_cast<std::size_t>(r.size()));
    for (int i = 0; i < r.size(); ++i) {
      out.push_back(DaemonRow{r.text(i, 0), r.text(i, 1), r.int64(i, 2), r.int64(i, 3)});
    }
    return out;
  }

  std::string key_fingerprint(const std::string& fingerprint) override {
    Connection& c = db_.connection();
    c.query(
        "INSERT INTO team (id, key_fingerprint, created_ms) "
        "VALUES (1, $1, (extract(epoch FROM clock_timestamp()) * 1000)::bigint) "
        "ON CONFLICT (id) DO NOTHING",
        {Param(fingerprint)});
    return c.query("SELECT key_fingerprint FROM team WHERE id = 1").text(0, 0);
  }

 private:
  PgDatabase& db_;
};

}  // namespace

std::unique_ptr<Team> make_team(PgDatabase& db) { return std::make_unique<PgTeam>(db); }

}  // namespace cb::store::pg
