#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/status.h"
#include "daemon/store/database.h"
#include "daemon/store/pg/pg_connection.h"
#include "daemon/store/records.h"

// The team's shared store on PostgreSQL (issue 27). Same contract as SqliteDatabase: group
// commit (one transaction per loop turn, a savepoint per call), tickets answered once the
// group's commit is on the server's disk (open_group_now in pg_database.cpp). Messages are
// announced with NOTIFY cb_mail on commit; listen() delivers other daemons' announcements to the
// loop.
namespace cb::store::pg {

// The team's write lock, the audit chain's: taken by every write transaction before its first
// write (PgDatabase::take_write_lock), and by PgAuditTable for a read of the head outside one.
inline constexpr const char* kTeamLockSql = "SELECT pg_advisory_xact_lock(7270271)";

struct PgTableSet;  // pg_tables.h
class Listener;     // pg_listen.cpp
struct ListenerStop {
  void operator()(Listener* l) const;  // stops and joins its thread
};

struct Options {
  std::string conninfo;  // libpq's form; no password
  // The schema to use (created if missing); empty: the connection's default search_path.
  std::string schema;
  DaemonRow self;  // daemon_id (random per start), host, started_ms
};

// A message committed by some daemon of the team, as announced. A notice with message_id 0 and
// no conversation is a resync: the listener was disconnected and may have missed notices, so
// every local waiter should read again.
struct MailNotice {
  std::string daemon_id;  // the sender's daemon
  std::string conversation_id;
  std::int64_t message_id = 0;
  std::string sender;
  std::string recipient;
  // A conversation of agents: its members when the message was stored (sender included);
  // empty for a token conversation's message.
  std::vector<std::string> members;
};

class PgDatabase final : public Database {
 public:
  // Connects, creates the schema if missing and migrates it (under an advisory lock, so two
  // daemons starting together migrate once). Errors under open_errors, one line, no password.
  // Every connection it makes sets search_path to options.schema and, unless the url's
  // options set them, statement_timeout = 10 s (a statement stuck behind another daemon's lock
  // cannot hold the loop longer) and idle_in_transaction_session_timeout = 60 s (the server
  // frees the locks of a daemon frozen inside a group).
  static Result<std::unique_ptr<PgDatabase>> open(const Options& options);
  ~PgDatabase() override;

  const char* backend() const override { return "postgresql"; }
  std::string location() const override;
  Conversations& conversations() override;
  Messages& messages() override;
  Inboxes& inboxes() override;
  Agents& agents() override;
  Members& members() override;
  Statuses& statuses() override;
  AuditTable& audit_table() override;
  Team* team() override;
  int schema_version() override;
  int latest_schema() const override;
  std::int64_t size_bytes() override;
  std::string integrity_check() override;

  void when_durable(const Ticket& ticket, std::function<void(const std::string&)> done) override;
  std::optional<std::string> outcome(const Ticket& ticket) const override;
  Ticket latest() const override;
  void after_commit(std::function<void()> fn) override;
  void at_commit(std::function<void()> fn) override;
  void write_held_now() override;
  void flush() override;

  // Same as SqliteDatabase::enable_group_commit: `defer` runs flush() later in the loop turn.
  using Defer = std::function<void(std::function<void()>)>;
  void enable_group_commit(Defer defer);

  // LISTEN cb_mail on a second connection, on a thread of its own (reconnecting with backoff
  // while the server is away); each notice of another daemon is handed to `post` (thread-safe,
  // runs the function on the loop's thread) for `on_mail`; `post` must stay callable until the
  // listener stops (stop_listening() or the destructor).
  using Post = std::function<void(std::function<void()>)>;
  void listen(Post post, std::function<void(const MailNotice&)> on_mail);
  // Stops and joins the listener's thread (before the loop it posts to goes away).
  void stop_listening() { listener_.reset(); }
  std::optional<std::string> transport() override {
    return conn_->up() ? conn_->tls().value_or("none") : std::optional<std::string>("unreachable");
  }

  Connection& connection() { return *conn_; }
  // Non-zero while a write transaction is open, and the same number as long as nothing of it
  // was rolled back: what the audit chain's head read in it (after take_write_lock()) stays
  // valid for, as no other daemon appends while the lock is held.
  std::uint64_t chain_scope() const { return chain_scope_; }
  // Takes the team's write lock in the open write transaction unless it holds it (queued),
  // with the writes held for the commit (defer_to_commit) behind it.
  void take_write_lock();
  // Whether a group is open (writes can be held for its commit).
  bool in_group() const { return group_.has_value(); }
  // A write whose answer can wait for the commit (a message's insert, a read position). In a
  // group that has not taken the team's lock it is held, and sent at the commit behind the lock
  // (the daemons' groups take turns with the lock only for their commits); otherwise queued on
  // the connection (Connection::defer). `touches` names what it changes for reading().
  void defer_to_commit(const std::string& sql, std::vector<Param> params,
                       std::function<void(const Rows&)> on_rows, std::string touches);
  // Before a read of what `touches` named: a write held for the commit that changes it is sent
  // first (the group takes the team's lock now), so that the group reads its own writes.
  void reading(const std::string& touches);
  // What the connection's queue holds outside a transaction (reads whose answer can wait:
  // Inboxes::agent_unread_soon) goes with the next statement, or on its own in the loop's next
  // turn when none came (at once without group commit).
  void send_queue_soon();
  const Options& options() const { return options_; }
  // The SQL each connection runs first (search_path, timeouts).
  const std::string& session_sql() const { return session_sql_; }

 protected:
  bool write_begin() override;
  Ticket write_commit(bool grouped) override;
  void write_rollback(bool grouped) override;

 private:
  struct Group {
    std::uint64_t generation = 0;
    std::uint64_t epoch = 0;  // the connection's epoch its BEGIN ran in
    std::vector<std::function<void(const std::string&)>> waiters;
    std::vector<std::function<void()>> after_commit;
    bool behind_queued = false;
  };

  explicit PgDatabase(Options options);
  Status migrate();
  void begin_clean(const std::vector<const char*>& begin, bool queued);
  void rollback_all();
  void call_rolled_back();
  void open_group_now();
  void commit_group();
  void end_group(const std::string& failure);
  std::string failure_text(const std::exception* e) const;
  void send_held();
  void run_at_commit();
  void drop_call_work();
  void forget_held();

  Options options_;
  std::string session_sql_;
  std::unique_ptr<Connection> conn_;
  std::unique_ptr<PgTableSet> tables_;
  std::unique_ptr<Team> team_;
  Defer defer_;
  std::optional<Group> group_;
  std::uint64_t next_generation_ = 1;
  std::uint64_t chain_scope_ = 0;
  std::uint64_t scopes_ = 0;
  bool locked_ = false;        // the open transaction holds the team's write lock
  bool lock_in_call_ = false;  // taken since the last "RELEASE call" (a rollback to it frees it)
  bool call_wrote_ = false;    // the open call sent or queued a write
  bool send_posted_ = false;   // send_queue_soon() has a turn of the loop coming
  bool committing_ = false;    // the group's at_commit work runs
  // Work held for the group's commit, each with the number of the call that gave it (a call's
  // rollback drops its own): writes (defer_to_commit) and functions (at_commit).
  struct Held {
    std::uint64_t call = 0;
    std::string sql;
    std::vector<Param> params;
    std::function<void(const Rows&)> on_rows;
    std::string touches;
  };
  std::vector<Held> held_;
  // Those sent by the call that took the lock: a rollback of that call undoes them on the
  // server, so the earlier calls' ones are held again.
  std::vector<Held> sent_in_call_;
  std::vector<std::pair<std::uint64_t, std::function<void()>>> at_commit_;
  std::uint64_t call_ = 0;                                    // the open call's number in the group
  std::deque<std::pair<std::uint64_t, std::string>> failed_;  // recent failed generations
  std::unique_ptr<Listener, ListenerStop> listener_;          // stopped first by ~PgDatabase
};

// pg_team.cpp: the Team of a PgDatabase.
std::unique_ptr<Team> make_team(PgDatabase& db);

}  // namespace cb::store::pg
