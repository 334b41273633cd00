#include "daemon/store/transfer.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <iterator>
#include <map>
#include <optional>
#include <system_error>
#include <utility>

#include "daemon/store/tables.h"
#include "daemon/store/sqlite_database.h"

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

struct CheckedFile {
  std::unique_ptr<SQLite::Database> file;
  FileCopy copy;
};

Status failed(std::string message) { return Status::error(codes::kFailed, std::move(message)); }

// Opens a file for restore and checks it (codes::kBadFile when it is unusable).
Result<CheckedFile> open_checked(const fs::path& src) {
  auto bad = [&](const std::string& why) {
    return Status::error(codes::kBadFile, src.string() + ": " + why);
  };
  std::error_code ec;
  const auto st = fs::status(src, ec);
  if (ec || !fs::exists(st)) return bad("no such file (as the daemon sees the file system)");
  if (!fs::is_regular_file(st)) return bad("not a regular file");
  CheckedFile out;
  try {
    out.file = std::make_unique<SQLite::Database>(src.string(), SQLite::OPEN_READONLY);
    SQLite::Statement check(*out.file, "PRAGMA integrity_check");
    const std::string verdict = check.executeStep() ? check.getColumn(0).getString() : "no answer";
    if (verdict != "ok") return bad("integrity_check failed: " + verdict);
    const int version = out.file->execAndGet("PRAGMA user_version").getInt();
    if (version != SqliteDatabase::latest_schema_version()) {
      return bad("schema version " + std::to_string(version) + ", this daemon serves version " +
                 std::to_string(SqliteDatabase::latest_schema_version()));
    }
    for (const char* table : kRequiredTables) {
      if (!out.file->tableExists(table)) return bad(std::string("table ") + table + " is missing");
    }
    out.copy.pages = out.file->execAndGet("PRAGMA page_count").getInt64();
  } catch (const SQLite::Exception& e) {
    // The operator's file, not the live database: unreadable means unusable.
    return bad(std::string("not a claude-bridge database (") + e.getErrorStr() + ")");
  }
  out.copy.bytes = static_cast<std::int64_t>(fs::file_size(src, ec));
  return out;
}

}  // namespace

Result<ConversationPage> dump_conversation(Database& db, const std::string& id,
                                           std::int64_t after_id, std::size_t max_body_bytes) {
  db.flush();  // only committed rows leave the daemon
  auto conversation = db.conversations().find(id);
  if (!conversation) return Status::error(codes::kNotFound, "no conversation " + id);
  ConversationPage page;
  ConversationDump& dump = page.dump;
  dump.conversation = std::move(*conversation);
  dump.statuses = db.statuses().of(id);
  if (dump.conversation.kind == "agents") dump.members = db.members().of_conversation(id);
  std::size_t bytes = 0;
  db.messages().for_each_after(id, after_id, [&](MessageRow&& m) {
    if (!dump.messages.empty() && bytes >= max_body_bytes) {
      page.complete = false;
      return false;
    }
    bytes += m.body.size() + m.files_json.size() + m.redactions_json.size();
    dump.messages.push_back(std::move(m));
    return true;
  });
  return page;
}

Status load_conversation(Database& db, const ConversationDump& dump) {
  const ConversationRow& c = dump.conversation;
  Conversations& conversations = db.conversations();
  if (conversations.exists(c.id)) {
    return Status::error(codes::kExists, "conversation " + c.id +
                                             " exists already; import refused (nothing changed)");
  }
  const bool agents = c.kind == "agents";
  if (agents && !c.member_key.empty() && conversations.by_members(c.member_key)) {
    ConversationRow row = c;
    row.member_key.clear();
    conversations.insert(row);
  } else {
    conversations.insert(c);
  }
  Messages& messages = db.messages();
  std::map<std::int64_t, std::int64_t> new_ids;  // old id → new id, in id order
  for (const MessageRow& m : dump.messages) {
    MessageRow row = m;
    row.conversation_id = c.id;
    if (agents && row.reply_to) {
      auto it = new_ids.find(*row.reply_to);
      row.reply_to = it == new_ids.end() ? std::nullopt : std::optional(it->second);
    }
    new_ids[m.id] = messages.insert(row);
  }
  Members& members = db.members();
  for (const MemberRow& m : dump.members) {
    MemberRow row = m;
    row.conversation_id = c.id;
    // The newest message at or below the old position, under its new id.
    auto it = new_ids.upper_bound(m.read_up_to);
    row.read_up_to = it == new_ids.begin() ? 0 : std::prev(it)->second;
    members.insert(row);
  }
  Statuses& statuses = db.statuses();
  for (const SessionStatus& s : dump.statuses) {
    statuses.upsert(c.id, s.session, s.row.status, s.row.heartbeat_ms);
  }
  return Status();
}

Result<FileCopy> backup_database(SqliteDatabase& db, const fs::path& dest, bool overwrite) {
  db.flush();  // the copy holds what was acknowledged, not half a group
  if (!dest.is_absolute() || !dest.has_filename()) {
    return failed("backup target must be an absolute file path: " + dest.string());
  }
  if (is_live_file(dest, db.path())) {
    return failed(dest.string() + " is the live database; choose another file");
  }
  std::error_code ec;
  const auto st = fs::symlink_status(dest, ec);
  if (fs::exists(st)) {
    if (!fs::is_regular_file(st)) {
      return failed(dest.string() + " exists and is not a regular file");
    }
    if (!overwrite) return failed(dest.string() + " exists; pass --force to replace it");
  }
  const fs::path parent = dest.parent_path();
  if (!fs::is_directory(parent, ec)) {
    return failed("no directory " + parent.string() + " (as the daemon sees the file system)");
  }
  const fs::path partial =
      parent / ("." + dest.filename().string() + ".partial-" + std::to_string(::getpid()));
  const int fd =
      ::open(partial.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    const int err = errno;
    const bool refused = err == EROFS || err == EACCES || err == EPERM;
    return Status::error(refused ? codes::kNotPermitted : codes::kFailed,
                         "cannot create " + partial.string() + ": " + errno_text(err));
  }
  ::close(fd);
  PartialFile guard(partial);

  FileCopy out;
  sqlite3* raw = nullptr;
  int rc =
      sqlite3_open_v2(partial.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW, nullptr);
  RawConnection copy(raw);
  if (rc != SQLITE_OK) return failed("cannot open " + partial.string() + ": " + sqlite3_errstr(rc));
  // The copy is fsynced once, as a whole, before it is renamed into place; syncing each write
  // of the backup would only make the event loop wait longer.
  sqlite3_exec(copy.get(), "PRAGMA synchronous = OFF", nullptr, nullptr, nullptr);
  // One step copies every page while holding the source's read lock: a single snapshot. The
  // daemon is single-threaded, so no write of ours can interleave.
  sqlite3_backup* backup = sqlite3_backup_init(copy.get(), "main", db.db().getHandle(), "main");
  if (!backup) return failed(std::string("backup could not start: ") + sqlite3_errmsg(copy.get()));
  rc = sqlite3_backup_step(backup, -1);
  out.pages = sqlite3_backup_pagecount(backup);
  sqlite3_backup_finish(backup);
  if (rc != SQLITE_DONE) return failed(std::string("backup failed: ") + sqlite3_errstr(rc));
  // The copy carries the WAL flag of the live file; make it one self-contained file.
  char* message = nullptr;
  rc = sqlite3_exec(copy.get(), "PRAGMA journal_mode = DELETE", nullptr, nullptr, &message);
  if (rc != SQLITE_OK) {
    std::string line = std::string("backup could not be finalised: ") + (message ? message : "");
    sqlite3_free(message);
    return failed(std::move(line));
  }
  copy.reset();
  if (::chmod(partial.c_str(), 0600) != 0 || !fsync_path(partial, O_RDONLY)) {
    return failed("cannot write " + partial.string() + ": " + errno_text(errno));
  }
  fs::rename(partial, dest, ec);
  if (ec) return failed("cannot rename the copy to " + dest.string() + ": " + ec.message());
  guard.release();
  fsync_path(parent, O_RDONLY | O_DIRECTORY);
  out.bytes = static_cast<std::int64_t>(fs::file_size(dest, ec));
  return out;
}

Result<FileCopy> check_backup_file(const fs::path& src) {
  auto checked = open_checked(src);
  if (!checked) return std::move(checked).status();
  return checked->copy;
}

Result<FileCopy> restore_database(SqliteDatabase& db, const fs::path& src) {
  db.flush();
  if (is_live_file(src, db.path())) {
    return Status::error(codes::kBadFile, src.string() + " is the live database itself");
  }
  auto checked = open_checked(src);
  if (!checked) return std::move(checked).status();
  std::unique_ptr<SQLite::Database> file = std::move(checked->file);
  sqlite3* live = db.db().getHandle();
  if (!sqlite3_get_autocommit(live)) {
    return failed("a transaction is open on the live database; try again");
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
      return failed("restore could not convert " + src.string() + " to pages of " +
                    std::to_string(page_size) + " bytes: " + e.getErrorStr() +
                    "; check the free space beside the database");
    }
  }
  db.reset_statements();  // else the backup API would refuse the destination
  sqlite3_backup* backup = sqlite3_backup_init(live, "main", file->getHandle(), "main");
  if (!backup) return failed(std::string("restore could not start: ") + sqlite3_errmsg(live));
  const int rc = sqlite3_backup_step(backup, -1);
  sqlite3_backup_finish(backup);
  if (rc != SQLITE_DONE) {
    return failed(std::string("restore failed, the live database is unchanged: ") +
                  sqlite3_errstr(rc));
  }
  return checked->copy;
}

}  // namespace cb::store
