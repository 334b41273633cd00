#include "daemon/store/pg/pg_schema.h"

#include <array>
#include <cstddef>
#include <stdexcept>
#include <string>

namespace cb::store::pg::schema {
namespace {

// Identifier-like text columns (ids, names, seats) sort and compare byte-wise (COLLATE "C"),
// as SQLite's BINARY collation does: the order of list(), all() and of_conversation() is then
// the same on both backends whatever the database's locale, and their indexes serve equality
// and ORDER BY alike.
constexpr std::array<const char*, 2> kMigrations = {
    // 1: the whole schema of SQLite's version 2, and the team's tables. Only in a UTF8
    // database: in SQL_ASCII (initdb's choice under a C locale) left() would count bytes and
    // cut characters apart, and in a single-byte encoding most text would not fit at all.
    R"sql(
DO $$
BEGIN
  IF current_setting('server_encoding') <> 'UTF8' THEN
    RAISE EXCEPTION 'the database''s encoding is %, not UTF8: create the team''s database with ENCODING ''UTF8'' (createdb -E UTF8 -T template0)',
      current_setting('server_encoding');
  END IF;
END
$$;

CREATE TABLE conversations (
  id          TEXT COLLATE "C" PRIMARY KEY,
  role_a      TEXT NOT NULL,
  role_b      TEXT NOT NULL,
  nonce       BYTEA NOT NULL,
  created_ms  BIGINT NOT NULL,
  expires_ms  BIGINT NOT NULL,
  exec_mode   TEXT NOT NULL DEFAULT 'off',
  exec_json   TEXT NOT NULL DEFAULT '{}',
  kind        TEXT NOT NULL DEFAULT 'token' CHECK (kind IN ('token', 'agents')),
  member_key  TEXT COLLATE "C"
);
CREATE INDEX conversations_by_expiry ON conversations(expires_ms);
CREATE UNIQUE INDEX conversations_by_members ON conversations(member_key)
  WHERE member_key IS NOT NULL;

CREATE TABLE messages (
  id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  conversation_id TEXT COLLATE "C" NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  sender          TEXT COLLATE "C" NOT NULL,
  recipient       TEXT COLLATE "C" NOT NULL,
  body            TEXT NOT NULL,
  action_type     TEXT NOT NULL,
  files_json      TEXT NOT NULL DEFAULT '[]',
  redactions_json TEXT NOT NULL DEFAULT '{}',
  created_ms      BIGINT NOT NULL,
  read_ms         BIGINT,
  reply_to        BIGINT
);
CREATE INDEX messages_by_recipient ON messages(conversation_id, recipient, id);
CREATE INDEX messages_unread ON messages(conversation_id, recipient, id) WHERE read_ms IS NULL;
CREATE INDEX messages_by_sender_time ON messages(conversation_id, sender, created_ms);

CREATE TABLE statuses (
  conversation_id TEXT COLLATE "C" NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  session         TEXT COLLATE "C" NOT NULL CHECK (session IN ('a', 'b')),
  status          TEXT NOT NULL,
  heartbeat_ms    BIGINT NOT NULL,
  PRIMARY KEY (conversation_id, session)
);

CREATE TABLE audit (
  id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  ts_ms           BIGINT NOT NULL,
  conversation_id TEXT COLLATE "C",
  session_id      TEXT,
  action          TEXT NOT NULL,
  outcome         TEXT NOT NULL,
  details_json    TEXT NOT NULL,
  prev_hash       TEXT NOT NULL,
  hash            TEXT NOT NULL
);
CREATE INDEX audit_by_conversation ON audit(conversation_id, id);

-- host, daemon_id, heartbeat_ms: the daemon that last bound the agent and its latest heartbeat
-- naming the agent live (issue 27).
CREATE TABLE agents (
  name              TEXT COLLATE "C" PRIMARY KEY,
  project           TEXT NOT NULL,
  client            TEXT NOT NULL DEFAULT '',
  client_session_id TEXT NOT NULL DEFAULT '',
  status            TEXT NOT NULL DEFAULT '',
  note              TEXT NOT NULL DEFAULT '',
  status_ms         BIGINT NOT NULL DEFAULT 0,
  created_ms        BIGINT NOT NULL,
  last_seen_ms      BIGINT NOT NULL,
  host              TEXT NOT NULL DEFAULT '',
  daemon_id         TEXT COLLATE "C" NOT NULL DEFAULT '',
  heartbeat_ms      BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE members (
  agent           TEXT COLLATE "C" NOT NULL,
  conversation_id TEXT COLLATE "C" NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  seat            TEXT COLLATE "C" NOT NULL DEFAULT '' CHECK (seat IN ('', 'a', 'b')),
  read_up_to      BIGINT NOT NULL DEFAULT 0,
  joined_ms       BIGINT NOT NULL,
  PRIMARY KEY (agent, conversation_id)
);
CREATE INDEX members_by_conversation ON members(conversation_id, agent);

CREATE TABLE daemons (
  daemon_id    TEXT COLLATE "C" PRIMARY KEY,
  host         TEXT NOT NULL,
  started_ms   BIGINT NOT NULL,
  heartbeat_ms BIGINT NOT NULL
);

CREATE TABLE team (
  id              INT PRIMARY KEY CHECK (id = 1),
  key_fingerprint TEXT NOT NULL,
  created_ms      BIGINT NOT NULL
);

CREATE TABLE schema_version (version INT NOT NULL);
)sql",
    // 2: messages_unread holds the unread messages of token seats only. A message to a
    // conversation of agents ('*') keeps read_ms NULL for ever (its members' read positions say
    // what was read), so with them the index grew with every message, and a count of one
    // agent's unread seat messages that the planner drove from it scanned all of them. The
    // queries of seats say recipient <> '*' so that the index serves them.
    // And `flushes`: a group's COMMIT does not wait for the disk; the one-row write a daemon
    // makes here after it, in a transaction that does wait, is what flushes the log past the
    // group's commit before its calls are answered (PgDatabase::commit_group). A transaction
    // that writes nothing would not wait: PostgreSQL flushes only for one that wrote to the log.
    R"sql(
DROP INDEX messages_unread;
CREATE INDEX messages_unread ON messages(conversation_id, recipient, id)
  WHERE read_ms IS NULL AND recipient <> '*';
CREATE TABLE flushes (
  daemon_id TEXT COLLATE "C" PRIMARY KEY,
  n         BIGINT NOT NULL
);
)sql",
};

}  // namespace

int latest() { return static_cast<int>(kMigrations.size()); }

const char* migration(int from_version) {
  if (from_version < 0 || from_version >= latest()) {
    throw std::out_of_range("no PostgreSQL schema migration from version " +
                            std::to_string(from_version));
  }
  return kMigrations[static_cast<std::size_t>(from_version)];
}

}  // namespace cb::store::pg::schema
