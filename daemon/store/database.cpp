#include "daemon/store/sqlite_database.h"
#include "daemon/store/sqlite_tables.h"

#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <array>

#include "daemon/store/wal_vfs.h"

namespace cb::store {
namespace {

// Each entry moves the schema from version i to i + 1. Never edit a released entry; append.
constexpr std::array<const char*, 2> kMigrations = {
    R"sql(
CREATE TABLE conversations (
  id          TEXT PRIMARY KEY,
  role_a      TEXT NOT NULL,
  role_b      TEXT NOT NULL,
  nonce       BLOB NOT NULL,
  created_ms  INTEGER NOT NULL,
  expires_ms  INTEGER NOT NULL,
  exec_mode   TEXT NOT NULL DEFAULT 'off',
  exec_json   TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX conversations_by_expiry ON conversations(expires_ms);

CREATE TABLE messages (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  sender          TEXT NOT NULL CHECK (sender IN ('a', 'b', 'system')),
  recipient       TEXT NOT NULL CHECK (recipient IN ('a', 'b')),
  body            TEXT NOT NULL,
  action_type     TEXT NOT NULL,
  files_json      TEXT NOT NULL DEFAULT '[]',
  redactions_json TEXT NOT NULL DEFAULT '{}',
  created_ms      INTEGER NOT NULL,
  read_ms         INTEGER
);
CREATE INDEX messages_by_recipient ON messages(conversation_id, recipient, id);
CREATE INDEX messages_unread ON messages(conversation_id, recipient, id) WHERE read_ms IS NULL;
CREATE INDEX messages_by_sender_time ON messages(conversation_id, sender, created_ms);

CREATE TABLE statuses (
  conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  session         TEXT NOT NULL CHECK (session IN ('a', 'b')),
  status          TEXT NOT NULL,
  heartbeat_ms    INTEGER NOT NULL,
  PRIMARY KEY (conversation_id, session)
) WITHOUT ROWID;

CREATE TABLE audit (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  ts_ms           INTEGER NOT NULL,
  conversation_id TEXT,
  session_id      TEXT,
  action          TEXT NOT NULL,
  outcome         TEXT NOT NULL,
  details_json    TEXT NOT NULL,
  prev_hash       TEXT NOT NULL,
  hash            TEXT NOT NULL
);
CREATE INDEX audit_by_conversation ON audit(conversation_id, id);
)sql",
    // 2: agents with names (issue 23), conversations of agents with their members and read
    // positions, replies. messages is rebuilt: its CHECKs allowed only seats as senders and
    // recipients; an agents' conversation stores the sender's name and '*' (every other member).
    R"sql(
CREATE TABLE agents (
  name              TEXT PRIMARY KEY,
  project           TEXT NOT NULL,
  client            TEXT NOT NULL DEFAULT '',
  client_session_id TEXT NOT NULL DEFAULT '',
  status            TEXT NOT NULL DEFAULT '',
  note              TEXT NOT NULL DEFAULT '',
  status_ms         INTEGER NOT NULL DEFAULT 0,
  created_ms        INTEGER NOT NULL,
  last_seen_ms      INTEGER NOT NULL
) WITHOUT ROWID;

ALTER TABLE conversations ADD COLUMN kind TEXT NOT NULL DEFAULT 'token'
  CHECK (kind IN ('token', 'agents'));
ALTER TABLE conversations ADD COLUMN member_key TEXT;
CREATE UNIQUE INDEX conversations_by_members ON conversations(member_key)
  WHERE member_key IS NOT NULL;

CREATE TABLE members (
  agent           TEXT NOT NULL,
  conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  seat            TEXT NOT NULL DEFAULT '' CHECK (seat IN ('', 'a', 'b')),
  read_up_to      INTEGER NOT NULL DEFAULT 0,
  joined_ms       INTEGER NOT NULL,
  PRIMARY KEY (agent, conversation_id)
) WITHOUT ROWID;
CREATE INDEX members_by_conversation ON members(conversation_id, agent);

CREATE TABLE messages_v2 (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  sender          TEXT NOT NULL,
  recipient       TEXT NOT NULL,
  body            TEXT NOT NULL,
  action_type     TEXT NOT NULL,
  files_json      TEXT NOT NULL DEFAULT '[]',
  redactions_json TEXT NOT NULL DEFAULT '{}',
  created_ms      INTEGER NOT NULL,
  read_ms         INTEGER,
  reply_to        INTEGER
);
INSERT INTO messages_v2 (id, conversation_id, sender, recipient, body, action_type, files_json,
                         redactions_json, created_ms, read_ms)
  SELECT id, conversation_id, sender, recipient, body, action_type, files_json, redactions_json,
         created_ms, read_ms FROM messages;
-- Ids are never reused: the new table's counter starts where the old one stood.
DELETE FROM sqlite_sequence WHERE name = 'messages_v2';
INSERT INTO sqlite_sequence (name, seq) SELECT 'messages_v2',
  MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'messages'), 0),
      COALESCE((SELECT MAX(id) FROM messages_v2), 0));
DROP TABLE messages;
ALTER TABLE messages_v2 RENAME TO messages;
CREATE INDEX messages_by_recipient ON messages(conversation_id, recipient, id);
CREATE INDEX messages_unread ON messages(conversation_id, recipient, id) WHERE read_ms IS NULL;
CREATE INDEX messages_by_sender_time ON messages(conversation_id, sender, created_ms);
)sql",
};

// The daemon serves every connection from one thread, so SQLite's own locking is pure cost: its
// allocation statistics take a global mutex per malloc and each connection call takes the
// connection's mutex (~480 lock/unlock pairs per delivered message, 5% of the daemon's
// instructions). Statistics must be switched off before SQLite initialises, so this runs
// before the first open; if something initialised SQLite earlier (a test), the call is refused
// and nothing changes.
void configure_library_once() {
  static const bool once = [] {
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    return true;
  }();
  (void)once;
}

}  // namespace

SqliteDatabase::SqliteDatabase(const std::filesystem::path& path, int flags)
    : path_(path),
      db_(path.string(), flags | SQLITE_OPEN_NOMUTEX, 0, wal_vfs::name()),
      tables_(std::make_unique<SqliteTableSet>(*this)) {}

Conversations& SqliteDatabase::conversations() { return tables_->conversations; }
Messages& SqliteDatabase::messages() { return tables_->messages; }
Inboxes& SqliteDatabase::inboxes() { return tables_->inboxes; }
Agents& SqliteDatabase::agents() { return tables_->agents; }
Members& SqliteDatabase::members() { return tables_->members; }
Statuses& SqliteDatabase::statuses() { return tables_->statuses; }
AuditTable& SqliteDatabase::audit_table() { return tables_->audit; }

Result<std::unique_ptr<SqliteDatabase>> SqliteDatabase::open(const std::filesystem::path& path,
                                                 Synchronous sync) {
  configure_library_once();
  std::unique_ptr<SqliteDatabase> d;
  try {
    d.reset(new SqliteDatabase(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE | SQLITE_OPEN_NOFOLLOW));
    d->configure(sync);
    if (Status migrated = d->migrate(); !migrated.ok()) return migrated;
  } catch (const SQLite::Exception& e) {
    if ((e.getErrorCode() & 0xff) == SQLITE_BUSY || (e.getErrorCode() & 0xff) == SQLITE_LOCKED) {
      // The running daemon holds its database for as long as it runs (locking_mode).
      return Status::error(open_errors::kInUse,
                           "database " + path.string() +
                               " is in use: a claude-bridged is already running with this state "
                               "directory — stop it first, or give this one another --state-dir");
    }
    return Status::error(open_errors::kUnopenable,
                         "cannot open database " + path.string() + ": " + e.getErrorStr() +
                             " — check the file and its directory, or restore a backup");
  }
  return d;
}

std::unique_ptr<SqliteDatabase> SqliteDatabase::open_memory() {
  configure_library_once();
  std::unique_ptr<SqliteDatabase> d(new SqliteDatabase(":memory:", SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE));
  d->configure(Synchronous::kNormal);
  // A new in-memory database has no schema yet, so it is never newer than this daemon's.
  if (Status migrated = d->migrate(); !migrated.ok()) throw std::logic_error(migrated.message());
  return d;
}

void SqliteDatabase::configure(Synchronous sync) {
  sync_ = sync;
  // The daemon is the database's only user: holding the file lock for the connection's life
  // spares SQLite six lock calls per transaction and keeps the WAL index in the heap (no -shm
  // file). It must precede the first access for the latter (sqlite.org/wal.html#noshm).
  db_.exec("PRAGMA locking_mode = EXCLUSIVE");
  // Pages of 1 KiB for a new database (an existing one keeps its own). A delivered message
  // changes a dozen pages — the message, its three index entries, two audit rows and their
  // index, the AUTOINCREMENT counter, the read mark — and each becomes a WAL frame, written,
  // checksummed and later synced by a checkpoint: 29–49 KB per commit of a ~200-byte message
  // with 4 KiB pages, 10–17 KB with 1 KiB (docs/benchmarks.md).
  db_.exec("PRAGMA page_size = 1024");
  db_.exec("PRAGMA journal_mode = WAL");
  sqlite3_wal_hook(db_.getHandle(), &SqliteDatabase::wal_hook, this);
  // A WAL left oversized (by a long burst, or by a daemon that could not checkpoint) is cut
  // back to this size when it next restarts; below it, its pages are reused, not reallocated.
  db_.exec("PRAGMA journal_size_limit = 67108864");
  db_.exec("PRAGMA foreign_keys = ON");
  db_.exec(sync == Synchronous::kFull ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");
  db_.exec("PRAGMA temp_store = MEMORY");
  db_.setBusyTimeout(5000);
}

int SqliteDatabase::latest_schema_version() { return static_cast<int>(kMigrations.size()); }

const char* SqliteDatabase::migration(int from_version) {
  return kMigrations.at(static_cast<std::size_t>(from_version));
}

int SqliteDatabase::schema_version() {
  return db_.execAndGet("PRAGMA user_version").getInt();
}

Status SqliteDatabase::migrate() {
  const int current = schema_version();
  if (current > latest_schema_version()) {
    return Status::error(open_errors::kSchemaTooNew,
                         "database " + path_.string() + " has schema version " +
                             std::to_string(current) + ", newer than this daemon understands (" +
                             std::to_string(latest_schema_version()) + ") — upgrade claude-bridge");
  }
  if (current == latest_schema_version()) return {};
  SQLite::Transaction tx(db_);
  for (int v = current; v < latest_schema_version(); ++v) {
    db_.exec(kMigrations[static_cast<std::size_t>(v)]);
  }
  db_.exec("PRAGMA user_version = " + std::to_string(latest_schema_version()));
  tx.commit();
  spdlog::info("database schema migrated from version {} to {}", current, latest_schema_version());
  return {};
}

SQLite::Statement& SqliteDatabase::stmt(const std::string& sql) {
  auto it = statements_.find(sql);
  if (it == statements_.end()) {
    it = statements_.emplace(sql, std::make_unique<SQLite::Statement>(db_, sql)).first;
  } else {
    // tryReset: reset() would throw the error of the statement's last failed run (a full disk
    // an hour ago) instead of getting it ready for this one.
    it->second->tryReset();
    it->second->clearBindings();
  }
  return *it->second;
}

std::int64_t SqliteDatabase::size_bytes() {
  std::int64_t total = 0;
  for (const char* suffix : {"", "-wal"}) {
    std::error_code ec;
    const auto n = std::filesystem::file_size(path_.string() + suffix, ec);
    if (!ec) total += static_cast<std::int64_t>(n);
  }
  return total;
}

std::string SqliteDatabase::integrity_check() {
  SQLite::Statement q(db_, "PRAGMA integrity_check");
  if (q.executeStep()) return q.getColumn(0).getString();
  return "no answer from integrity_check";
}

}  // namespace cb::store
