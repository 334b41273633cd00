#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "daemon/store/ticket.h"

// The store the product uses (issue 27): one interface, two implementations behind it — the
// embedded SQLite database (sqlite_database.h, the default) and a team's shared PostgreSQL
// (pg/pg_database.h). The product sees this class, the table interfaces of tables.h and
// WriteTransaction; the SQL of each backend lives in its own files.
namespace cb::store {

class Conversations;
class Messages;
class Inboxes;
class Agents;
class Members;
class Statuses;
class AuditTable;
class Team;

enum class Synchronous { kNormal, kFull };

// Why opening a store failed; each message is one line fit for the operator, naming the
// database and what to do.
namespace open_errors {
inline constexpr const char* kInUse = "database_in_use";           // another daemon holds it
inline constexpr const char* kUnopenable = "database_unopenable";  // it could not be opened
inline constexpr const char* kSchemaTooNew = "schema_too_new";     // written by a newer daemon
inline constexpr const char* kTeamKey = "team_key_mismatch";       // another key than the team's
}  // namespace open_errors

// Thrown by a backend whose store cannot be reached now (a PostgreSQL server down or a
// connection lost): what() is one line fit for a model, naming when to retry. Nothing of the
// failed call was committed.
class StoreUnavailable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Database {
 public:
  virtual ~Database() = default;
  Database() = default;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // "sqlite" or "postgresql".
  virtual const char* backend() const = 0;
  // Where the data is, for an operator: a file path, or a PostgreSQL address without its
  // password.
  virtual std::string location() const = 0;

  virtual Conversations& conversations() = 0;
  virtual Messages& messages() = 0;
  virtual Inboxes& inboxes() = 0;
  virtual Agents& agents() = 0;
  virtual Members& members() = 0;
  virtual Statuses& statuses() = 0;
  virtual AuditTable& audit_table() = 0;
  // How the daemon reaches a networked store: its TLS protocol ("TLSv1.3"), "none" when the
  // connection is not encrypted; std::nullopt for a local file.
  virtual std::optional<std::string> transport() { return std::nullopt; }
  // The team's shared state (daemons, presence heartbeats); nullptr for a store of one daemon.
  virtual Team* team() { return nullptr; }

  virtual int schema_version() = 0;
  // The schema version this daemon writes (each backend has its own migrations).
  virtual int latest_schema() const = 0;
  // Bytes the store takes (a file and its WAL; a PostgreSQL database's size).
  virtual std::int64_t size_bytes() = 0;
  // "ok" or the first problem found.
  virtual std::string integrity_check() = 0;

  // ---- Durability (see Ticket) ----
  // Runs done("") once `ticket` is durable, or done(reason) with a one-line reason when its
  // group was rolled back. At once when its group has already ended.
  virtual void when_durable(const Ticket& ticket, std::function<void(const std::string&)> done) = 0;
  // std::nullopt while `ticket`'s group is open or waiting for its sync; then "" when it is
  // durable, or why it was rolled back.
  virtual std::optional<std::string> outcome(const Ticket& ticket) const = 0;
  // The ticket of everything written so far; empty when all of it is durable.
  virtual Ticket latest() const = 0;
  // Runs fn after the open group commits (dropped if it rolls back); at once when none is open.
  virtual void after_commit(std::function<void()> fn) = 0;
  // Runs fn inside the open group as it commits, before its COMMIT (fn may still write), or at
  // once where nothing is held for a commit (SQLite; no group open). A team's store keeps a
  // group's messages for its commit, where they get their ids under the team's lock: work that
  // needs those ids (the audit chain's entries) runs here. Dropped when its call rolls back.
  virtual void at_commit(std::function<void()> fn) { fn(); }
  // Sends what the open group holds for its commit now (a team's store takes its lock for it),
  // so that this group's next reads see it: a send whose message a waiting member takes in the
  // same transaction. Nothing where nothing is held.
  virtual void write_held_now() {}
  // Whether committed groups wait for a sync on another thread: a reader then also waits for
  // latest(), as what it read may not be on disk yet.
  virtual bool background_sync() const { return false; }
  // Commits the open group now (and waits for its sync). Never throws; a failure fails the
  // group's callers.
  virtual void flush() = 0;

  // Called after any rollback of written data: caches of what is stored (the audit chain's
  // head) are stale.
  void on_rollback(std::function<void()> fn) { rollback_listeners_.push_back(std::move(fn)); }

 protected:
  friend class WriteTransaction;
  // One call's writes: begin returns whether they are part of a group; commit returns the
  // ticket of the commit that will hold them; rollback undoes them (never throws).
  virtual bool write_begin() = 0;
  virtual Ticket write_commit(bool grouped) = 0;
  virtual void write_rollback(bool grouped) = 0;
  void rolled_back() {
    for (auto& fn : rollback_listeners_) fn();
  }
  void forget_rollback_listeners() { rollback_listeners_.clear(); }

 private:
  std::vector<std::function<void()>> rollback_listeners_;
};

// One tool call's writes, all or nothing: a transaction of its own, or with group commit a
// savepoint inside the group's transaction. Destroyed uncommitted: rolled back (only this
// call's part of a group).
class WriteTransaction {
 public:
  explicit WriteTransaction(Database& db) : db_(db), grouped_(db.write_begin()) {}
  ~WriteTransaction() {
    if (!done_) db_.write_rollback(grouped_);
  }
  WriteTransaction(const WriteTransaction&) = delete;
  WriteTransaction& operator=(const WriteTransaction&) = delete;
  // Commits this call's writes; the ticket tells when they are durable.
  Ticket commit() {
    Ticket t = db_.write_commit(grouped_);
    done_ = true;
    return t;
  }

 private:
  Database& db_;
  bool grouped_ = false;
  bool done_ = false;
};

// When `e` is a storage failure (disk full, I/O error, read-only or damaged file, busy, out of
// memory, a team store unreachable) rather than a bug: a one-line reason fit for a model or an
// operator. std::nullopt for anything else.
std::optional<std::string> storage_failure(const std::exception& e);

// Whether `e` is a write that lost a race with another daemon of a team for a unique key (a
// PostgreSQL unique violation): the other daemon's row is committed, so the call can run again
// and find it. Never true for the SQLite store (one daemon writes it).
bool lost_race(const std::exception& e);

// When `e` is a team store's refusal that says nothing of the call (a deadlock or a
// serialization failure PostgreSQL broke, a statement timeout, a lock not available, a queued
// write sent with the call that the server refused): a one-line reason telling to call again.
// std::nullopt for anything else.
std::optional<std::string> transient_refusal(const std::exception& e);

}  // namespace cb::store
