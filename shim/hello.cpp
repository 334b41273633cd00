#include "shim/hello.h"

#include <sys/stat.h>

#include <climits>
#include <cstdlib>
#include <string_view>

#include "common/json_string.h"

namespace cb::shim {
namespace {

std::string env_value(const Getenv& env, const char* name) {
  const char* v = env(name);
  return v ? std::string(v) : std::string();
}

}  // namespace

std::string git_root(const std::string& dir) {
  std::string d = dir;
  for (;;) {
    struct stat st {};
    if (::lstat(((d == "/" ? "" : d) + "/.git").c_str(), &st) == 0) return d;
    if (d == "/" || d.empty()) return dir;
    const std::size_t slash = d.rfind('/');
    d = slash == 0 || slash == std::string::npos ? "/" : d.substr(0, slash);
  }
}

std::string project_dir(const Getenv& env, const std::string& cwd) {
  const std::string given = env_value(env, "CLAUDE_PROJECT_DIR");
  if (given.empty()) return git_root(cwd);
  char resolved[PATH_MAX];
  if (::realpath(given.c_str(), resolved)) return resolved;
  return given;
}

std::string client_from_env(const Getenv& env) {
  if (env_value(env, "CLAUDECODE") == "1") return "claude-code";
  if (env_value(env, "GEMINI_CLI") == "1") return "gemini-cli";
  return {};
}

Hello hello_from(const Getenv& env, const std::string& cwd, const std::string& agent_flag) {
  Hello h;
  h.session_id = env_value(env, "CLAUDE_CODE_SESSION_ID");
  h.project_dir = project_dir(env, cwd);
  h.agent = agent_flag.empty() ? env_value(env, "CLAUDE_BRIDGE_AGENT") : agent_flag;
  h.client = client_from_env(env);
  return h;
}

std::string hello_line(const Hello& hello) {
  std::string line = R"({"jsonrpc":"2.0","method":")";
  line += kHelloMethod;
  line += R"(","params":{"v":1,"client_pid":)";
  line += std::to_string(hello.client_pid);
  auto add = [&line](std::string_view key, const std::string& value) {
    if (value.empty()) return;
    line += ",\"";
    line += key;
    line += "\":";
    line += json_string(value);
  };
  add("session_id", hello.session_id);
  // Always present: a daemon refuses a hello without one.
  line += ",\"project_dir\":";
  line += json_string(hello.project_dir);
  add("agent", hello.agent);
  add("client", hello.client);
  line += "}}\n";
  return line;
}

}  // namespace cb::shim
