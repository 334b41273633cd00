#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

// What /proc says about a process (Linux): its parent and start time, to tell who launched a
// shim and to recognise that process later even after its PID is reused.
namespace cb::proc {

struct ProcStat {
  pid_t pid = -1;
  std::string comm;              // field 2 without its parentheses (may hold spaces and ')')
  char state = '?';              // field 3: R, S, D, Z, …
  pid_t ppid = -1;               // field 4
  std::uint64_t start_time = 0;  // field 22: clock ticks after boot
};

// Parses the text of /proc/PID/stat. comm is whatever the process named itself (up to 15 bytes,
// any of them spaces or parentheses), so it ends at the *last* ')'. Fails (code bad_stat) on
// text that does not have that shape.
Result<ProcStat> parse_stat(std::string_view text);

// Reads and parses /proc/PID/stat. Code no_such_process when the process is gone (or never
// was), bad_stat when the file cannot be read or parsed.
Result<ProcStat> read_stat(pid_t pid);

// This machine's name (gethostname), or "localhost" when it has none: the host a daemon's
// agents are shown on (issue 27).
std::string host_name();

// /proc/PID/comm without its newline; empty when unreadable.
std::string read_comm(pid_t pid);

// True when `pid` is a live process (not a zombie) that started at `start_time`: the same
// process, not another that got its PID after it exited.
bool is_running(pid_t pid, std::uint64_t start_time);

}  // namespace cb::proc
