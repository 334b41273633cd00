// floor-bench: what this machine can do at best for the two things a durable send needs — a
// Unix-socket round trip between two processes and one small SQLite WAL commit — so that
// bridge-bench's figures can be read against them (docs/benchmarks.md).
//
//   floor-bench [--rounds N] [--dir DIR]
//
// Prints one JSON object: rtt_p50_us / rtt_p99_us (a 200-byte ping-pong over a socketpair
// with a forked echo process, blocking read/write), commit_p50_us / commit_p99_us (BEGIN
// IMMEDIATE; INSERT of a 200-byte row; COMMIT in WAL mode, synchronous=NORMAL, default
// locking) and commit_exclusive_p50_us / _p99_us (the same with locking_mode=EXCLUSIVE).
#include <sqlite3.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))];
}

double micros(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::micro>(b - a).count();
}

std::vector<double> socket_rtt(int rounds) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
    std::perror("socketpair");
    std::exit(1);
  }
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(sv[0]);
    char buf[512];
    for (;;) {
      const ssize_t n = ::read(sv[1], buf, sizeof buf);
      if (n <= 0 || ::write(sv[1], buf, static_cast<std::size_t>(n)) != n) ::_exit(0);
    }
  }
  ::close(sv[1]);
  char buf[200];
  std::memset(buf, 'x', sizeof buf);
  std::vector<double> out;
  out.reserve(static_cast<std::size_t>(rounds));
  for (int i = 0; i < rounds; ++i) {
    const auto t = Clock::now();
    std::size_t got = 0;
    if (::write(sv[0], buf, sizeof buf) != static_cast<ssize_t>(sizeof buf)) break;
    while (got < sizeof buf) {
      const ssize_t n = ::read(sv[0], buf + got, sizeof buf - got);
      if (n <= 0) break;
      got += static_cast<std::size_t>(n);
    }
    out.push_back(micros(t, Clock::now()));
  }
  ::close(sv[0]);
  ::waitpid(pid, nullptr, 0);
  return out;
}

void exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::fprintf(stderr, "floor-bench: %s: %s\n", sql, err ? err : "?");
    std::exit(1);
  }
}

std::vector<double> wal_commits(const std::string& dir, int rounds, bool exclusive) {
  const std::string path = dir + "/floor-bench.db";
  for (const char* suffix : {"", "-wal", "-shm"}) ::unlink((path + suffix).c_str());
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
    std::fprintf(stderr, "floor-bench: cannot open %s\n", path.c_str());
    std::exit(1);
  }
  if (exclusive) exec(db, "PRAGMA locking_mode = EXCLUSIVE");
  exec(db, "PRAGMA journal_mode = WAL");
  exec(db, "PRAGMA synchronous = NORMAL");
  exec(db, "CREATE TABLE m (id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
  sqlite3_stmt* insert = nullptr;
  sqlite3_prepare_v2(db, "INSERT INTO m (body) VALUES (?)", -1, &insert, nullptr);
  const std::string body(200, 'x');
  std::vector<double> out;
  out.reserve(static_cast<std::size_t>(rounds));
  for (int i = 0; i < rounds; ++i) {
    const auto t = Clock::now();
    exec(db, "BEGIN IMMEDIATE");
    sqlite3_bind_text(insert, 1, body.data(), static_cast<int>(body.size()), SQLITE_STATIC);
    sqlite3_step(insert);
    sqlite3_reset(insert);
    exec(db, "COMMIT");
    out.push_back(micros(t, Clock::now()));
  }
  sqlite3_finalize(insert);
  sqlite3_close(db);
  for (const char* suffix : {"", "-wal", "-shm"}) ::unlink((path + suffix).c_str());
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = 20000;
  std::string dir = std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--rounds" && i + 1 < argc) {
      rounds = std::max(100, std::atoi(argv[++i]));
    } else if (a == "--dir" && i + 1 < argc) {
      dir = argv[++i];
    } else if (a == "--help") {
      std::puts("usage: floor-bench [--rounds N] [--dir DIR]  (prints one JSON object)");
      return 0;
    } else {
      std::fprintf(stderr, "floor-bench: unknown argument %s; see --help\n", a.c_str());
      return 2;
    }
  }
  const auto rtt = socket_rtt(rounds);
  const auto commit = wal_commits(dir, rounds, false);
  const auto exclusive = wal_commits(dir, rounds, true);
  std::printf(
      "{\"rounds\": %d, \"rtt_p50_us\": %.1f, \"rtt_p99_us\": %.1f, \"commit_p50_us\": %.1f, "
      "\"commit_p99_us\": %.1f, \"commit_exclusive_p50_us\": %.1f, "
      "\"commit_exclusive_p99_us\": %.1f}\n",
      rounds, percentile(rtt, 0.5), percentile(rtt, 0.99), percentile(commit, 0.5),
      percentile(commit, 0.99), percentile(exclusive, 0.5), percentile(exclusive, 0.99));
  return 0;
}
