#include "daemon/store/transfer.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <system_error>

#include "daemon/store/tables.h"

namespace cb::store {
namespace fs = std::filesystem;

namespace {

constexpr std::array<const char*, 4> kRequiredTables = {"conversations", "messages", "statuses",
                                                        "audit"};

std::string errno_text(int err) { return std::strerror(err); }

// Same file, or the WAL / shared-memory file of it.
bool is_live_file(const fs::path& candidate, const fs::path& live) {
  std::error_code ec;
  const fs::path a = fs::weakly_canonical(candidate, ec);
  if (ec) return false;
  const fs::path b = fs::weakly_canonical(live, ec);
  if (ec) return false;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    if (a == fs::path(b.string() + suffix)) return true;
  }
  return false;
}

// Removes a half-written copy unless released.
class PartialFile {
 public:
  explicit PartialFile(fs::path path) : path_(std::move(path)) {}
  ~PartialFile() {
    if (path_.empty()) return;
    std::error_code ec;
    fs::remove(path_, ec);
    fs::remove(path_.string() + "-journal", ec);
  }
  PartialFile(const PartialFile&) = delete;
  PartialFile& operator=(const PartialFile&) = delete;
  void release() { path_.clear(); }

 private:
  fs::path path_;
};

// Closes a raw connection opened for a backup copy.
struct ConnectionCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using RawConnection = std::unique_ptr<sqlite3, ConnectionCloser>;

bool fsync_path(const fs::path& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

// Opens a file for restore and checks it; on failure `out` says why and nullptr is returned.
std::unique_ptr<SQLite::Database> open_checked(const fs::path& src, FileOutcome& out) {
  auto bad = [&](const std::string& why) {
    out.error = src.string() + ": " + why;
    out.bad_file = true;
    return nullptr;
  };
  std::error_code ec;
  const auto st = fs::status(src, ec);
  if (ec || !fs::exists(st)) return bad("no such file (as the daemon sees the file system)");
  if (!fs::is_regular_file(st)) return bad("not a regular file");
  std::unique_ptr<SQLite::Database> file;
  try {
    file = std::make_unique<SQLite::Database>(src.string(), SQLite::OPEN_READONLY);
    SQLite::Statement check(*file, "PRAGMA integrity_check");
    const std::string verdict = check.executeStep() ? check.getColumn(0).getString() : "no answer";
    if (verdict != "ok") return bad("integrity_check failed: " + verdict);
    const int version = file->execAndGet("PRAGMA user_version").getInt();
    if (version != Database::latest_schema_version()) {
      return bad("schema version " + std::to_string(version) + ", this daemon serves version " +
                 std::to_string(Database::latest_schema_version()));
    }
    for (const char* table : kRequiredTables) {
      if (!file->tableExists(table)) return bad(std::string("table ") + table + " is missing");
    }
    out.pages = file->execAndGet("PRAGMA page_count").getInt64();
  } catch (const SQLite::Exception& e) {
    return bad(std::string("not a claude-bridge database (") + e.getErrorStr() + ")");
  }
  out.bytes = static_cast<std::int64_t>(fs::file_size(src, ec));
  return file;
}

}  // namespace

std::optional<ConversationDump> dump_conversation(Database& db, const std::string& id,
                                                  std::int64_t after_id, std::size_t max_body_bytes,
                                                  bool* complete) {
  db.flush();  // only committed rows leave the daemon
  auto conversation = Conversations(db).find(id);
  if (!conversation) return std::nullopt;
  ConversationDump dump;
  dump.conversation = std::move(*conversation);
  {
    auto& q = db.stmt(
        "SELECT session, status, heartbeat_ms FROM statuses WHERE conversation_id = ?"
        " ORDER BY session");
    q.bind(1, id);
    while (q.executeStep()) {
      dump.statuses.push_back(
          SessionStatus{q.getColumn(0).getString(),
                        StatusRow{q.getColumn(1).getString(), q.getColumn(2).getInt64()}});
    }
  }
  auto& q = db.stmt(
      "SELECT id, sender, recipient, body, action_type, files_json, redactions_json, created_ms,"
      " read_ms FROM messages WHERE conversation_id = ? AND id > ? ORDER BY id");
  q.bind(1, id);
  q.bind(2, after_id);
  std::size_t bytes = 0;
  *complete = true;
  while (q.executeStep()) {
    if (!dump.messages.empty() && bytes >= max_body_bytes) {
      *complete = false;
      break;
    }
    MessageRow m;
    m.id = q.getColumn(0).getInt64();
    m.conversation_id = id;
    m.sender = q.getColumn(1).getString();
    m.recipient = q.getColumn(2).getString();
    m.body = q.getColumn(3).getString();
    m.action_type = q.getColumn(4).getString();
    m.files_json = q.getColumn(5).getString();
    m.redactions_json = q.getColumn(6).getString();
    m.created_ms = q.getColumn(7).getInt64();
    if (!q.getColumn(8).isNull()) m.read_ms = q.getColumn(8).getInt64();
    bytes += m.body.size() + m.files_json.size() + m.redactions_json.size();
    dump.messages.push_back(std::move(m));
  }
  q.reset();  // do not hold a read transaction until the statement is reused
  return dump;
}

bool load_conversation(Database& db, const ConversationDump& dump) {
  const ConversationRow& c = dump.conversation;
  {
    auto& q = db.stmt("SELECT 1 FROM conversations WHERE id = ?");
    q.bind(1, c.id);
    const bool exists = q.executeStep();
    q.reset();
    if (exists) return false;
  }
  {
    auto& q = db.stmt(
        "INSERT INTO conversations (id, role_a, role_b, nonce, created_ms, expires_ms, exec_mode,"
        " exec_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    q.bind(1, c.id);
    q.bind(2, c.role_a);
    q.bind(3, c.role_b);
    q.bind(4, c.nonce.data(), static_cast<int>(c.nonce.size()));
    q.bind(5, c.created_ms);
    q.bind(6, c.expires_ms);
    q.bind(7, c.exec_mode);
    q.bind(8, c.exec_json);
    q.exec();
  }
  for (const MessageRow& m : dump.messages) {
    auto& q = db.stmt(
        "INSERT INTO messages (conversation_id, sender, recipient, body, action_type, files_json,"
        " redactions_json, created_ms, read_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
    q.bind(1, c.id);
    q.bind(2, m.sender);
    q.bind(3, m.recipient);
    q.bind(4, m.body);
    q.bind(5, m.action_type);
    q.bind(6, m.files_json);
    q.bind(7, m.redactions_json);
    q.bind(8, m.created_ms);
    if (m.read_ms)
      q.bind(9, *m.read_ms);
    else
      q.bind(9);
    q.exec();
  }
  Statuses statuses(db);
  for (const SessionStatus& s : dump.statuses) {
    statuses.upsert(c.id, s.session, s.row.status, s.row.heartbeat_ms);
  }
  return true;
}

FileOutcome backup_database(Database& db, const fs::path& dest, bool overwrite) {
  db.flush();  // the copy holds what was acknowledged, not half a group
  FileOutcome out;
  if (!dest.is_absolute() || !dest.has_filename()) {
    out.error = "backup target must be an absolute file path: " + dest.string();
    return out;
  }
  if (is_live_file(dest, db.path())) {
    out.error = dest.string() + " is the live database; choose another file";
    return out;
  }
  std::error_code ec;
  const auto st = fs::symlink_status(dest, ec);
  if (fs::exists(st)) {
    if (!fs::is_regular_file(st)) {
      out.error = dest.string() + " exists and is not a regular file";
      return out;
    }
    if (!overwrite) {
      out.error = dest.string() + " exists; pass --force to replace it";
      return out;
    }
  }
  const fs::path parent = dest.parent_path();
  if (!fs::is_directory(parent, ec)) {
    out.error = "no directory " + parent.string() + " (as the daemon sees the file system)";
    return out;
  }
  const fs::path partial =
      parent / ("." + dest.filename().string() + ".partial-" + std::to_string(::getpid()));
  const int fd =
      ::open(partial.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    out.sys_errno = errno;
    out.error = "cannot create " + partial.string() + ": " + errno_text(errno);
    return out;
  }
  ::close(fd);
  PartialFile guard(partial);

  sqlite3* raw = nullptr;
  int rc =
      sqlite3_open_v2(partial.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW, nullptr);
  RawConnection copy(raw);
  if (rc != SQLITE_OK) {
    out.error = "cannot open " + partial.string() + ": " + sqlite3_errstr(rc);
    return out;
  }
  // The copy is fsynced once, as a whole, before it is renamed into place; syncing each write
  // of the backup would only make the event loop wait longer.
  sqlite3_exec(copy.get(), "PRAGMA synchronous = OFF", nullptr, nullptr, nullptr);
  // One step copies every page while holding the source's read lock: a single snapshot. The
  // daemon is single-threaded, so no write of ours can interleave.
  sqlite3_backup* backup = sqlite3_backup_init(copy.get(), "main", db.db().getHandle(), "main");
  if (!backup) {
    out.error = std::string("backup could not start: ") + sqlite3_errmsg(copy.get());
    return out;
  }
  rc = sqlite3_backup_step(backup, -1);
  out.pages = sqlite3_backup_pagecount(backup);
  sqlite3_backup_finish(backup);
  if (rc != SQLITE_DONE) {
    out.error = std::string("backup failed: ") + sqlite3_errstr(rc);
    return out;
  }
  // The copy carries the WAL flag of the live file; make it one self-contained file.
  char* message = nullptr;
  rc = sqlite3_exec(copy.get(), "PRAGMA journal_mode = DELETE", nullptr, nullptr, &message);
  if (rc != SQLITE_OK) {
    out.error = std::string("backup could not be finalised: ") + (message ? message : "");
    sqlite3_free(message);
    return out;
  }
  copy.reset();
  if (::chmod(partial.c_str(), 0600) != 0 || !fsync_path(partial, O_RDONLY)) {
    out.error = "cannot write " + partial.string() + ": " + errno_text(errno);
    return out;
  }
  fs::rename(partial, dest, ec);
  if (ec) {
    out.error = "cannot rename the copy to " + dest.string() + ": " + ec.message();
    return out;
  }
  guard.release();
  fsync_path(parent, O_RDONLY | O_DIRECTORY);
  out.bytes = static_cast<std::int64_t>(fs::file_size(dest, ec));
  return out;
}

FileOutcome check_backup_file(const fs::path& src) {
  FileOutcome out;
  open_checked(src, out);
  return out;
}

FileOutcome restore_database(Database& db, const fs::path& src) {
  db.flush();
  FileOutcome out;
  if (is_live_file(src, db.path())) {
    out.error = src.string() + " is the live database itself";
    out.bad_file = true;
    return out;
  }
  auto file = open_checked(src, out);
  if (!file) return out;
  sqlite3* live = db.db().getHandle();
  if (!sqlite3_get_autocommit(live)) {
    out.error = "a transaction is open on the live database; try again";
    return out;
  }
  // The backup API cannot change the page size of a WAL database: a file with other pages (a
  // backup from before pages were 1 KiB) is rewritten with the live one's first.
  const int page_size = db.db().execAndGet("PRAGMA page_size").getInt();
  fs::path resized = db.path().string() + ".restore-tmp";
  PartialFile resized_guard(resized);
  if (file->execAndGet("PRAGMA page_size").getInt() != page_size) {
    std::error_code ec;
    fs::remove(resized, ec);  // left by a restore that was cut off
    try {
      file->exec("PRAGMA page_size = " + std::to_string(page_size));
      {
        SQLite::Statement vacuum(*file, "VACUUM INTO ?");  // finalised before its file closes
        vacuum.bind(1, resized.string());
        vacuum.exec();
      }
      file = std::make_unique<SQLite::Database>(resized.string(), SQLite::OPEN_READONLY);
    } catch (const SQLite::Exception& e) {
      out.error = "restore could not convert " + src.string() + " to pages of " +
                  std::to_string(page_size) + " bytes: " + e.getErrorStr() +
                  "; check the free space beside the database";
      return out;
    }
  }
  db.reset_statements();  // else the backup API would refuse the destination
  sqlite3_backup* backup = sqlite3_backup_init(live, "main", file->getHandle(), "main");
  if (!backup) {
    out.error = std::string("restore could not start: ") + sqlite3_errmsg(live);
    return out;
  }
  const int rc = sqlite3_backup_step(backup, -1);
  sqlite3_backup_finish(backup);
  if (rc != SQLITE_DONE) {
    out.error =
        std::string("restore failed, the live database is unchanged: ") + sqlite3_errstr(rc);
    return out;
  }
  return out;
}

}  // namespace cb::store
