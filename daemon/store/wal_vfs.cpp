// The WAL-gathering VFS (see wal_vfs.h). Everything but the WAL file is the default VFS's.
#include "daemon/store/wal_vfs.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <new>
#include <string>

namespace cb::store::wal_vfs {
namespace {

constexpr int kWalHeaderSize = 32;
constexpr int kFrameHeaderSize = 24;
// The unix VFS writes at most 0x1ffff bytes per call (os_unix.c masks the length to 17 bits),
// so the buffer is handed over before it would grow past that: it never reallocates (its
// capacity is reserved once; growing and freeing large buffers per commit made the allocator
// map and fault in fresh pages every time), and a big transaction costs one write per 128 KiB.
constexpr std::size_t kMaxWrite = 0x1ffff;

std::atomic<std::uint64_t> g_writes_in{0};
std::atomic<std::uint64_t> g_writes_out{0};
sqlite3_vfs* g_base = nullptr;
sqlite3_vfs g_vfs;

// The WAL file as SQLite sees it; the default VFS's file lives in the same allocation, right
// after it (g_vfs.szOsFile covers both).
struct WalFile {
  sqlite3_file base;  // first: SQLite casts the allocation to sqlite3_file
  sqlite3_file* real = nullptr;
  std::string buffer;
  sqlite3_int64 buffer_offset = 0;
  bool commit_frame_pending = false;
  // A descriptor of the same file for BackgroundSync's thread (-1: none; syncs stay in place).
  int sync_fd = -1;
  // Inside a deferred commit (see wal_vfs.h): syncs write the buffer but leave the disk alone.
  bool defer_sync = false;
  bool sync_skipped = false;
};

WalFile* wal(sqlite3_file* f) { return reinterpret_cast<WalFile*>(f); }
const sqlite3_io_methods& real_methods(WalFile* w) { return *w->real->pMethods; }

int flush(WalFile* w) {
  w->commit_frame_pending = false;
  if (w->buffer.empty()) return SQLITE_OK;
  g_writes_out.fetch_add(1, std::memory_order_relaxed);
  const int rc = real_methods(w).xWrite(w->real, w->buffer.data(),
                                        static_cast<int>(w->buffer.size()), w->buffer_offset);
  // On failure the frames are dropped: SQLite fails the commit, and frames past the last
  // good commit are never read back.
  w->buffer.clear();
  return rc;
}

std::uint32_t big_endian_u32(const unsigned char* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

int x_close(sqlite3_file* f) {
  WalFile* w = wal(f);
  const int flushed = flush(w);
  const int closed = real_methods(w).xClose(w->real);
  if (w->sync_fd >= 0) ::close(w->sync_fd);
  w->~WalFile();
  return flushed != SQLITE_OK ? flushed : closed;
}

int x_read(sqlite3_file* f, void* out, int amount, sqlite3_int64 offset) {
  WalFile* w = wal(f);
  if (int rc = flush(w); rc != SQLITE_OK) return rc;
  return real_methods(w).xRead(w->real, out, amount, offset);
}

int x_write(sqlite3_file* f, const void* data, int amount, sqlite3_int64 offset) {
  WalFile* w = wal(f);
  g_writes_in.fetch_add(1, std::memory_order_relaxed);
  const bool commit_page = w->commit_frame_pending;
  w->commit_frame_pending = false;
  if (!w->buffer.empty() &&
      (offset != w->buffer_offset + static_cast<sqlite3_int64>(w->buffer.size()) ||
       w->buffer.size() + static_cast<std::size_t>(amount) > kMaxWrite)) {
    // (SQLite's WAL writes are a header or a page: at most 64 KiB, always under kMaxWrite.)
    if (int rc = flush(w); rc != SQLITE_OK) return rc;
  }
  if (w->buffer.empty()) w->buffer_offset = offset;
  w->buffer.append(static_cast<const char*>(data), static_cast<std::size_t>(amount));
  if (amount == kFrameHeaderSize && offset >= kWalHeaderSize) {
    // A frame header; bytes 4..7 are the database size after commit, non-zero only on the
    // transaction's last frame. Its page is the next write: the commit's last byte.
    w->commit_frame_pending =
        big_endian_u32(static_cast<const unsigned char*>(data) + 4) != 0;
    return SQLITE_OK;
  }
  if (commit_page) return flush(w);
  return SQLITE_OK;
}

int x_truncate(sqlite3_file* f, sqlite3_int64 size) {
  WalFile* w = wal(f);
  if (int rc = flush(w); rc != SQLITE_OK) return rc;
  return real_methods(w).xTruncate(w->real, size);
}

int x_sync(sqlite3_file* f, int flags) {
  WalFile* w = wal(f);
  if (int rc = flush(w); rc != SQLITE_OK) return rc;
  if (w->defer_sync) {
    w->sync_skipped = true;  // the caller syncs sync_fd before it tells anyone
    return SQLITE_OK;
  }
  return real_methods(w).xSync(w->real, flags);
}

int x_file_size(sqlite3_file* f, sqlite3_int64* size) {
  WalFile* w = wal(f);
  if (int rc = flush(w); rc != SQLITE_OK) return rc;
  return real_methods(w).xFileSize(w->real, size);
}

int x_lock(sqlite3_file* f, int level) {
  WalFile* w = wal(f);
  return real_methods(w).xLock(w->real, level);
}

int x_unlock(sqlite3_file* f, int level) {
  WalFile* w = wal(f);
  return real_methods(w).xUnlock(w->real, level);
}

int x_check_reserved_lock(sqlite3_file* f, int* out) {
  WalFile* w = wal(f);
  return real_methods(w).xCheckReservedLock(w->real, out);
}

int x_file_control(sqlite3_file* f, int op, void* arg) {
  WalFile* w = wal(f);
  if (int rc = flush(w); rc != SQLITE_OK) return rc;
  return real_methods(w).xFileControl(w->real, op, arg);
}

int x_sector_size(sqlite3_file* f) {
  WalFile* w = wal(f);
  return real_methods(w).xSectorSize(w->real);
}

int x_device_characteristics(sqlite3_file* f) {
  WalFile* w = wal(f);
  return real_methods(w).xDeviceCharacteristics(w->real);
}

// SQLite keeps the wal-index (shared memory) on the main database file, never on the WAL, and
// maps only the main file; these are here because version 3 of the methods has them.
int x_shm_map(sqlite3_file* f, int region, int size, int extend, void volatile** out) {
  WalFile* w = wal(f);
  if (real_methods(w).iVersion < 2) return SQLITE_IOERR_SHMMAP;
  return real_methods(w).xShmMap(w->real, region, size, extend, out);
}

int x_shm_lock(sqlite3_file* f, int offset, int n, int flags) {
  WalFile* w = wal(f);
  if (real_methods(w).iVersion < 2) return SQLITE_IOERR_SHMLOCK;
  return real_methods(w).xShmLock(w->real, offset, n, flags);
}

void x_shm_barrier(sqlite3_file* f) {
  WalFile* w = wal(f);
  if (real_methods(w).iVersion >= 2) real_methods(w).xShmBarrier(w->real);
}

int x_shm_unmap(sqlite3_file* f, int delete_flag) {
  WalFile* w = wal(f);
  if (real_methods(w).iVersion < 2) return SQLITE_OK;
  return real_methods(w).xShmUnmap(w->real, delete_flag);
}

int x_fetch(sqlite3_file* f, sqlite3_int64 offset, int amount, void** out) {
  WalFile* w = wal(f);
  *out = nullptr;
  if (real_methods(w).iVersion < 3) return SQLITE_OK;
  if (int rc = flush(w); rc != SQLITE_OK) return rc;
  return real_methods(w).xFetch(w->real, offset, amount, out);
}

int x_unfetch(sqlite3_file* f, sqlite3_int64 offset, void* p) {
  WalFile* w = wal(f);
  if (real_methods(w).iVersion < 3) return SQLITE_OK;
  return real_methods(w).xUnfetch(w->real, offset, p);
}

const sqlite3_io_methods kWalMethods = {
    3,          x_close,       x_read,           x_write,
    x_truncate, x_sync,        x_file_size,      x_lock,
    x_unlock,   x_check_reserved_lock, x_file_control, x_sector_size,
    x_device_characteristics, x_shm_map, x_shm_lock, x_shm_barrier,
    x_shm_unmap, x_fetch,      x_unfetch,
};

int x_open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
  if ((flags & SQLITE_OPEN_WAL) == 0) {
    // Not the WAL: the default VFS's file, in place (the allocation is large enough).
    return g_base->xOpen(g_base, name, file, flags, out_flags);
  }
  auto* w = new (file) WalFile();
  w->base.pMethods = nullptr;
  w->buffer.reserve(kMaxWrite);
  w->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(file) + sizeof(WalFile));
  const int rc = g_base->xOpen(g_base, name, w->real, flags, out_flags);
  if (rc != SQLITE_OK) {
    // SQLite closes a file only when its pMethods is set; a failed open must leave it null.
    if (w->real->pMethods != nullptr) w->real->pMethods->xClose(w->real);
    w->~WalFile();
    file->pMethods = nullptr;
    return rc;
  }
  w->base.pMethods = &kWalMethods;
  // For BackgroundSync: fdatasync works on any descriptor of the file. Without one, every sync
  // simply stays where SQLite makes it.
  if (name != nullptr) w->sync_fd = ::open(name, O_RDONLY | O_CLOEXEC);
  return SQLITE_OK;
}

// Every other VFS method is the default VFS's.
int x_delete(sqlite3_vfs*, const char* name, int sync_dir) {
  return g_base->xDelete(g_base, name, sync_dir);
}
int x_access(sqlite3_vfs*, const char* name, int flags, int* out) {
  return g_base->xAccess(g_base, name, flags, out);
}
int x_full_pathname(sqlite3_vfs*, const char* name, int n, char* out) {
  return g_base->xFullPathname(g_base, name, n, out);
}
void* x_dl_open(sqlite3_vfs*, const char* path) { return g_base->xDlOpen(g_base, path); }
void x_dl_error(sqlite3_vfs*, int n, char* out) { g_base->xDlError(g_base, n, out); }
void (*x_dl_sym(sqlite3_vfs*, void* h, const char* sym))(void) {
  return g_base->xDlSym(g_base, h, sym);
}
void x_dl_close(sqlite3_vfs*, void* h) { g_base->xDlClose(g_base, h); }
int x_randomness(sqlite3_vfs*, int n, char* out) { return g_base->xRandomness(g_base, n, out); }
int x_sleep(sqlite3_vfs*, int us) { return g_base->xSleep(g_base, us); }
int x_current_time(sqlite3_vfs*, double* out) { return g_base->xCurrentTime(g_base, out); }
int x_get_last_error(sqlite3_vfs*, int n, char* out) {
  return g_base->xGetLastError(g_base, n, out);
}
int x_current_time_int64(sqlite3_vfs*, sqlite3_int64* out) {
  return g_base->xCurrentTimeInt64(g_base, out);
}
int x_set_system_call(sqlite3_vfs*, const char* name, sqlite3_syscall_ptr p) {
  return g_base->xSetSystemCall(g_base, name, p);
}
sqlite3_syscall_ptr x_get_system_call(sqlite3_vfs*, const char* name) {
  return g_base->xGetSystemCall(g_base, name);
}
const char* x_next_system_call(sqlite3_vfs*, const char* name) {
  return g_base->xNextSystemCall(g_base, name);
}

constexpr const char* kName = "cb-wal-gather";

}  // namespace

const char* name() {
  static std::once_flag once;
  std::call_once(once, [] {
    g_base = sqlite3_vfs_find(nullptr);
    std::memset(&g_vfs, 0, sizeof g_vfs);
    g_vfs.iVersion = 2;
    g_vfs.szOsFile = static_cast<int>(sizeof(WalFile)) + g_base->szOsFile;
    g_vfs.mxPathname = g_base->mxPathname;
    g_vfs.zName = kName;
    g_vfs.xOpen = x_open;
    g_vfs.xDelete = x_delete;
    g_vfs.xAccess = x_access;
    g_vfs.xFullPathname = x_full_pathname;
    g_vfs.xDlOpen = x_dl_open;
    g_vfs.xDlError = x_dl_error;
    g_vfs.xDlSym = x_dl_sym;
    g_vfs.xDlClose = x_dl_close;
    g_vfs.xRandomness = x_randomness;
    g_vfs.xSleep = x_sleep;
    g_vfs.xCurrentTime = x_current_time;
    g_vfs.xGetLastError = x_get_last_error;
    g_vfs.xCurrentTimeInt64 = x_current_time_int64;
    if (g_base->iVersion >= 3) {
      g_vfs.iVersion = 3;
      g_vfs.xSetSystemCall = x_set_system_call;
      g_vfs.xGetSystemCall = x_get_system_call;
      g_vfs.xNextSystemCall = x_next_system_call;
    }
    sqlite3_vfs_register(&g_vfs, 0);
  });
  return kName;
}

int flush_wal(sqlite3* db, const char* schema) {
  sqlite3_file* file = nullptr;
  if (sqlite3_file_control(db, schema, SQLITE_FCNTL_JOURNAL_POINTER, &file) != SQLITE_OK ||
      file == nullptr || file->pMethods != &kWalMethods) {
    return SQLITE_OK;
  }
  return flush(wal(file));
}

namespace {

WalFile* wal_of(sqlite3* db) {
  sqlite3_file* file = nullptr;
  if (sqlite3_file_control(db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &file) != SQLITE_OK ||
      file == nullptr || file->pMethods != &kWalMethods) {
    return nullptr;
  }
  return wal(file);
}

}  // namespace

bool begin_deferred_commit(sqlite3* db) {
  WalFile* w = wal_of(db);
  if (w == nullptr || w->sync_fd < 0) return false;
  w->defer_sync = true;
  w->sync_skipped = false;
  return true;
}

void end_sync_window(sqlite3* db) {
  if (WalFile* w = wal_of(db)) w->defer_sync = false;
}

int end_deferred_commit(sqlite3* db) {
  WalFile* w = wal_of(db);
  if (w == nullptr) return -1;
  w->defer_sync = false;
  const bool skipped = w->sync_skipped;
  w->sync_skipped = false;
  return skipped ? w->sync_fd : -1;
}

int sync_fd(sqlite3* db) {
  WalFile* w = wal_of(db);
  return w == nullptr ? -1 : w->sync_fd;
}

int sync_in_place(sqlite3* db) {
  WalFile* w = wal_of(db);
  if (w == nullptr) return SQLITE_OK;
  if (int rc = flush(w); rc != SQLITE_OK) return rc;
  return real_methods(w).xSync(w->real, SQLITE_SYNC_FULL);
}

Stats stats() {
  return {g_writes_in.load(std::memory_order_relaxed), g_writes_out.load(std::memory_order_relaxed)};
}

}  // namespace cb::store::wal_vfs
