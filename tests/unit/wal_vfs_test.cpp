// The WAL-gathering VFS (daemon/store/wal_vfs.h) on real files in a temp dir: one write per
// commit, transactions larger than one write, and commits that survive a crash right after
// COMMIT returns (a child process that _exits without closing the database).
#include <doctest/doctest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "daemon/store/sqlite_database.h"
#include "tests/unit/temp_dir.h"
#include "daemon/store/wal_vfs.h"

using namespace cb;
namespace fs = std::filesystem;

namespace {

std::unique_ptr<store::SqliteDatabase> open_db(const fs::path& file) {
  auto db = store::SqliteDatabase::open(file, store::Synchronous::kNormal).value();
  db->db().exec("CREATE TABLE IF NOT EXISTS t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)");
  db->db().exec("CREATE INDEX IF NOT EXISTS t_by_v ON t(v)");
  return db;
}

void insert(store::SqliteDatabase& db, int k, const std::string& v) {
  auto& q = db.stmt("INSERT INTO t (k, v) VALUES (?, ?)");
  q.bind(1, k);
  q.bind(2, v);
  q.exec();
}

std::string payload(int k, std::size_t size) {
  std::string s = std::to_string(k) + ":";
  while (s.size() < size)
    s += static_cast<char>('a' + (s.size() * 7 + static_cast<std::size_t>(k)) % 26);
  return s;
}

// Runs `body` in a child process that ends with _exit(0) — no destructors, no close, as if
// killed right after its last statement returned. Returns the child's exit status.
template <typename Body>
int in_child(Body body) {
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    try {
      body();
    } catch (...) {
      ::_exit(3);
    }
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

}  // namespace

TEST_CASE("the daemon's database is on the WAL-gathering VFS, in exclusive locking mode") {
  TempDir dir{"cb-walvfs"};
  auto db = open_db(dir.path / "a.db");
  sqlite3_vfs* vfs = nullptr;
  REQUIRE(sqlite3_file_control(db->db().getHandle(), "main", SQLITE_FCNTL_VFS_POINTER, &vfs) ==
          SQLITE_OK);
  REQUIRE(vfs != nullptr);
  CHECK(std::string(vfs->zName) == store::wal_vfs::name());
  CHECK(db->db().execAndGet("PRAGMA locking_mode").getString() == "exclusive");
  CHECK(db->db().execAndGet("PRAGMA journal_mode").getString() == "wal");
  // No shared-memory WAL index in exclusive mode.
  insert(*db, 1, "x");
  CHECK_FALSE(fs::exists(dir.path / "a.db-shm"));
}

TEST_CASE("each commit reaches the WAL in one write") {
  TempDir dir{"cb-walvfs"};
  auto db = open_db(dir.path / "a.db");
  insert(*db, 0, "warm-up");  // the WAL header and first frames
  const auto before = store::wal_vfs::stats();
  constexpr int kCommits = 20;
  for (int k = 1; k <= kCommits; ++k) {
    store::WriteTransaction tx(*db);
    insert(*db, k, payload(k, 3000));  // a table page and an index page at least
    tx.commit();
  }
  const auto after = store::wal_vfs::stats();
  // SQLite writes a header and a page per frame: at least four writes per commit here.
  CHECK(after.wal_writes_in - before.wal_writes_in >= 4 * kCommits);
  CHECK(after.wal_writes_out - before.wal_writes_out == kCommits);
  db.reset();
  auto again = open_db(dir.path / "a.db");
  CHECK(again->db().execAndGet("SELECT COUNT(*) FROM t").getInt() == kCommits + 1);
  CHECK(again->integrity_check() == "ok");
}

TEST_CASE("a transaction larger than one write of the default VFS is stored whole") {
  // os_unix.c writes at most 0x1ffff bytes per call; a bigger buffer must go out in pieces.
  TempDir dir{"cb-walvfs"};
  {
    auto db = open_db(dir.path / "a.db");
    store::WriteTransaction tx(*db);
    for (int k = 0; k < 100; ++k) insert(*db, k, payload(k, 3000));  // ~600 KiB of frames
    insert(*db, 1000, payload(1000, 1 << 20));                       // and a 1 MiB row
    tx.commit();
  }
  auto db = open_db(dir.path / "a.db");
  CHECK(db->db().execAndGet("SELECT COUNT(*) FROM t").getInt() == 101);
  CHECK(db->db().execAndGet("SELECT length(v) FROM t WHERE k = 1000").getInt() == (1 << 20));
  CHECK(db->db().execAndGet("SELECT v FROM t WHERE k = 42").getString() == payload(42, 3000));
  CHECK(db->integrity_check() == "ok");
}

TEST_CASE("a commit survives the process dying right after COMMIT returns") {
  TempDir dir{"cb-walvfs"};
  const fs::path file = dir.path / "a.db";
  { open_db(file); }
  const int status = in_child([&] {
    auto db = open_db(file).release();  // never destroyed: no close, no flush on close
    for (int k = 0; k < 50; ++k) {
      store::WriteTransaction tx(*db);
      insert(*db, k, payload(k, 500));
      tx.commit();
    }
  });
  REQUIRE(status == 0);
  auto db = open_db(file);
  CHECK(db->db().execAndGet("SELECT COUNT(*) FROM t").getInt() == 50);
  CHECK(db->integrity_check() == "ok");
}

TEST_CASE("a commit whose pages spilled mid-transaction survives a crash (checksum rewrite)") {
  // With a tiny page cache SQLite writes pages to the WAL before COMMIT and, when such a page
  // changes again, overwrites its frame and rewrites the checksums of every later frame after
  // the commit frame: the commit's last write is then a frame header, which only the WAL hook's
  // flush hands to the file.
  TempDir dir{"cb-walvfs"};
  const fs::path file = dir.path / "a.db";
  { open_db(file); }
  const int status = in_child([&] {
    auto db = open_db(file).release();
    db->db().exec("PRAGMA cache_size = 4");
    store::WriteTransaction tx(*db);
    for (int k = 0; k < 400; ++k) insert(*db, k, payload(k, 900));
    db->db().exec("UPDATE t SET v = v || '!' WHERE k % 7 = 0");
    tx.commit();
  });
  REQUIRE(status == 0);
  auto db = open_db(file);
  CHECK(db->db().execAndGet("SELECT COUNT(*) FROM t").getInt() == 400);
  CHECK(db->db().execAndGet("SELECT COUNT(*) FROM t WHERE v LIKE '%!'").getInt() == 58);
  CHECK(db->integrity_check() == "ok");
}

TEST_CASE("an uncommitted transaction of a dead process leaves nothing behind") {
  TempDir dir{"cb-walvfs"};
  const fs::path file = dir.path / "a.db";
  {
    auto db = open_db(file);
    insert(*db, 0, "kept");
  }
  const int status = in_child([&] {
    auto db = open_db(file).release();
    db->db().exec("PRAGMA cache_size = 4");
    db->db().exec("BEGIN IMMEDIATE");
    for (int k = 1; k < 400; ++k) insert(*db, k, payload(k, 900));  // spills frames
  });
  REQUIRE(status == 0);
  auto db = open_db(file);
  CHECK(db->db().execAndGet("SELECT COUNT(*) FROM t").getInt() == 1);
  CHECK(db->integrity_check() == "ok");
}
