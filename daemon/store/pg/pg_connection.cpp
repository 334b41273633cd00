// The PostgreSQL connection (issue 27): libpq, cached prepared statements, and the line between
// "the store is unreachable" (StoreUnavailable, retried with backoff) and "the server refused
// this" (QueryError).
#include "daemon/store/pg/pg_connection.h"

#include <libpq-fe.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "daemon/store/database.h"

namespace cb::store::pg {
namespace {

constexpr std::chrono::seconds kMaxBackoff{30};

std::string first_line(const char* s) {
  if (!s) return {};
  std::string out(s);
  if (auto nl = out.find('\n'); nl != std::string::npos) out.resize(nl);
  while (!out.empty() && (out.back() == ' ' || out.back() == '\r')) out.pop_back();
  return out;
}

// SQLSTATEs that mean the connection itself is gone, not that the statement was refused:
// class 08 (connection exception), and the server shutting down or starting (57P01 admin
// shutdown, 57P02 crash shutdown, 57P03 cannot connect now).
bool connection_state(const std::string& sqlstate) {
  return sqlstate.rfind("08", 0) == 0 || sqlstate == "57P01" || sqlstate == "57P02" ||
         sqlstate == "57P03";
}

void quiet_notice(void*, const char* message) {
  spdlog::debug("postgresql: {}", first_line(message));
}

// Whether the raw text visibly carries a password: checked before parsing, so that a conninfo
// that does not parse is never echoed in an error with its password.
bool looks_like_password(const std::string& ci) {
  if (ci.find("password") != std::string::npos) return true;
  const bool uri = ci.rfind("postgresql://", 0) == 0 || ci.rfind("postgres://", 0) == 0;
  if (!uri) return false;
  const auto start = ci.find("://") + 3;
  const auto at = ci.find('@', start);
  const auto slash = ci.find('/', start);
  if (at == std::string::npos || (slash != std::string::npos && slash < at)) return false;
  return ci.find(':', start) < at;
}

}  // namespace

pg_conn* connect_conn(const std::string& conninfo, bool start_only) {
  // Our defaults first: the conninfo (expanded from dbname) comes later and wins where it says
  // something else.
  const char* keys[] = {"connect_timeout",     "keepalives",       "keepalives_idle",
                        "keepalives_interval", "keepalives_count", "tcp_user_timeout",
                        "application_name",    "dbname",           nullptr};
  const char* values[] = {"5",    "1", "10", "5", "3", "15000", "claude-bridged", conninfo.c_str(),
                          nullptr};
  pg_conn* c = start_only ? PQconnectStartParams(keys, values, /*expand_dbname=*/1)
                          : PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  if (c) PQsetNoticeProcessor(c, quiet_notice, nullptr);
  return c;
}

std::string conn_error(pg_conn* conn, const char* fallback) {
  std::string why = conn ? first_line(PQerrorMessage(conn)) : std::string();
  // libpq prefixes server messages with their severity.
  for (const char* p : {"FATAL:  ", "ERROR:  "}) {
    for (auto at = why.find(p); at != std::string::npos; at = why.find(p)) {
      why.erase(at, std::strlen(p));
    }
  }
  return why.empty() ? std::string(fallback) : why;
}

std::string describe_conninfo(const std::string& conninfo) {
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(conninfo.c_str(), &err);
  if (err) PQfreemem(err);
  if (!opts) return "(an unparsable store url)";
  std::string out;
  for (const char* key : {"host", "hostaddr", "port", "dbname", "user"}) {
    for (PQconninfoOption* o = opts; o->keyword; ++o) {
      if (std::strcmp(o->keyword, key) == 0 && o->val && *o->val) {
        if (!out.empty()) out += ' ';
        out += std::string(key) + "=" + o->val;
      }
    }
  }
  PQconninfoFree(opts);
  return out.empty() ? "(libpq's defaults)" : out;
}

std::optional<std::string> conninfo_problem(const std::string& conninfo) {
  constexpr const char* kPassword =
      "the store url holds a password; remove it and put the password in the password file "
      "(PGPASSFILE or ~/.pgpass) instead";
  if (looks_like_password(conninfo)) {
    // `password=` may also be a substring of another value; parse to be sure when it parses.
    char* err = nullptr;
    PQconninfoOption* opts = PQconninfoParse(conninfo.c_str(), &err);
    if (err) PQfreemem(err);
    if (!opts) return std::string(kPassword);
    bool has = false;
    for (PQconninfoOption* o = opts; o->keyword; ++o) {
      if (std::strcmp(o->keyword, "password") == 0 && o->val && *o->val) has = true;
    }
    PQconninfoFree(opts);
    if (has) return std::string(kPassword);
    return std::nullopt;
  }
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(conninfo.c_str(), &err);
  if (!opts) {
    std::string why = first_line(err);
    if (err) PQfreemem(err);
    return "the store url does not parse (" + (why.empty() ? std::string("out of memory") : why) +
           "); write it in libpq's form, e.g. \"host=db.example port=5432 dbname=bridge "
           "user=team_a sslmode=verify-full\"";
  }
  PQconninfoFree(opts);
  return std::nullopt;
}

Param Param::bytes(const std::string& raw) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\\x";
  out.reserve(2 + raw.size() * 2);
  for (unsigned char c : raw) {
    out += kHex[c >> 4];
    out += kHex[c & 0xf];
  }
  return Param(out);
}

// ---- Rows ----

Rows::Rows(pg_result* r) : r_(r) {}
Rows::Rows(Rows&& o) noexcept : r_(o.r_) { o.r_ = nullptr; }
Rows& Rows::operator=(Rows&& o) noexcept {
  if (this != &o) {
    if (r_) PQclear(r_);
    r_ = o.r_;
    o.r_ = nullptr;
  }
  return *this;
}
Rows::~Rows() {
  if (r_) PQclear(r_);
}
int Rows::size() const { return r_ ? PQntuples(r_) : 0; }
bool Rows::is_null(int row, int col) const { return PQgetisnull(r_, row, col) != 0; }
std::string Rows::text(int row, int col) const {
  return std::string(PQgetvalue(r_, row, col), static_cast<std::size_t>(PQgetlength(r_, row, col)));
}
std::int64_t Rows::int64(int row, int col) const {
  if (is_null(row, col)) return 0;
  return std::strtoll(PQgetvalue(r_, row, col), nullptr, 10);
}
std::optional<std::int64_t> Rows::opt_int64(int row, int col) const {
  if (is_null(row, col)) return std::nullopt;
  return int64(row, col);
}
bool Rows::boolean(int row, int col) const {
  const char* v = PQgetvalue(r_, row, col);
  return v && v[0] == 't';
}
std::string Rows::bytea(int row, int col) const {
  if (is_null(row, col)) return {};
  std::size_t n = 0;
  unsigned char* raw =
      PQunescapeBytea(reinterpret_cast<const unsigned char*>(PQgetvalue(r_, row, col)), &n);
  if (!raw) throw std::bad_alloc();
  std::string out(reinterpret_cast<const char*>(raw), n);
  PQfreemem(raw);
  return out;
}
std::int64_t Rows::affected() const {
  const char* n = r_ ? PQcmdTuples(r_) : nullptr;
  return n && *n ? std::strtoll(n, nullptr, 10) : 0;
}

// ---- Connection ----

Connection::Connection(std::string conninfo, std::string session_sql)
    : conninfo_(std::move(conninfo)), session_sql_(std::move(session_sql)) {}

Connection::~Connection() {
  if (conn_) PQfinish(conn_);
}

bool Connection::up() const { return conn_ && PQstatus(conn_) == CONNECTION_OK; }

bool Connection::in_transaction() const {
  if (!conn_) return false;
  return !deferred_.empty() || server_in_transaction();
}

bool Connection::server_in_transaction() const {
  if (!conn_) return false;
  const auto s = PQtransactionStatus(conn_);
  return s == PQTRANS_INTRANS || s == PQTRANS_INERROR || s == PQTRANS_ACTIVE;
}

bool Connection::transaction_failed() const {
  return conn_ && PQtransactionStatus(conn_) == PQTRANS_INERROR;
}

std::string Connection::unavailable_message() const {
  return "the team store is unreachable (" +
         (last_reason_.empty() ? std::string("the connection was lost") : last_reason_) +
         "); retry in " + std::to_string(retry_in_seconds()) + " s";
}

int Connection::retry_in_seconds() const {
  if (up()) return 0;
  const auto left = retry_at_ - std::chrono::steady_clock::now();
  const auto secs = std::chrono::ceil<std::chrono::seconds>(left).count();
  return static_cast<int>(std::max<std::int64_t>(secs, 1));
}

void Connection::mark_down(const std::string& why) {
  if (conn_) PQfinish(conn_);
  conn_ = nullptr;
  prepared_.clear();
  deferred_.clear();  // their transaction went with the connection
  deferred_failed_ = false;
  backoff_ = backoff_.count() == 0 ? std::chrono::seconds(1) : std::min(backoff_ * 2, kMaxBackoff);
  retry_at_ = std::chrono::steady_clock::now() + backoff_;
  last_reason_ = why;
  spdlog::warn("the team store {} is unreachable ({}); retrying in {} s", describe(), why,
               backoff_.count());
}

void Connection::lost(const std::string& why) {
  mark_down(why);
  throw StoreUnavailable("the team store is unreachable (" + why + "); retry in " +
                         std::to_string(backoff_.count()) + " s");
}

void Connection::drop(const std::string& why) { mark_down(why); }

void Connection::connect() {
  if (up()) return;
  if (pinned_ || (!conn_ && backoff_.count() > 0 && std::chrono::steady_clock::now() < retry_at_)) {
    throw StoreUnavailable(unavailable_message());
  }
  if (conn_) {
    PQfinish(conn_);
    conn_ = nullptr;
  }
  prepared_.clear();
  conn_ = connect_conn(conninfo_);
  if (!conn_ || PQstatus(conn_) != CONNECTION_OK) {
    lost(conn_error(conn_, "libpq could not start a connection"));
  }
  if (!session_sql_.empty()) {
    pg_result* r = PQexec(conn_, session_sql_.c_str());
    const auto st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
      try {
        fail(r, "the session's set-up");
      } catch (const QueryError&) {
        PQfinish(conn_);  // not set up: the next call starts over
        conn_ = nullptr;
        throw;
      }
    }
    PQclear(r);
  }
  backoff_ = std::chrono::seconds(0);
  last_reason_.clear();
  ++epoch_;
}

void Connection::fail(pg_result* r, const char* what, bool deferred) {
  std::string sqlstate;
  std::string message;
  if (r) {
    const char* s = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    sqlstate = s ? s : "";
    message = first_line(PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY));
  }
  if (!r || !conn_ || PQstatus(conn_) != CONNECTION_OK || connection_state(sqlstate)) {
    std::string why = message.empty() ? conn_error(conn_, "the connection was lost") : message;
    if (r) PQclear(r);
    lost(why);
  }
  if (r) PQclear(r);
  // Never after a queued statement failed: rolling back to "call" could then undo the writes of
  // a call that was already answered, and let the group commit without them.
  if (!recovery_.empty() && transaction_failed() && !deferred && !deferred_failed_) {
    pg_result* rr = PQexec(conn_, recovery_.c_str());
    if (rr) PQclear(rr);
    if (after_recovery_) after_recovery_();
  }
  // Data exceptions quote the offending value: keep parameters out of messages and logs.
  if (sqlstate.rfind("22", 0) == 0) message = "the server refused a value";
  if (message.empty()) message = "the server refused the statement";
  throw QueryError(std::string(what) + ": " + message + " (SQLSTATE " + sqlstate + ")", sqlstate,
                   deferred);
}

const std::string& Connection::prepared_name(const std::string& sql) {
  auto it = prepared_.find(sql);
  if (it == prepared_.end()) {
    std::string name = "s" + std::to_string(next_name_++);
    ++round_trips_;
    pg_result* r = PQprepare(conn_, name.c_str(), sql.c_str(), 0, nullptr);
    if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) fail(r, "preparing a statement");
    PQclear(r);
    it = prepared_.emplace(sql, std::move(name)).first;
  }
  return it->second;
}

namespace {
// Whether a statement writes rows: ours begin with INSERT, UPDATE, DELETE or WITH (a CTE that
// inserts or updates); reads begin with SELECT, and BEGIN, SAVEPOINT and the like write nothing.
bool writes(const std::string& sql) {
  for (const char* verb : {"INSERT", "UPDATE", "DELETE", "WITH"}) {
    if (sql.rfind(verb, 0) == 0) return true;
  }
  return false;
}
}  // namespace

Rows Connection::query(const std::string& sql, const std::vector<Param>& params) {
  if (before_write_ && writes(sql)) before_write_();
  if (!deferred_.empty()) return pipeline(sql, &params, false);
  connect();
  const std::string& name = prepared_name(sql);
  ++round_trips_;
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p.text ? p.text->c_str() : nullptr);
  pg_result* r = PQexecPrepared(conn_, name.c_str(), static_cast<int>(values.size()), values.data(),
                                nullptr, nullptr, 0);
  const auto st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) fail(r, "a query");
  return Rows(r);
}

void Connection::run(const std::string& sql) {
  if (!deferred_.empty()) {
    pipeline(sql, nullptr, true);
    return;
  }
  connect();
  ++round_trips_;
  pg_result* r = PQexec(conn_, sql.c_str());
  const auto st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) fail(r, "a statement");
  PQclear(r);
}

void Connection::defer(const std::string& sql, std::vector<Param> params,
                       std::function<void(const Rows&)> on_rows) {
  if (before_write_ && writes(sql)) before_write_();
  deferred_.push_back(Deferred{sql, std::move(params), std::move(on_rows)});
}

void Connection::send_deferred() {
  if (!deferred_.empty()) pipeline({}, nullptr, true);
}

// One pipeline: every queued statement, then the final one(s), then a sync; the results are read
// in order. A statement not prepared on this connection yet is prepared in the same pipeline.
// After the first failure the server skips the rest up to the sync (PGRES_PIPELINE_ABORTED),
// so nothing after a failed statement ran.
Rows Connection::pipeline(const std::string& final, const std::vector<Param>* params,
                          bool utility) {
  // Taken off the connection first: whatever happens next (the server unreachable, the
  // connection lost), no queued statement and no on_rows survives for a later pipeline.
  const std::vector<Deferred> queue = std::move(deferred_);
  deferred_.clear();
  connect();
  if (PQenterPipelineMode(conn_) != 1) lost(conn_error(conn_, "libpq refused pipeline mode"));
  struct Step {
    const std::string* sql;
    std::string prepare_as;  // non-empty: this step prepares *sql under that name
    bool deferred;
    bool final;
    const Deferred* wants_rows = nullptr;  // a queued read with its on_rows
  };
  std::vector<std::pair<const Deferred*, Rows>> answers;  // given once the pipeline succeeded
  std::vector<Step> steps;
  std::unordered_map<std::string, std::string> preparing;  // in this pipeline
  std::vector<const char*> values;
  auto send = [&](const std::string& sql, const std::vector<Param>& ps, bool deferred,
                  const Deferred* wants_rows) {
    std::string name;
    if (auto it = prepared_.find(sql); it != prepared_.end()) {
      name = it->second;
    } else if (auto jt = preparing.find(sql); jt != preparing.end()) {
      name = jt->second;
    } else {
      name = "s" + std::to_string(next_name_++);
      if (PQsendPrepare(conn_, name.c_str(), sql.c_str(), 0, nullptr) != 1) {
        lost(conn_error(conn_, "sending a statement failed"));
      }
      steps.push_back(Step{&sql, name, deferred, false});
      preparing.emplace(sql, name);
    }
    values.clear();
    for (const auto& p : ps) values.push_back(p.text ? p.text->c_str() : nullptr);
    if (PQsendQueryPrepared(conn_, name.c_str(), static_cast<int>(values.size()), values.data(),
                            nullptr, nullptr, 0) != 1) {
      lost(conn_error(conn_, "sending a statement failed"));
    }
    steps.push_back(Step{&sql, {}, deferred, !deferred, wants_rows});
  };
  for (const auto& d : queue) send(d.sql, d.params, true, d.on_rows ? &d : nullptr);
  std::vector<std::string> pieces;  // a utility text's statements, one by one
  if (utility) {
    std::size_t start = 0;
    while (start <= final.size()) {
      std::size_t end = final.find(';', start);
      if (end == std::string::npos) end = final.size();
      std::string piece = final.substr(start, end - start);
      const auto first = piece.find_first_not_of(" \n\t");
      if (first != std::string::npos) pieces.push_back(piece.substr(first));
      start = end + 1;
    }
    for (const auto& piece : pieces) {
      if (PQsendQueryParams(conn_, piece.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0) != 1) {
        lost(conn_error(conn_, "sending a statement failed"));
      }
      steps.push_back(Step{&piece, {}, false, true});
    }
  } else {
    send(final, *params, false, nullptr);
  }
  if (PQpipelineSync(conn_) != 1) lost(conn_error(conn_, "sending a statement failed"));
  ++round_trips_;

  pg_result* error = nullptr;
  bool error_deferred = false;
  pg_result* last = nullptr;
  auto drop_results = [&] {
    if (error) PQclear(error);
    if (last) PQclear(last);
    error = last = nullptr;
  };
  std::size_t i = 0;  // the step whose results come now; each step's end is a null result
  for (;;) {
    pg_result* r = PQgetResult(conn_);
    if (!r) {
      if (PQstatus(conn_) != CONNECTION_OK || i >= steps.size()) {
        drop_results();
        lost(conn_error(conn_, "the connection was lost"));
      }
      ++i;
      continue;
    }
    const auto st = PQresultStatus(r);
    if (st == PGRES_PIPELINE_SYNC) {
      PQclear(r);
      break;
    }
    if (st == PGRES_PIPELINE_ABORTED || i >= steps.size()) {
      PQclear(r);
      continue;
    }
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
      const Step& step = steps[i];
      if (!step.prepare_as.empty()) prepared_.emplace(*step.sql, step.prepare_as);
      if (step.final) {
        if (last) PQclear(last);
        last = r;
      } else if (step.wants_rows) {
        answers.emplace_back(step.wants_rows, Rows(r));
      } else {
        PQclear(r);
      }
      continue;
    }
    if (!error) {
      error = r;
      error_deferred = steps[i].deferred;
    } else {
      PQclear(r);
    }
  }
  if (PQexitPipelineMode(conn_) != 1) {
    drop_results();
    lost(conn_error(conn_, "libpq could not leave pipeline mode"));
  }
  if (error) {
    if (last) PQclear(last);
    if (error_deferred) deferred_failed_ = true;
    const char* what = utility ? "a statement" : "a query";
    fail(error, error_deferred ? "a queued write" : what, error_deferred);
  }
  for (const auto& [d, rows] : answers) d->on_rows(rows);
  return Rows(last);
}

std::string Connection::describe() const {
  if (!conn_) return describe_conninfo(conninfo_);
  // The connection's own values: what libpq filled in from the environment too.
  PQconninfoOption* opts = PQconninfo(conn_);
  if (!opts) return describe_conninfo(conninfo_);
  std::string out;
  for (const char* key : {"host", "hostaddr", "port", "dbname", "user"}) {
    for (PQconninfoOption* o = opts; o->keyword; ++o) {
      if (std::strcmp(o->keyword, key) == 0 && o->val && *o->val) {
        if (!out.empty()) out += ' ';
        out += std::string(key) + "=" + o->val;
      }
    }
  }
  PQconninfoFree(opts);
  return out;
}

std::optional<std::string> Connection::tls() const {
  if (!conn_ || !PQsslInUse(conn_)) return std::nullopt;
  const char* proto = PQsslAttribute(conn_, "protocol");
  return std::string(proto ? proto : "TLS");
}

}  // namespace cb::store::pg

namespace cb::store {

bool lost_race(const std::exception& e) {
  const auto* q = dynamic_cast<const pg::QueryError*>(&e);
  return q != nullptr && q->sqlstate() == "23505" && !q->queued();
}

std::optional<std::string> transient_refusal(const std::exception& e) {
  const auto* q = dynamic_cast<const pg::QueryError*>(&e);
  if (q == nullptr) return std::nullopt;
  if (q->queued()) {
    return "the team store refused a write sent with this call (" + std::string(q->what()) +
           "); nothing of this call was stored — call again";
  }
  const std::string& code = q->sqlstate();
  if (code == "40P01" || code == "40001") {
    return "the team store stopped this call to resolve a conflict with another daemon; nothing "
           "of it was stored — call again";
  }
  if (code == "57014" || code == "55P03") {
    return "the team store did not answer in time (a lock or a statement timed out); nothing of "
           "this call was stored — call again";
  }
  return std::nullopt;
}

}  // namespace cb::store
