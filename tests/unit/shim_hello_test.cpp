// The hello line the shim writes first on every connection (shim/hello.h), its JSON string
// escaping (common/json_string.h) and its place before the replayed handshake (shim/relay.h).
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "common/json_string.h"
#include "shim/hello.h"
#include "shim/relay.h"
#include "temp_dir.h"

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

struct Env {
  std::map<std::string, std::string> vars;
  cb::shim::Getenv get() const {
    return [this](const char* name) -> const char* {
      auto it = vars.find(name);
      return it == vars.end() ? nullptr : it->second.c_str();
    };
  }
};

// `s` with every byte that is not part of well-formed UTF-8 replaced by U+FFFD, judged by
// nlohmann's own validator one code point at a time.
std::string expected_text(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    bool matched = false;
    for (std::size_t len = 1; len <= 4 && i + len <= s.size(); ++len) {
      try {
        (void)json(s.substr(i, len)).dump();
        out += s.substr(i, len);
        i += len;
        matched = true;
        break;
      } catch (const json::type_error&) {
      }
    }
    if (!matched) {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

}  // namespace

TEST_CASE("json_string escapes quotes, backslashes and controls and replaces bad UTF-8") {
  CHECK(cb::json_string("") == R"("")");
  CHECK(cb::json_string(R"(a "b" \c)") == R"("a \"b\" \\c")");
  CHECK(cb::json_string(std::string("\n\r\t\b\f\x01\x1f\x7f", 8)) ==
        "\"\\n\\r\\t\\b\\f\\u0001\\u001f\x7f\"");
  CHECK(cb::json_string(std::string("nul\0end", 7)) == R"("nul\u0000end")");
  CHECK(cb::json_string("caf\xC3\xA9 \xE2\x80\xA8 \xF0\x9F\x98\x80") ==
        "\"caf\xC3\xA9 \xE2\x80\xA8 \xF0\x9F\x98\x80\"");  // well-formed UTF-8 unchanged
  CHECK(cb::json_string("\xFF") == R"("\ufffd")");
  CHECK(cb::json_string("\xC0\xAF") == R"("\ufffd\ufffd")");            // overlong '/'
  CHECK(cb::json_string("\xED\xA0\x80") == R"("\ufffd\ufffd\ufffd")");  // a surrogate
  CHECK(cb::json_string("a\xE2\x82") == R"("a\ufffd\ufffd")");          // cut sequence
}

TEST_CASE("json_string: 20,000 random byte strings all parse back, as text with U+FFFD") {
  std::mt19937 rng(23);
  const std::string alphabet = std::string("\"\\/ab\n\t\x01\x7f", 10) +
                               "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xED\xA0\x80\xC0\xFF\x80";
  for (int n = 0; n < 20000; ++n) {
    std::string s;
    const std::size_t len = rng() % 24;
    for (std::size_t i = 0; i < len; ++i) {
      s.push_back(rng() % 4 == 0 ? static_cast<char>(rng() % 256)
                                 : alphabet[rng() % alphabet.size()]);
    }
    const std::string quoted = cb::json_string(s);
    CAPTURE(quoted);
    json parsed;
    REQUIRE_NOTHROW(parsed = json::parse(quoted));
    REQUIRE(parsed.is_string());
    CHECK(parsed.get<std::string>() == expected_text(s));
  }
}

TEST_CASE("git_root: the nearest directory holding .git, a file (worktree) or a directory") {
  TempDir t("cb-hello");
  const std::string root = fs::canonical(t.path).string();
  fs::create_directories(root + "/repo/.git");
  fs::create_directories(root + "/repo/src/deep/er");
  fs::create_directories(root + "/repo/wt/sub");
  std::ofstream(root + "/repo/wt/.git") << "gitdir: ../.git/worktrees/wt\n";
  CHECK(cb::shim::git_root(root + "/repo") == root + "/repo");
  CHECK(cb::shim::git_root(root + "/repo/src/deep/er") == root + "/repo");
  CHECK(cb::shim::git_root(root + "/repo/wt/sub") == root + "/repo/wt");
  // Outside any repository: the directory itself (unless something above the temp dir is one).
  fs::create_directories(root + "/plain/a");
  std::string above;
  for (fs::path p = fs::path(root); p != p.root_path(); p = p.parent_path()) {
    if (fs::exists(fs::symlink_status(p / ".git"))) {
      above = p.string();
      break;
    }
  }
  CHECK(cb::shim::git_root(root + "/plain/a") == (above.empty() ? root + "/plain/a" : above));
}

TEST_CASE("project_dir: CLAUDE_PROJECT_DIR (canonical) wins over the working directory") {
  TempDir t("cb-hello");
  const std::string root = fs::canonical(t.path).string();
  fs::create_directories(root + "/repo/.git");
  fs::create_directories(root + "/repo/sub");
  fs::create_directories(root + "/other");
  fs::create_directory_symlink(root + "/other", root + "/link");
  Env env;
  CHECK(cb::shim::project_dir(env.get(), root + "/repo/sub") == root + "/repo");
  env.vars["CLAUDE_PROJECT_DIR"] = "";
  CHECK(cb::shim::project_dir(env.get(), root + "/repo/sub") == root + "/repo");
  env.vars["CLAUDE_PROJECT_DIR"] = root + "/link/./";
  CHECK(cb::shim::project_dir(env.get(), root + "/repo/sub") == root + "/other");
  // One that does not resolve is passed as given: the daemon's warning names it.
  env.vars["CLAUDE_PROJECT_DIR"] = root + "/missing";
  CHECK(cb::shim::project_dir(env.get(), root + "/repo/sub") == root + "/missing");
}

TEST_CASE("hello_from: --agent over CLAUDE_BRIDGE_AGENT, the client from its markers") {
  Env env;
  env.vars["CLAUDE_CODE_SESSION_ID"] = "3f1c2a9e-0000-4000-8000-000000000001";
  env.vars["CLAUDE_PROJECT_DIR"] = "/";
  env.vars["CLAUDE_BRIDGE_AGENT"] = "from-env";
  auto h = cb::shim::hello_from(env.get(), "/tmp", "");
  CHECK(h.agent == "from-env");
  CHECK(h.session_id == "3f1c2a9e-0000-4000-8000-000000000001");
  CHECK(h.project_dir == "/");
  CHECK(h.client.empty());
  CHECK(cb::shim::hello_from(env.get(), "/tmp", "from-flag").agent == "from-flag");
  env.vars["CLAUDECODE"] = "1";
  CHECK(cb::shim::client_from_env(env.get()) == "claude-code");
  env.vars.erase("CLAUDECODE");
  env.vars["GEMINI_CLI"] = "1";
  CHECK(cb::shim::client_from_env(env.get()) == "gemini-cli");
  env.vars["GEMINI_CLI"] = "0";
  CHECK(cb::shim::client_from_env(env.get()).empty());
}

TEST_CASE("hello_line: one JSON-RPC notification, empty members left out, any bytes escaped") {
  cb::shim::Hello h;
  h.client_pid = 4242;
  h.project_dir = "/home/me/my \"proj\"\n\xFF";
  const std::string line = cb::shim::hello_line(h);
  REQUIRE(line.back() == '\n');
  CHECK(line.find('\n') == line.size() - 1);
  const json j = json::parse(line);
  CHECK(j == json::parse(R"({"jsonrpc":"2.0","method":"notifications/claude-bridge/hello",
                             "params":{"v":1,"client_pid":4242,
                                       "project_dir":"/home/me/my \"proj\"\n\ufffd"}})"));
  h.session_id = "s-1";
  h.agent = "front\x01";
  h.client = "claude-code";
  const json full = json::parse(cb::shim::hello_line(h));
  CHECK(full["params"]["session_id"] == "s-1");
  CHECK(full["params"]["agent"] == "front\x01");
  CHECK(full["params"]["client"] == "claude-code");
  CHECK(full["params"].size() == 6);
}

TEST_CASE("the hello goes first on every connection, before the replayed initialize") {
  cb::shim::Relay r([] { return cb::UniqueFd(); });
  const std::string hello =
      R"({"jsonrpc":"2.0","method":"notifications/claude-bridge/hello","params":{"v":1}})"
      "\n";
  r.set_hello(hello);
  r.connection_made();
  CHECK(r.to_daemon() == hello);
  const std::string init =
      R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25"}})"
      "\n";
  const std::string initialized = R"({"jsonrpc":"2.0","method":"notifications/initialized"})"
                                  "\n";
  r.from_client(init);
  r.from_daemon(R"({"id":0,"jsonrpc":"2.0","result":{}})"
                "\n");
  r.from_client(initialized);
  CHECK(r.to_daemon() == hello + init + initialized);
  r.to_daemon().clear();
  r.to_client().clear();
  for (int restart = 0; restart < 2; ++restart) {
    r.connection_lost();
    r.from_client(R"({"jsonrpc":"2.0","id":5,"method":"tools/list"})"
                  "\n");  // while away
    r.connection_made();
    CHECK(r.to_daemon() == hello + init + initialized +
                               R"({"jsonrpc":"2.0","id":5,"method":"tools/list"})"
                               "\n");
    r.from_daemon(R"({"id":0,"jsonrpc":"2.0","result":{}})"
                  "\n");  // the replay's answer
    CHECK(r.to_client().find(R"("id":0)") == std::string::npos);
    r.to_daemon().clear();
    r.to_client().clear();
  }
  // Without a hello (--no-hello) nothing of the shim's own precedes the client's bytes.
  cb::shim::Relay quiet([] { return cb::UniqueFd(); });
  quiet.connection_made();
  CHECK(quiet.to_daemon().empty());
}
