// The team's PostgreSQL store (issue 27): opening and migrating under an advisory lock, the
// tables, and group commit with the same contract as SqliteDatabase (group_commit.cpp).
#include "daemon/store/pg/pg_database.h"

#include <spdlog/spdlog.h>

#include "daemon/store/pg/pg_schema.h"
#include "daemon/store/pg/pg_tables.h"
#include "daemon/store/tables.h"

namespace cb::store::pg {
namespace {

constexpr std::size_t kRememberedFailures = 64;
constexpr std::int64_t kMigrationLock = 7270270;

std::string quote_ident(const std::string& name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

// What every connection of the store runs first. statement_timeout bounds how long one
// statement can hold the daemon's loop when the server is alive but stuck (a lock another
// daemon holds while it is frozen); idle_in_transaction_session_timeout lets the server free
// the locks of a daemon frozen inside a group. A url that sets either itself (options=-c …)
// keeps its own.
std::string session_sql_for(const Options& o) {
  std::string sql;
  if (o.conninfo.find("statement_timeout") == std::string::npos) {
    sql += "SET statement_timeout = '10s'; ";
  }
  if (o.conninfo.find("idle_in_transaction_session_timeout") == std::string::npos) {
    sql += "SET idle_in_transaction_session_timeout = '60s'; ";
  }
  if (!o.schema.empty()) sql += "SET search_path TO " + quote_ident(o.schema) + "; ";
  return sql;
}

}  // namespace

PgDatabase::PgDatabase(Options options)
    : options_(std::move(options)),
      session_sql_(session_sql_for(options_)),
      conn_(std::make_unique<Connection>(options_.conninfo, session_sql_)) {}

PgDatabase::~PgDatabase() {
  listener_.reset();
  // Whatever is pending is committed; its callers are gone, so nobody is told.
  conn_->forget_answers();
  if (group_) {
    group_->waiters.clear();
    group_->after_commit.clear();
    // So is whoever gave work for the commit (the daemon and the bridge flush before they go).
    at_commit_.clear();
    forget_rollback_listeners();
  }
  flush();
}

Result<std::unique_ptr<PgDatabase>> PgDatabase::open(const Options& options) {
  if (auto problem = conninfo_problem(options.conninfo)) {
    return Status::error(open_errors::kUnopenable, *problem);
  }
  std::unique_ptr<PgDatabase> d(new PgDatabase(options));
  try {
    d->conn_->connect();
    if (Status migrated = d->migrate(); !migrated.ok()) return migrated;
  } catch (const StoreUnavailable& e) {
    return Status::error(open_errors::kUnopenable,
                         "cannot open the team store at " + d->conn_->describe() + ": " + e.what() +
                             " — check that PostgreSQL runs there and the [store] url, then "
                             "start the daemon again");
  } catch (const QueryError& e) {
    return Status::error(open_errors::kUnopenable,
                         "cannot open the team store at " + d->conn_->describe() + ": " + e.what() +
                             " — check the role's rights on the database and schema");
  }
  d->tables_ = std::make_unique<PgTableSet>(*d);
  d->team_ = make_team(*d);
  return d;
}

int PgDatabase::schema_version() {
  Rows t = conn_->query("SELECT to_regclass('schema_version') IS NOT NULL");
  if (!t.boolean(0, 0)) return 0;
  Rows v = conn_->query("SELECT max(version) FROM schema_version");
  return v.empty() ? 0 : static_cast<int>(v.int64(0, 0));
}

int PgDatabase::latest_schema() const { return schema::latest(); }

Status PgDatabase::migrate() {
  // Two daemons starting together: the second waits here and then finds the schema current.
  // The lock is the session's; a connection lost meanwhile releases it on the server.
  conn_->query("SELECT pg_advisory_lock($1)", {Param(kMigrationLock)});
  struct Unlock {
    Connection& c;
    ~Unlock() {
      try {
        c.query("SELECT pg_advisory_unlock($1)", {Param(kMigrationLock)});
      } catch (const std::exception&) {
        // Lost with the connection: the server released it.
      }
    }
  } unlock{*conn_};
  // Under the lock: CREATE SCHEMA IF NOT EXISTS run by two sessions at once can still fail
  // with a unique violation.
  if (!options_.schema.empty()) {
    conn_->run("CREATE SCHEMA IF NOT EXISTS " + quote_ident(options_.schema));
  }
  const int current = schema_version();
  const int latest = schema::latest();
  if (current > latest) {
    return Status::error(open_errors::kSchemaTooNew,
                         "the team store at " + conn_->describe() + " has schema version " +
                             std::to_string(current) + ", newer than this daemon understands (" +
                             std::to_string(latest) + ") — upgrade claude-bridge on this machine");
  }
  if (current == latest) return {};
  conn_->run("BEGIN");
  try {
    for (int v = current; v < latest; ++v) conn_->run(schema::migration(v));
    conn_->query(current == 0 ? "INSERT INTO schema_version (version) VALUES ($1)"
                              : "UPDATE schema_version SET version = $1",
                 {Param(latest)});
    conn_->run("COMMIT");
  } catch (...) {
    try {
      if (conn_->in_transaction()) conn_->run("ROLLBACK");
    } catch (const std::exception&) {
    }
    throw;
  }
  spdlog::info("team store schema migrated from version {} to {}", current, latest);
  return {};
}

std::string PgDatabase::location() const { return conn_->describe(); }

Conversations& PgDatabase::conversations() { return tables_->conversations; }
Messages& PgDatabase::messages() { return tables_->messages; }
Inboxes& PgDatabase::inboxes() { return tables_->inboxes; }
Agents& PgDatabase::agents() { return tables_->agents; }
Members& PgDatabase::members() { return tables_->members; }
Statuses& PgDatabase::statuses() { return tables_->statuses; }
AuditTable& PgDatabase::audit_table() { return tables_->audit; }
Team* PgDatabase::team() { return team_.get(); }

std::int64_t PgDatabase::size_bytes() {
  return conn_->query("SELECT pg_database_size(current_database())").int64(0, 0);
}

// Checks what this daemon relies on, not PostgreSQL's own storage (the server checksums its
// pages; pg_amcheck is the operator's tool for that): the schema version is this daemon's,
// every table exists in the search_path, and the audit table can be read.
std::string PgDatabase::integrity_check() {
  try {
    const int v = schema_version();
    if (v != schema::latest()) {
      return "schema version " + std::to_string(v) + ", expected " +
             std::to_string(schema::latest());
    }
    for (const char* table : {"conversations", "messages", "statuses", "audit", "agents", "members",
                              "daemons", "team", "flushes", "schema_version"}) {
      Rows r = conn_->query("SELECT to_regclass($1) IS NOT NULL", {Param(table)});
      if (!r.boolean(0, 0)) return std::string("table ") + table + " is missing";
    }
    conn_->query("SELECT id FROM audit ORDER BY id DESC LIMIT 1");
    return "ok";
  } catch (const StoreUnavailable& e) {
    return e.what();
  } catch (const QueryError& e) {
    return e.what();
  }
}

// ---- Group commit ----

void PgDatabase::enable_group_commit(Defer defer) { defer_ = std::move(defer); }

std::string PgDatabase::failure_text(const std::exception* e) const {
  if (e) {
    if (const auto* u = dynamic_cast<const StoreUnavailable*>(e)) return u->what();
    if (const auto* q = dynamic_cast<const QueryError*>(e)) {
      return std::string("the team store refused the write (") + q->what() + ")";
    }
  }
  if (!conn_->up()) return conn_->unavailable_message();
  return "the team store rolled back a failed write";
}

// A transaction starts on a connection with none open: one left by a failure that could not
// even roll back is rolled back first (or, if that fails, the connection is dropped and the
// next one starts clean).
// With `queued` the statements wait in the connection's queue for the call's first statement
// (one round trip for both); the connection must be up.
void PgDatabase::begin_clean(const std::vector<const char*>& begin, bool queued) {
  // A transaction's queue never outlives it (end_group, rollback_all), so what waits now was
  // queued outside one (send_queue_soon) and goes ahead of the opening, unless a transaction
  // left open by a failure must be rolled back first.
  const bool left_open = conn_->up() && conn_->server_in_transaction();
  if (conn_->deferred_failed() || left_open) conn_->discard_deferred();
  conn_->clear_deferred_failure();
  locked_ = lock_in_call_ = false;
  if (left_open) {
    try {
      conn_->run("ROLLBACK");
    } catch (const QueryError& e) {
      conn_->drop(e.what());
    }
  }
  conn_->connect();
  std::string now;
  for (const char* sql : begin) {
    if (queued) {
      conn_->defer(sql);
    } else {
      now += std::string(now.empty() ? "" : "; ") + sql;
    }
  }
  if (!now.empty()) conn_->run(now);
  conn_->pin(true);
  chain_scope_ = ++scopes_;
}

// Every write transaction of a team takes the team's write lock (the audit chain's) before its
// first write (Connection::set_before_write) or its first read of the audit chain's head,
// queued with the head's read so that both travel with that statement. A transaction holds no
// row lock before it (plain reads take none), so two daemons' transactions never hold rows the
// other waits for while waiting for this lock: no cycle, which PostgreSQL would break only after
// deadlock_timeout (1 s) by failing one. The writing transactions of the team's daemons commit
// one after the other, which also makes messages visible in the order of their ids (a reader's
// position never passes a message committed later): every message is inserted behind the lock.
//
// In a group, what the common calls write waits for the commit instead: a send's message
// (PgMessages::insert_at_commit), a read's position (PgMembers::move_past) and every audit entry
// (at_commit). So a group of sends and reads takes the lock only as it commits, and holds it for
// the commit's two round trips — the lock, the chain's head and the held writes (the messages'
// ids come back), then the audit entries hashed from them with the COMMIT — where it used to
// hold it from its first write, across every later call's round trips, while the other daemons
// waited. Any other write (a new conversation, a token seat's message) takes the lock at once
// and sends what is held ahead of itself.
void PgDatabase::take_write_lock() {
  if (locked_ || chain_scope_ == 0) return;
  locked_ = true;
  lock_in_call_ = true;
  conn_->defer(kTeamLockSql);
  tables_->audit.prefetch_head();
  send_held();
}

void PgDatabase::send_held() {
  std::vector<Held> held = std::move(held_);
  held_.clear();
  for (auto& h : held) {
    conn_->defer(h.sql, h.params, h.on_rows);
    if (h.call != call_) sent_in_call_.push_back(std::move(h));
  }
}

void PgDatabase::defer_to_commit(const std::string& sql, std::vector<Param> params,
                                 std::function<void(const Rows&)> on_rows, std::string touches) {
  if (group_ && !locked_ && !committing_) {
    call_wrote_ = true;  // its rollback drops it
    held_.push_back(Held{call_, sql, std::move(params), std::move(on_rows), std::move(touches)});
    return;
  }
  conn_->defer(sql, std::move(params), std::move(on_rows));
}

void PgDatabase::write_held_now() {
  if (!held_.empty()) take_write_lock();
}

void PgDatabase::reading(const std::string& touches) {
  if (locked_) return;
  for (const auto& h : held_) {
    if (h.touches == touches) {
      take_write_lock();
      return;
    }
  }
}

void PgDatabase::at_commit(std::function<void()> fn) {
  if (!group_ || committing_) {
    fn();
    return;
  }
  call_wrote_ = true;
  at_commit_.emplace_back(call_, std::move(fn));
}

void PgDatabase::run_at_commit() {
  auto work = std::move(at_commit_);
  at_commit_.clear();
  committing_ = true;
  struct Done {
    bool& committing;
    ~Done() { committing = false; }
  } done{committing_};
  for (auto& w : work) w.second();
}

void PgDatabase::drop_call_work() {
  std::erase_if(held_, [this](const Held& h) { return h.call == call_; });
  std::erase_if(at_commit_, [this](const auto& w) { return w.first == call_; });
}

void PgDatabase::forget_held() {
  held_.clear();
  sent_in_call_.clear();
  at_commit_.clear();
  call_ = 0;
}

// "ROLLBACK TO call" ran: the call's work for the commit is dropped, and so is the lock when
// that call took it (PostgreSQL releases what a rolled-back savepoint took), together with the
// earlier calls' held writes sent behind it, which are held again.
void PgDatabase::call_rolled_back() {
  chain_scope_ = ++scopes_;
  drop_call_work();
  if (lock_in_call_) {
    locked_ = false;
    held_.insert(held_.begin(), std::make_move_iterator(sent_in_call_.begin()),
                 std::make_move_iterator(sent_in_call_.end()));
  }
  sent_in_call_.clear();
  lock_in_call_ = false;
}

// Ends the transaction as rolled back (best effort: a connection that fails here is dropped by
// the next begin_clean()).
void PgDatabase::rollback_all() {
  conn_->discard_deferred();
  conn_->clear_deferred_failure();
  try {
    if (conn_->up() && conn_->in_transaction()) conn_->run("ROLLBACK");
  } catch (const std::exception&) {
  }
  chain_scope_ = 0;
  locked_ = lock_in_call_ = false;
  forget_held();
  conn_->set_before_write({});
}

// A group is one transaction in which a savepoint "call" is always open between calls, ready
// for the next: "BEGIN" and "SAVEPOINT call" open the group (the team's lock comes before its
// first write: take_write_lock), a call's writes run in it, its commit is "RELEASE call;
// SAVEPOINT call" and its rollback "ROLLBACK TO call" (nothing when the call wrote nothing).
// The opening, a call's commit and its writes whose results nobody reads (the audit entry, an
// expiry) are queued on the connection and travel with the next statement that needs an answer
// (libpq's pipeline mode), so a call costs the round trips of its reads and nothing more, and
// the group one more for its COMMIT. A queued statement that fails fails the whole group (see
// Connection::defer). A statement refused between calls (a read outside any call) would
// otherwise leave the whole transaction failed, and the COMMIT would fail every call of the
// group: the connection rolls back to "call" instead, which holds nothing but that statement.
//
// The group's COMMIT does not wait for the disk (synchronous_commit = off for it), so the
// team's lock is free as soon as it is in the log; a second transaction in the same round trip
// writes this daemon's row of `flushes` and commits with the session's own synchronous_commit,
// so it waits until the log is flushed past it — the group's commit record included — and only
// then are the group's calls answered (a transaction that wrote nothing would not wait). The
// daemons' flushes overlap instead of queueing behind the lock. What this trades: another daemon
// can read the group's rows for the length of that flush before they are on disk, so a crash of
// the server in that window loses rows that were seen but never acknowledged (anything that
// daemon wrote because of them commits later in the log, so it is lost with them).
void PgDatabase::open_group_now() {
  forget_held();
  begin_clean({"BEGIN", "SET LOCAL synchronous_commit = off", "SAVEPOINT call"}, true);
  conn_->set_before_write([this] {
    call_wrote_ = true;
    take_write_lock();
  });
  conn_->set_recovery("ROLLBACK TO call", [this] { call_rolled_back(); });
  Group g;
  g.generation = next_generation_++;
  g.epoch = conn_->epoch();
  group_ = std::move(g);
  defer_([this, generation = group_->generation] {
    if (group_ && group_->generation == generation) commit_group();
  });
}

void PgDatabase::flush() { commit_group(); }

void PgDatabase::send_queue_soon() {
  auto send = [this] {
    if (group_ || !conn_->has_deferred()) return;  // a group's statements will carry it
    try {
      conn_->send_deferred();
    } catch (const std::exception& e) {
      spdlog::debug("team store: reads queued for later were not answered: {}",
                    store::storage_failure(e).value_or(e.what()));
    }
  };
  if (!defer_) {
    send();
    return;
  }
  if (send_posted_) return;
  send_posted_ = true;
  defer_([this, send] {
    send_posted_ = false;
    send();
  });
}

void PgDatabase::commit_group() {
  if (!group_) return;
  std::string failure;
  if (!conn_->up() || conn_->epoch() != group_->epoch) {
    failure = failure_text(nullptr);
  } else if (conn_->transaction_failed() || conn_->deferred_failed()) {
    failure = "the team store rolled back a failed write";
  } else {
    try {
      if (!held_.empty() || !at_commit_.empty()) {
        // The lock, the chain's head and the held writes (one round trip when work at the
        // commit awaits an answer: the head, the messages' ids), then that work, whose writes
        // are sent with the COMMIT.
        take_write_lock();
        if (!at_commit_.empty() && conn_->awaits_answers()) conn_->send_deferred();
        run_at_commit();
      }
      if (locked_) {
        // One round trip: the group's COMMIT (not waiting for the disk), then the flush.
        static const std::string kFlush =
            "INSERT INTO flushes (daemon_id, n) VALUES ($1, 1)"
            " ON CONFLICT (daemon_id) DO UPDATE SET n = flushes.n + 1";
        conn_->set_before_write({});  // the flush takes no team lock
        conn_->defer("COMMIT");
        conn_->defer("BEGIN");
        conn_->defer(kFlush, {Param(options_.self.daemon_id)});
      }
      // Without the lock the group wrote nothing: there is nothing to flush.
      conn_->run("COMMIT");
    } catch (const std::exception& e) {
      failure = failure_text(&e);
    }
  }
  if (!failure.empty()) {
    spdlog::error("group commit failed: {}; {} waiting call(s) get an error", failure,
                  group_->waiters.size());
    rollback_all();  // begin_clean() deals with what is left
  }
  end_group(failure);
}

void PgDatabase::end_group(const std::string& failure) {
  Group g = std::move(*group_);
  group_.reset();
  conn_->discard_deferred();
  conn_->clear_deferred_failure();
  conn_->pin(false);
  conn_->set_recovery({});
  conn_->set_before_write({});
  chain_scope_ = 0;
  locked_ = lock_in_call_ = false;
  forget_held();
  if (!failure.empty()) {
    failed_.emplace_back(g.generation, failure);
    if (failed_.size() > kRememberedFailures) failed_.pop_front();
    rolled_back();
    for (auto& w : g.waiters) w(failure);
    return;
  }
  for (auto& fn : g.after_commit) fn();
  if (g.behind_queued && defer_) {
    defer_([waiters = std::move(g.waiters)] {
      for (auto& w : waiters) w("");
    });
    return;
  }
  for (auto& w : g.waiters) w("");
}

Ticket PgDatabase::latest() const { return group_ ? Ticket{group_->generation} : Ticket{}; }

std::optional<std::string> PgDatabase::outcome(const Ticket& ticket) const {
  if (ticket.empty()) return std::string();
  if (group_ && group_->generation == ticket.generation) return std::nullopt;
  for (const auto& [g, why] : failed_) {
    if (g == ticket.generation) return why;
  }
  return std::string();
}

void PgDatabase::when_durable(const Ticket& ticket, std::function<void(const std::string&)> done) {
  if (ticket.empty() || !group_ || group_->generation != ticket.generation) {
    done(outcome(ticket).value_or(std::string()));
    return;
  }
  group_->behind_queued = group_->behind_queued || ticket.behind_queued;
  group_->waiters.push_back(std::move(done));
}

void PgDatabase::after_commit(std::function<void()> fn) {
  if (group_) {
    group_->after_commit.push_back(std::move(fn));
  } else {
    fn();
  }
}

bool PgDatabase::write_begin() {
  if (!defer_) {
    begin_clean({"BEGIN", kTeamLockSql}, false);
    locked_ = true;
    return false;
  }
  if (!group_) open_group_now();
  conn_->set_recovery({});  // within a call, its own rollback undoes a failure
  call_wrote_ = false;
  return true;
}

void PgDatabase::write_rollback(bool grouped) {
  if (!grouped) {
    rollback_all();  // down: the server rolled it back with the connection
    conn_->pin(false);
    rolled_back();
    return;
  }
  // Undo only this call's part of the group; when the group itself is gone (the connection
  // broke, or a queued statement of an earlier call failed), every call in it fails.
  const bool group_alive = group_ && conn_->up() && conn_->epoch() == group_->epoch &&
                           conn_->in_transaction() && !conn_->deferred_failed();
  if (group_alive && !call_wrote_ && !conn_->transaction_failed()) {
    // The call only read (a wait that found nothing): there is nothing to undo, and the
    // savepoint stays ready for the next call.
    conn_->set_recovery("ROLLBACK TO call", [this] { call_rolled_back(); });
    rolled_back();
    return;
  }
  if (group_alive) {
    try {
      conn_->run("ROLLBACK TO call");
      call_rolled_back();
      conn_->set_recovery("ROLLBACK TO call", [this] { call_rolled_back(); });
      rolled_back();
      return;
    } catch (const std::exception&) {
    }
  }
  if (group_) {
    const std::string why = conn_->deferred_failed() && conn_->up()
                                ? std::string("the team store refused a write of this group")
                                : failure_text(nullptr);
    rollback_all();
    end_group(why);
  } else {
    conn_->pin(false);
    rolled_back();
  }
}

Ticket PgDatabase::write_commit(bool grouped) {
  if (!grouped) {
    // PostgreSQL turns the COMMIT of a failed transaction into a ROLLBACK without an error.
    if (conn_->transaction_failed()) {
      throw QueryError("a statement of this write failed earlier; nothing was committed", "25P02");
    }
    conn_->run("COMMIT");
    conn_->pin(false);
    chain_scope_ = 0;
    locked_ = false;
    return Ticket{};
  }
  conn_->defer("RELEASE call");
  conn_->defer("SAVEPOINT call");
  lock_in_call_ = false;  // the transaction holds what the call took
  sent_in_call_.clear();
  ++call_;
  conn_->set_recovery("ROLLBACK TO call", [this] { call_rolled_back(); });
  return group_ ? Ticket{group_->generation} : Ticket{};
}

}  // namespace cb::store::pg
