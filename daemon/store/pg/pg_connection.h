#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

// A team's PostgreSQL store (issue 27), through libpq: the only code that includes
// <libpq-fe.h>. One connection, used from the daemon's loop thread only.
struct pg_conn;
struct pg_result;

namespace cb::store::pg {

// One parameter of a query, sent in text form ($1, $2 …); std::nullopt is SQL NULL. Binary
// values (a nonce) travel as bytea: Param::bytes hex-encodes them ("\\x…").
struct Param {
  std::optional<std::string> text;
  Param(std::nullptr_t) {}                             // NULL
  Param(const std::string& s) : text(s) {}             // NOLINT: implicit on purpose
  Param(std::string_view s) : text(std::string(s)) {}  // NOLINT
  Param(const char* s) : text(std::string(s)) {}       // NOLINT
  Param(std::int64_t v) : text(std::to_string(v)) {}   // NOLINT
  Param(int v) : text(std::to_string(v)) {}            // NOLINT
  Param(bool v) : text(v ? "true" : "false") {}        // NOLINT
  Param(const std::optional<std::int64_t>& v) {        // NOLINT
    if (v) text = std::to_string(*v);
  }
  static Param bytes(const std::string& raw);
};

// A query's rows. Columns by index; text as PostgreSQL's text output.
class Rows {
 public:
  Rows() = default;
  explicit Rows(pg_result* r);
  Rows(Rows&&) noexcept;
  Rows& operator=(Rows&&) noexcept;
  ~Rows();
  int size() const;
  bool empty() const { return size() == 0; }
  bool is_null(int row, int col) const;
  std::string text(int row, int col) const;
  std::int64_t int64(int row, int col) const;  // 0 when NULL
  std::optional<std::int64_t> opt_int64(int row, int col) const;
  bool boolean(int row, int col) const;
  std::string bytea(int row, int col) const;  // the raw bytes of a bytea column
  // Rows affected by an INSERT/UPDATE/DELETE.
  std::int64_t affected() const;

 private:
  pg_result* r_ = nullptr;
};

// The connection. Every query is prepared once per connection (named by its text) and run
// with its parameters in one round trip, together with the statements defer()red before it.
// Failures throw:
//  - StoreUnavailable (daemon/store/database.h) when the server cannot be reached or the
//    connection broke: "the team store is unreachable (…); retry in N s". The connection is then
//    down and reconnects on a later call once the backoff (1 s doubling to 30 s) has passed;
//    until then each call throws at once without touching the network.
//  - QueryError for anything the server refused (a constraint, a syntax error): a bug or a
//    conflict, never a password or a parameter value in the message.
class QueryError : public std::runtime_error {
 public:
  QueryError(const std::string& what, std::string sqlstate, bool queued = false)
      : std::runtime_error(what), sqlstate_(std::move(sqlstate)), queued_(queued) {}
  const std::string& sqlstate() const { return sqlstate_; }  // e.g. "23505" unique violation
  // The statement refused was a queued one (Connection::defer), sent with the one that threw:
  // it may belong to an earlier call, and the transaction is lost for all of them.
  bool queued() const { return queued_; }

 private:
  std::string sqlstate_;
  bool queued_ = false;
};

class Connection {
 public:
  // `conninfo` in libpq's own form (key=value or postgresql:// URI); secrets come from libpq's
  // password file (PGPASSFILE / ~/.pgpass), never from here.
  // `session_sql` runs after every (re)connect (SET search_path …); prepared statements are
  // forgotten on reconnect.
  explicit Connection(std::string conninfo, std::string session_sql = {});
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Connects now (the first call, and after a failure once its backoff has passed).
  void connect();
  bool up() const;
  // Whether the server holds an open transaction on this connection (a failed one too), or
  // statements wait in the queue (as a group's queued opening does).
  bool in_transaction() const;
  // The server's side of it alone.
  bool server_in_transaction() const;
  // Takes the connection down as if it broke (the next call reconnects after the backoff).
  // Tests use it; so does PgDatabase when a connection's state can no longer be trusted.
  void drop(const std::string& why);
  // Whether the open transaction failed (PostgreSQL would turn its COMMIT into a ROLLBACK).
  bool transaction_failed() const;
  // Seconds of the current backoff (0 while up); for messages.
  int retry_in_seconds() const;
  // StoreUnavailable's text for the current outage.
  std::string unavailable_message() const;
  // Counts successful connects: a transaction begun in one epoch cannot be committed in another.
  std::uint64_t epoch() const { return epoch_; }
  // While pinned (a transaction is open), a lost connection is not replaced: every call throws
  // StoreUnavailable until unpinned, so no statement of a broken transaction can run in
  // autocommit on a new connection.
  void pin(bool pinned) { pinned_ = pinned; }
  // Run (best effort) after a statement the server refused left the open transaction failed:
  // PgDatabase sets "ROLLBACK TO call" between the calls of a group, so that a failed read there
  // does not doom the writes of the calls already in the group. Empty: none.
  // `after` runs once the recovery did (PgDatabase forgets what the rolled-back part held).
  void set_recovery(std::string sql, std::function<void()> after = {}) {
    recovery_ = std::move(sql);
    after_recovery_ = std::move(after);
  }
  // Runs before a statement that writes rows (INSERT, UPDATE, DELETE, WITH) is sent or queued:
  // PgDatabase takes the team's write lock there. Empty: nothing.
  void set_before_write(std::function<void()> fn) { before_write_ = std::move(fn); }
  Rows query(const std::string& sql, const std::vector<Param>& params = {});
  // Runs statements without parameters or results (BEGIN, COMMIT, SAVEPOINT…, DDL; several
  // separated by ';' allowed).
  void run(const std::string& sql);

  // Queues a statement whose result nobody waits for (a write of the open transaction, a
  // savepoint; a read outside any transaction whose answer can wait, given to `on_rows`:
  // PgDatabase::send_queue_soon): it reaches the server with the next query() or run(), in the same
  // round trip (libpq's pipeline mode), so a call's writes cost no round trip of their own. When a
  // queued statement fails, the statement that sent it throws that failure's QueryError, the
  // transaction stays failed (no recovery runs: the statement may belong to a call already
  // answered "stored, waiting for the commit"), and deferred_failed() says so until
  // clear_deferred_failure(). A lost connection forgets the queue with the transaction, and so
  // does a statement that finds the server unreachable: nothing queued runs later.
  // `on_rows`, when given, receives the statement's rows once its pipeline ran without a failure
  // (a read whose answer can wait: the audit chain's head at a group's start).
  void defer(const std::string& sql, std::vector<Param> params = {},
             std::function<void(const Rows&)> on_rows = {});
  // Sends the queue now, if anything waits in it (one round trip).
  void send_deferred();
  bool has_deferred() const { return !deferred_.empty(); }
  // Whether a queued statement's answer is awaited (one given an on_rows).
  bool awaits_answers() const {
    for (const auto& d : deferred_) {
      if (d.on_rows) return true;
    }
    return false;
  }
  // Drops the queue unsent (the caller is about to roll back the transaction it belongs to).
  void discard_deferred() { deferred_.clear(); }
  // Keeps the queue but forgets every on_rows (whoever asked is gone).
  void forget_answers() {
    for (auto& d : deferred_) d.on_rows = {};
  }
  bool deferred_failed() const { return deferred_failed_; }
  void clear_deferred_failure() { deferred_failed_ = false; }
  // Round trips to the server so far (each query, run or pipeline of them): for tests.
  std::uint64_t round_trips() const { return round_trips_; }
  // The server address without password, for operators ("host=db.example port=5432
  // dbname=bridge user=team_a").
  std::string describe() const;
  // Whether the connection uses TLS, and its protocol ("TLSv1.3").
  std::optional<std::string> tls() const;
  pg_conn* raw() { return conn_; }

 private:
  [[noreturn]] void lost(const std::string& why);
  void mark_down(const std::string& why);
  [[noreturn]] void fail(pg_result* r, const char* what, bool deferred = false);
  // Sends the queue, then `final` (a prepared query with `params`, or when `utility` one or
  // more statements without parameters), in one pipeline; returns the final statement's rows.
  Rows pipeline(const std::string& final, const std::vector<Param>* params, bool utility);
  const std::string& prepared_name(const std::string& sql);
  std::string conninfo_;
  std::string session_sql_;
  std::string last_reason_;
  pg_conn* conn_ = nullptr;
  // Statement texts prepared on this connection, and their names ("s0", "s1" …).
  std::unordered_map<std::string, std::string> prepared_;
  std::uint64_t next_name_ = 0;
  struct Deferred {
    std::string sql;
    std::vector<Param> params;
    std::function<void(const Rows&)> on_rows;
  };
  std::vector<Deferred> deferred_;
  bool deferred_failed_ = false;
  std::uint64_t round_trips_ = 0;
  std::chrono::steady_clock::time_point retry_at_{};
  std::chrono::seconds backoff_{0};
  std::uint64_t epoch_ = 0;
  bool pinned_ = false;
  std::string recovery_;
  std::function<void()> after_recovery_;
  std::function<void()> before_write_;
};

// Starts a libpq connection to `conninfo` with what the daemon needs where the conninfo does not
// say otherwise: connect_timeout=5, TCP keepalives (idle 10 s, interval 5 s, 3 probes) and
// tcp_user_timeout=15 s, so a dead server or a lost network cannot hold the loop for long.
// Blocking; the caller checks PQstatus and PQfinish-es it. With `start_only` it only starts
// the connection (PQconnectStartParams; the caller drives PQconnectPoll): the listener's way,
// so that stopping it never waits for a connect.
pg_conn* connect_conn(const std::string& conninfo, bool start_only = false);

// The first line of libpq's error message for `conn`, or `fallback`.
std::string conn_error(pg_conn* conn, const char* fallback);

// "host=… port=… dbname=… user=…" of a conninfo (never its password), for messages.
std::string describe_conninfo(const std::string& conninfo);

// A libpq conninfo's problem for the config, or std::nullopt: it does not parse, or it holds a
// password (which belongs in the password file).
std::optional<std::string> conninfo_problem(const std::string& conninfo);

}  // namespace cb::store::pg
