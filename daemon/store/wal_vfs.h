#pragma once

#include <cstdint>

struct sqlite3;

// A SQLite VFS over the platform's default one that gathers the write-ahead log's writes of one
// commit into one write(2).
//
// SQLite appends each WAL frame as two writes (a 24-byte header, then the page), so a commit that
// touches eight pages costs sixteen system calls. This VFS keeps the WAL's consecutive writes in a
// buffer and hands them to the real file in one write when the commit frame's page arrives
// (a frame header whose "database size" field is non-zero marks the commit), and before any
// read, sync, truncate, size query, file control or close of the WAL, and whenever a write does
// not continue the buffer. A commit is therefore in the file (the OS page cache) before SQLite
// returns from it, exactly as without the VFS; a crash before that loses only an uncommitted
// transaction, which SQLite ignores anyway. The main database file and every other file are
// the default VFS's own, untouched.
namespace cb::store::wal_vfs {

// Registers the VFS with SQLite (once; thread-safe) and returns its name, for sqlite3_open_v2.
const char* name();

// Hands whatever the WAL of `db`'s schema `schema` holds to the file (a no-op for a
// connection on another VFS). The daemon calls it from its WAL hook after every commit: the
// commit-frame rule above covers ordinary commits, this covers a commit whose last write is a
// rewritten frame header (SQLite rewrites checksums after a transaction spilled pages).
// Known gap: if that write fails (a disk error at that very moment after a spilled, > cache
// size, transaction), SQLite has already counted the commit in memory while the caller is told
// it failed.
int flush_wal(sqlite3* db, const char* schema);

// Deferred commits (synchronous = "full" with BackgroundSync, see group_commit.cpp): between
// begin_deferred_commit() and end_sync_window() the WAL's syncs write out its buffer but do
// not wait for the disk; end_deferred_commit() then returns a descriptor of the WAL file that
// the caller must fdatasync before it tells anyone the commit happened (-1 when no sync was
// skipped). The window covers the COMMIT's own syncs (its frames and, after a WAL restart, the
// header) and nothing else: the WAL hook closes it before it checkpoints, so a checkpoint's
// syncs (WAL before the database file is written, then the database file) stay in place.
// begin_deferred_commit() is false, and nothing is deferred, when the WAL is not this VFS's
// or has no descriptor to sync through.
bool begin_deferred_commit(sqlite3* db);
void end_sync_window(sqlite3* db);
int end_deferred_commit(sqlite3* db);
// The WAL's descriptor for syncing (-1 when there is none), and a sync in place (an SQLite
// result code) for the first use, which also makes the WAL's directory entry durable.
int sync_fd(sqlite3* db);
int sync_in_place(sqlite3* db);

// What the VFS did since the process started (tests and benchmarks read it).
struct Stats {
  std::uint64_t wal_writes_in = 0;   // writes SQLite made to WAL files
  std::uint64_t wal_writes_out = 0;  // writes handed to the real files
};
Stats stats();

}  // namespace cb::store::wal_vfs
