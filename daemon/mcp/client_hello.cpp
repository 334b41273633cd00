#include "daemon/mcp/client_hello.h"

#include <sys/stat.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "common/one_line.h"
#include "common/process_info.h"

namespace cb::mcp {
namespace {

Status bad(std::string why) { return Status::error("bad_hello", std::move(why)); }

// An optional string member: empty when absent or null; false when of another type or longer
// than `limit`.
bool optional_string(const Json& params, const char* key, std::size_t limit, std::string* out) {
  auto it = params.find(key);
  if (it == params.end() || it->is_null()) return true;
  if (!it->is_string()) return false;
  *out = it->get<std::string>();
  return out->size() <= limit;
}

}  // namespace

Result<ClientHello> verify_hello(const Json& params, const Peer& peer) {
  if (!params.is_object()) return bad("params is not an object");
  const auto v = params.find("v");
  if (v == params.end() || !v->is_number_integer() || v->get<std::int64_t>() != 1) {
    return bad("params.v is not 1 (this daemon understands hello version 1 only)");
  }
  const auto pid = params.find("client_pid");
  if (pid == params.end() || !pid->is_number_integer() || pid->get<std::int64_t>() <= 0 ||
      pid->get<std::int64_t>() > INT_MAX) {
    return bad("client_pid is not a positive process id");
  }
  ClientHello hello;
  hello.client_pid = static_cast<pid_t>(pid->get<std::int64_t>());
  // A shim whose client exited before it started was reparented to init: it serves nobody.
  if (hello.client_pid == 1) return bad("client_pid 1 is init: the shim's client had exited");
  for (auto [key, out] : {std::pair{"session_id", &hello.session_id},
                          std::pair{"agent", &hello.agent}, std::pair{"client", &hello.client}}) {
    if (!optional_string(params, key, kMaxHelloField, out)) {
      return bad(std::string(key) + " is not a string of at most " +
                 std::to_string(kMaxHelloField) + " bytes");
    }
  }
  std::string dir;
  if (!optional_string(params, "project_dir", PATH_MAX, &dir) || dir.empty()) {
    return bad("project_dir is missing (a string naming the client's project directory)");
  }
  if (dir[0] != '/') return bad("project_dir " + one_line(dir) + " is not an absolute path");
  char resolved[PATH_MAX];
  struct stat st {};
  if (!::realpath(dir.c_str(), resolved) || ::stat(resolved, &st) != 0 || !S_ISDIR(st.st_mode)) {
    return bad("project_dir " + one_line(dir) + " is not an existing directory");
  }
  hello.project_dir = resolved;

  // The peer is the shim; its parent must be the client it names. A forged or stale
  // client_pid (another process, a reparented shim) does not match.
  auto shim = proc::read_stat(peer.pid);
  if (!shim.ok()) {
    return bad("cannot read the connecting process (pid " + std::to_string(peer.pid) +
               "): " + shim.status().message());
  }
  if (shim->ppid != hello.client_pid) {
    return bad("client_pid " + std::to_string(hello.client_pid) + " is not the parent of the " +
               "connecting process (pid " + std::to_string(peer.pid) + ", parent " +
               std::to_string(shim->ppid) + ")");
  }
  auto client = proc::read_stat(hello.client_pid);
  if (!client.ok()) {
    return bad("cannot read the client process (pid " + std::to_string(hello.client_pid) +
               "): " + client.status().message());
  }
  // Read again: had the client exited before its stat was read, the shim would have been
  // reparented by then, so an unchanged parent proves the start time is the client's.
  auto again = proc::read_stat(peer.pid);
  if (!again.ok() || again->ppid != hello.client_pid) {
    return bad("the client process (pid " + std::to_string(hello.client_pid) +
               ") exited during the check");
  }
  hello.client_start = client->start_time;
  if (hello.client.empty()) hello.client = proc::read_comm(hello.client_pid);
  return hello;
}

}  // namespace cb::mcp
