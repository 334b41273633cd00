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
  if (group_) {
    group_->waiters.clear();
    group_->after_commit.clear();
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
                              "daemons", "team", "schema_version"}) {
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
void PgDatabase::begin_clean(const char* begin) {
  if (conn_->up() && conn_->in_transaction()) {
    try {
      conn_->run("ROLLBACK");
    } catch (const QueryError& e) {
      conn_->drop(e.what());
    }
  }
  conn_->run(begin);
  conn_->pin(true);
}

// A group is one transaction in which a savepoint "call" is always open between calls, ready
// for the next: "BEGIN; SAVEPOINT call" opens the group, a call's writes run in it, its commit
// is "RELEASE call; SAVEPOINT call" and its rollback "ROLLBACK TO call" (one round trip each;
// a call costs no round trip of its own to begin). A statement refused between calls (a read
// outside any call) would otherwise leave the whole transaction failed, and the COMMIT would
// fail every call of the group: the connection rolls back to "call" instead, which holds
// nothing but that statement.
void PgDatabase::open_group_now() {
  // Every write transaction of a team takes the team's write lock (the audit chain's) before
  // anything else, so two daemons' groups never hold rows the other waits for while waiting
  // for this lock: no cycle, which PostgreSQL would break only after deadlock_timeout (1 s) by
  // failing one group. The groups of the team's daemons commit one after the other.
  begin_clean("BEGIN; SELECT pg_advisory_xact_lock(7270271); SAVEPOINT call");
  conn_->set_recovery("ROLLBACK TO call");
  Group g;
  g.generation = next_generation_++;
  g.epoch = conn_->epoch();
  group_ = std::move(g);
  defer_([this, generation = group_->generation] {
    if (group_ && group_->generation == generation) commit_group();
  });
}

void PgDatabase::flush() { commit_group(); }

void PgDatabase::commit_group() {
  if (!group_) return;
  std::string failure;
  if (!conn_->up() || conn_->epoch() != group_->epoch) {
    failure = failure_text(nullptr);
  } else if (conn_->transaction_failed()) {
    failure = "the team store rolled back a failed write";
  } else {
    try {
      conn_->run("COMMIT");
    } catch (const std::exception& e) {
      failure = failure_text(&e);
    }
  }
  if (!failure.empty()) {
    spdlog::error("group commit failed: {}; {} waiting call(s) get an error", failure,
                  group_->waiters.size());
    try {
      if (conn_->up() && conn_->in_transaction()) conn_->run("ROLLBACK");
    } catch (const std::exception&) {
      // begin_clean() deals with what is left.
    }
  }
  conn_->pin(false);
  conn_->set_recovery({});
  end_group(failure);
}

void PgDatabase::end_group(const std::string& failure) {
  Group g = std::move(*group_);
  group_.reset();
  conn_->pin(false);
  conn_->set_recovery({});
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
    begin_clean("BEGIN; SELECT pg_advisory_xact_lock(7270271)");  // see open_group_now()
    return false;
  }
  if (!group_) open_group_now();
  conn_->set_recovery({});  // within a call, its own rollback undoes a failure
  return true;
}

void PgDatabase::write_rollback(bool grouped) {
  if (!grouped) {
    try {
      if (conn_->up() && conn_->in_transaction()) conn_->run("ROLLBACK");
    } catch (const std::exception&) {
      // Down: the server rolled it back with the connection.
    }
    conn_->pin(false);
    rolled_back();
    return;
  }
  // Undo only this call's part of the group; when the group itself is gone (the connection
  // broke), every call in it fails.
  const bool group_alive =
      group_ && conn_->up() && conn_->epoch() == group_->epoch && conn_->in_transaction();
  if (group_alive) {
    try {
      conn_->run("ROLLBACK TO call");
      conn_->set_recovery("ROLLBACK TO call");
      rolled_back();
      return;
    } catch (const std::exception&) {
    }
  }
  if (group_) {
    const std::string why = failure_text(nullptr);
    try {
      if (conn_->up() && conn_->in_transaction()) conn_->run("ROLLBACK");
    } catch (const std::exception&) {
    }
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
    return Ticket{};
  }
  conn_->run("RELEASE call; SAVEPOINT call");
  conn_->set_recovery("ROLLBACK TO call");
  return group_ ? Ticket{group_->generation} : Ticket{};
}

}  // namespace cb::store::pg
