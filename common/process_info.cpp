#include "common/process_info.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "common/fd.h"

namespace cb::proc {
namespace {

// Reads a whole small /proc file (one read is atomic for these, up to a page).
Result<std::string> read_small(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    const int err = errno;
    if (err == ENOENT || err == ESRCH) {
      return Status::error("no_such_process", path + " does not exist: no such process");
    }
    return Status::error("bad_stat", "cannot open " + path + ": " + std::strerror(err));
  }
  std::string text(4096, '\0');
  ssize_t n;
  do {
    n = ::read(fd.get(), text.data(), text.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    const int err = errno;
    if (err == ESRCH) return Status::error("no_such_process", path + ": the process exited");
    return Status::error("bad_stat", "cannot read " + path + ": " + std::strerror(err));
  }
  text.resize(static_cast<std::size_t>(n));
  return text;
}

// The next space-separated field of `rest`, advancing past it.
std::string_view next_field(std::string_view& rest) {
  const std::size_t start = rest.find_first_not_of(' ');
  if (start == std::string_view::npos) {
    rest = {};
    return {};
  }
  rest.remove_prefix(start);
  const std::size_t end = rest.find(' ');
  const std::string_view field = rest.substr(0, end);
  rest.remove_prefix(end == std::string_view::npos ? rest.size() : end);
  return field;
}

template <class T>
bool to_number(std::string_view s, T* out) {
  if (s.empty()) return false;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

}  // namespace

Result<ProcStat> parse_stat(std::string_view text) {
  auto bad = [&](const char* what) {
    return Status::error("bad_stat", std::string("unexpected /proc/PID/stat text: ") + what);
  };
  const std::size_t open = text.find('(');
  const std::size_t close = text.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
    return bad("no (comm)");
  }
  ProcStat st;
  std::string_view head = text.substr(0, open);
  while (!head.empty() && head.back() == ' ') head.remove_suffix(1);
  if (!to_number(head, &st.pid)) return bad("no pid");
  st.comm.assign(text.substr(open + 1, close - open - 1));
  std::string_view rest = text.substr(close + 1);
  while (!rest.empty() && (rest.back() == '\n' || rest.back() == ' ')) rest.remove_suffix(1);
  // Fields 3 onwards; field 22 is the 20th after comm.
  const std::string_view state = next_field(rest);
  if (state.size() != 1) return bad("no state");
  st.state = state[0];
  if (!to_number(next_field(rest), &st.ppid)) return bad("no ppid");
  for (int field = 5; field < 22; ++field) {
    if (next_field(rest).empty()) return bad("too few fields");
  }
  if (!to_number(next_field(rest), &st.start_time)) return bad("no start time");
  return st;
}

Result<ProcStat> read_stat(pid_t pid) {
  if (pid <= 0)
    return Status::error("no_such_process", "pid " + std::to_string(pid) + " is not a process");
  auto text = read_small("/proc/" + std::to_string(pid) + "/stat");
  if (!text.ok()) return std::move(text).status();
  return parse_stat(*text);
}

std::string read_comm(pid_t pid) {
  if (pid <= 0) return {};
  auto text = read_small("/proc/" + std::to_string(pid) + "/comm");
  if (!text.ok()) return {};
  std::string comm = std::move(*text);
  while (!comm.empty() && comm.back() == '\n') comm.pop_back();
  return comm;
}

bool is_running(pid_t pid, std::uint64_t start_time) {
  auto st = read_stat(pid);
  return st.ok() && st->start_time == start_time && st->state != 'Z' && st->state != 'X';
}

std::string host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "localhost";
  return buf;
}

}  // namespace cb::proc
