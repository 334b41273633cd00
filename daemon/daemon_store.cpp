// Where the daemon keeps its conversations ([store], issue 27): the embedded SQLite file in the
// state directory, or a team's shared PostgreSQL with the team key check, the listener for
// other daemons' mail and the heartbeat of this daemon's live agents.
#include <spdlog/spdlog.h>

#include "common/process_info.h"
#include "daemon/bridge/bridge.h"
#include "daemon/crypto/crypto.h"
#include "daemon/daemon.h"
#include "daemon/store/pg/pg_database.h"
#include "daemon/store/tables.h"

namespace cb {

Status Daemon::open_store(const std::string& key) {
  if (config_.store.backend != "postgresql") {
    Result<std::unique_ptr<store::SqliteDatabase>> db =
        store::SqliteDatabase::open(options_.state_dir / "bridge.db", config_.synchronous);
    if (!db) return Status::invalid(db.status().message());
    sqlite_ = db.value().get();
    db_ = std::move(db).value();
    return {};
  }
  store::pg::Options o;
  o.conninfo = config_.store.url;
  o.schema = config_.store.schema;
  o.self.daemon_id = crypto::hex(crypto::random_bytes(8));
  o.self.host = config_.store.host.empty() ? proc::host_name() : config_.store.host;
  o.self.started_ms = clock_.now_ms();
  Result<std::unique_ptr<store::pg::PgDatabase>> db = store::pg::PgDatabase::open(o);
  if (!db) return Status::invalid(db.status().message());
  // Every daemon of a team must hold the same server.key (its tokens and audit chain are made
  // with it); the store keeps only a fingerprint, so reading the database gives no key.
  const std::string fingerprint =
      crypto::hex(crypto::hmac_sha256(key, "claude-bridge team key fingerprint v1"));
  std::string stored;
  try {
    store::WriteTransaction tx(**db);
    stored = (*db)->team()->key_fingerprint(fingerprint);
    tx.commit();
  } catch (const std::exception& e) {
    return Status::invalid("the team store at " + (*db)->location() + " refused the key check: " +
                           store::storage_failure(e).value_or(e.what()));
  }
  if (stored != fingerprint) {
    return Status::error(
        store::open_errors::kTeamKey,
        "this daemon's " + (options_.state_dir / "server.key").string() +
            " is not the key of the team whose store is " + (*db)->location() +
            " — copy server.key from a machine of the team into the state directory "
            "(docs/teams.md), then start again");
  }
  spdlog::info("team store {} ({}): this daemon is {} on host {}", (*db)->location(),
               (*db)->connection().tls().value_or("no TLS"), o.self.daemon_id, o.self.host);
  pg_ = db.value().get();
  db_ = std::move(db).value();
  return {};
}

void Daemon::open_team() {
  if (!pg_) return;
  auto post = [ex = io_.get_executor()](std::function<void()> fn) { asio::post(ex, std::move(fn)); };
  pg_->enable_group_commit(post);
  // Mail another daemon committed: announced by NOTIFY, handed to this loop by the listener.
  pg_->listen(post, [this](const store::pg::MailNotice& n) {
    if (!bridge_) return;
    if (n.message_id == 0) {
      bridge_->team().resync();
    } else if (!n.members.empty()) {
      bridge_->team().remote_mail(n.message_id, n.conversation_id, n.sender, n.members);
    } else {
      bridge_->team().remote_mail(n.message_id);
    }
  });
  stop_sync_.pg = pg_;
}

// This daemon's live agents, heartbeated for the other daemons of the team: an agent whose
// daemon died shows offline within bridge::Agents::kOfflineAfterMs.
awaitable<void> Daemon::team_loop() {
  while (!stopping_) {
    bridge_->team().heartbeat();
    team_timer_.expires_after(std::chrono::milliseconds(bridge::Agents::kHeartbeatMs));
    std::error_code ec;
    co_await team_timer_.async_wait(asio::redirect_error(use_awaitable, ec));
  }
}

}  // namespace cb
