// common/process_info.h: /proc/PID/stat read right, whatever a process calls itself.
#include "common/process_info.h"

#include <doctest/doctest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>

using namespace cb;

namespace {

// A child that names itself `name` (prctl), tells the parent through a pipe, then waits to be
// killed. Returns its pid.
pid_t spawn_named(const char* name) {
  int p[2];
  REQUIRE(::pipe(p) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::prctl(PR_SET_NAME, name, 0, 0, 0);
    (void)!::write(p[1], "x", 1);
    for (;;) ::pause();
  }
  ::close(p[1]);
  char c;
  REQUIRE(::read(p[0], &c, 1) == 1);
  ::close(p[0]);
  return child;
}

void reap(pid_t child) {
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
}

}  // namespace

TEST_CASE("parse_stat: comm ends at the last ')', spaces and parentheses in it included") {
  const std::string text =
      "4242 (a) b (c)) S 17 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 "
      "200 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
  auto st = proc::parse_stat(text);
  REQUIRE(st.ok());
  CHECK(st->pid == 4242);
  CHECK(st->comm == "a) b (c)");
  CHECK(st->state == 'S');
  CHECK(st->ppid == 17);
  CHECK(st->start_time == 987654);
}

TEST_CASE("parse_stat refuses text of another shape") {
  for (const char* text : {"", "12 noparen S 1", "12 (x) S", "12 (x) S 1 2 3", "x (y) S 1 2",
                           "12 (x) S abc 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19"}) {
    CAPTURE(text);
    auto st = proc::parse_stat(text);
    REQUIRE(!st.ok());
    CHECK(st.status().code() == "bad_stat");
  }
}

TEST_CASE("a real child: its parent is this test, its start time identifies it") {
  const pid_t child = spawn_named("a) b (c");  // 15 bytes at most: the kernel's limit
  auto st = proc::read_stat(child);
  REQUIRE(st.ok());
  CHECK(st->pid == child);
  CHECK(st->comm == "a) b (c");
  CHECK(st->ppid == ::getpid());
  CHECK(st->start_time > 0);
  CHECK(proc::read_comm(child) == "a) b (c");
  CHECK(proc::is_running(child, st->start_time));
  CHECK_FALSE(proc::is_running(child, st->start_time + 1));  // a PID reused by another process
  auto self = proc::read_stat(::getpid());
  REQUIRE(self.ok());
  CHECK(self->ppid == ::getppid());
  CHECK(self->start_time <= st->start_time);
  reap(child);
  // Gone (and reaped): no such process, not running.
  auto gone = proc::read_stat(child);
  REQUIRE(!gone.ok());
  CHECK(gone.status().code() == "no_such_process");
  CHECK_FALSE(proc::is_running(child, st->start_time));
  CHECK(proc::read_comm(child).empty());
}

TEST_CASE("a zombie is not running; pids that cannot be processes are refused") {
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) ::_exit(0);
  // Not reaped yet: a zombie until waitpid.
  proc::ProcStat st;
  for (;;) {
    auto s = proc::read_stat(child);
    REQUIRE(s.ok());
    if (s->state == 'Z') {
      st = *s;
      break;
    }
    ::usleep(1000);  // polls the child's exit, no timed assertion
  }
  CHECK_FALSE(proc::is_running(child, st.start_time));
  int status = 0;
  ::waitpid(child, &status, 0);
  for (pid_t pid : {0, -1, -42}) {
    auto s = proc::read_stat(pid);
    REQUIRE(!s.ok());
    CHECK(s.status().code() == "no_such_process");
  }
}
