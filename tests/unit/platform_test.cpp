// OS-facing helpers: systemd fd takeover with a fabricated environment, private directories,
// the server key file.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include "common/paths.h"
#include "daemon/crypto/crypto.h"
#include "daemon/net/listeners.h"

using namespace cb;
namespace fs = std::filesystem;

namespace {

net::EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars](const char* name) -> std::optional<std::string> {
    auto it = vars.find(name);
    return it == vars.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
}

std::string no_path(int) { return {}; }

struct TempDir {
  fs::path path;
  TempDir() {
    char tmpl[] = "/tmp/cb-unit-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path); }
};

}  // namespace

TEST_CASE("systemd activation: fds told apart by LISTEN_FDNAMES") {
  auto r = net::inherited_fds(env_of({{"LISTEN_PID", "42"}, {"LISTEN_FDS", "2"},
                                      {"LISTEN_FDNAMES", "ctl:mcp"}}),
                              42, no_path);
  REQUIRE(r);
  REQUIRE(r->ok());
  CHECK(r->value().at(net::Endpoint::kCtl) == 3);
  CHECK(r->value().at(net::Endpoint::kMcp) == 4);
}

TEST_CASE("systemd activation: fds told apart by bound path when names are absent") {
  auto r = net::inherited_fds(env_of({{"LISTEN_PID", "7"}, {"LISTEN_FDS", "2"},
                                      {"LISTEN_FDNAMES", "claude-bridge.socket:claude-bridge.socket"}}),
                              7, [](int fd) {
                                return fd == 3 ? std::string("/run/user/1/claude-bridge/mcp.sock")
                                               : std::string("/run/user/1/claude-bridge/ctl.sock");
                              });
  REQUIRE(r);
  REQUIRE(r->ok());
  CHECK(r->value().at(net::Endpoint::kMcp) == 3);
  CHECK(r->value().at(net::Endpoint::kCtl) == 4);
}

TEST_CASE("systemd activation: not for us, or malformed") {
  CHECK_FALSE(net::inherited_fds(env_of({}), 42, no_path));
  CHECK_FALSE(net::inherited_fds(env_of({{"LISTEN_PID", "41"}, {"LISTEN_FDS", "1"}}), 42, no_path));
  auto bad = net::inherited_fds(env_of({{"LISTEN_PID", "42"}, {"LISTEN_FDS", "x"}}), 42, no_path);
  REQUIRE(bad);
  REQUIRE_FALSE(bad->ok());
  CHECK(bad->status().code() == net::listen_errors::kSystemdSockets);
  CHECK(bad->status().message().find("LISTEN_FDS=x") != std::string::npos);
  auto unnamed = net::inherited_fds(env_of({{"LISTEN_PID", "42"}, {"LISTEN_FDS", "1"}}), 42, no_path);
  REQUIRE(unnamed);
  REQUIRE_FALSE(unnamed->ok());
  CHECK(unnamed->status().message().find("FileDescriptorName") != std::string::npos);
  auto only_ctl = net::inherited_fds(
      env_of({{"LISTEN_PID", "42"}, {"LISTEN_FDS", "1"}, {"LISTEN_FDNAMES", "ctl"}}), 42, no_path);
  REQUIRE(only_ctl);
  REQUIRE_FALSE(only_ctl->ok());
  CHECK(only_ctl->status().code() == net::listen_errors::kSystemdSockets);
  CHECK(only_ctl->status().message().find("no mcp socket") != std::string::npos);
}

TEST_CASE("private directories: created 0700; wider modes and symlinks refused") {
  TempDir t;
  const fs::path dir = t.path / "a" / "claude-bridge";
  CHECK(paths::ensure_private_dir(dir).ok());
  struct stat st {};
  REQUIRE(::stat(dir.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  ::chmod(dir.c_str(), 0755);
  const Status err = paths::ensure_private_dir(dir);
  CHECK(err.code() == paths::dir_errors::kOpenMode);
  CHECK(err.message().find("chmod 700") != std::string::npos);
  fs::create_symlink(dir, t.path / "link");
  ::chmod(dir.c_str(), 0700);
  const Status link = paths::check_private_dir(t.path / "link");
  CHECK(link.code() == paths::dir_errors::kSymlink);
  CHECK(link.message().find("symbolic link") != std::string::npos);
  std::ofstream(t.path / "file") << "x";
  const Status file = paths::ensure_private_dir(t.path / "file");
  CHECK(file.code() == paths::dir_errors::kNotDirectory);
  CHECK(file.message() == (t.path / "file").string() + " is not a directory — remove it and retry");
  const Status missing = paths::check_private_dir(t.path / "missing");
  CHECK(missing.code() == paths::dir_errors::kUnreadable);
  CHECK(missing.message().find("No such file or directory") != std::string::npos);
}

TEST_CASE("private directories: the state directory's errors point at --state-dir") {
  TempDir t;
  const fs::path dir = t.path / "state";
  CHECK(paths::ensure_private_dir(dir, paths::kStateDirUse).ok());
  ::chmod(dir.c_str(), 0750);
  const std::string err = paths::ensure_private_dir(dir, paths::kStateDirUse).message();
  CHECK(err.find("chmod 700 " + dir.string()) != std::string::npos);
  CHECK(err.find("the database and the server key") != std::string::npos);
  CHECK(err.find("reach the bridge") == std::string::npos);
  // The socket directory keeps its own words.
  CHECK(paths::check_private_dir(dir).message().find("others could reach the bridge") !=
        std::string::npos);
  if (::geteuid() == 0) {  // only root can give a directory away
    ::chmod(dir.c_str(), 0700);
    REQUIRE(::chown(dir.c_str(), 65534, 65534) == 0);
    const Status owner = paths::check_private_dir(dir, paths::kStateDirUse);
    CHECK(owner.code() == paths::dir_errors::kNotOwned);
    CHECK(owner.message().find("(--state-dir)") != std::string::npos);
    CHECK(owner.message().find("--socket-dir") == std::string::npos);
    CHECK(paths::check_private_dir(dir).message().find("(--socket-dir)") != std::string::npos);
  }
}

TEST_CASE("paths: flag beats environment beats default") {
  ::setenv("CLAUDE_BRIDGE_SOCKET_DIR", "/tmp/from-env", 1);
  CHECK(paths::socket_dir("/tmp/from-flag") == "/tmp/from-flag");
  CHECK(paths::socket_dir("") == "/tmp/from-env");
  ::unsetenv("CLAUDE_BRIDGE_SOCKET_DIR");
  ::setenv("XDG_RUNTIME_DIR", "/tmp/xdg", 1);
  CHECK(paths::socket_dir("") == "/tmp/xdg/claude-bridge");
}

TEST_CASE("server key: created 0600 once, reused, refused when readable by others or damaged") {
  TempDir t;
  const fs::path key = t.path / "server.key";
  const Result<std::string> first = cb::crypto::load_or_create_key(key);
  REQUIRE(first.ok());
  const std::string& k1 = first.value();
  CHECK(k1.size() == 32);
  struct stat st {};
  REQUIRE(::stat(key.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  const Result<std::string> again = cb::crypto::load_or_create_key(key);
  REQUIRE(again.ok());
  CHECK(again.value() == k1);
  ::chmod(key.c_str(), 0644);
  const Result<std::string> open = cb::crypto::load_or_create_key(key);
  REQUIRE_FALSE(open.ok());
  CHECK(open.status().code() == cb::crypto::key_errors::kOpenMode);
  CHECK(open.status().message() ==
        "server key " + key.string() + " is readable by others — run: chmod 600 " + key.string());
  ::chmod(key.c_str(), 0600);
  std::ofstream(key, std::ios::app) << "x";
  const Result<std::string> damaged = cb::crypto::load_or_create_key(key);
  REQUIRE_FALSE(damaged.ok());
  CHECK(damaged.status().code() == cb::crypto::key_errors::kDamaged);
  CHECK(damaged.status().message().find("damaged") != std::string::npos);
  // Not a file, or in a directory that does not exist: refused the same way, never thrown.
  const Result<std::string> dir = cb::crypto::load_or_create_key(t.path);
  REQUIRE_FALSE(dir.ok());
  CHECK(dir.status().code() == cb::crypto::key_errors::kNotRegular);
  const Result<std::string> nowhere = cb::crypto::load_or_create_key(t.path / "no" / "server.key");
  REQUIRE_FALSE(nowhere.ok());
  CHECK(nowhere.status().code() == cb::crypto::key_errors::kCannotCreate);
  CHECK(nowhere.status().message().find("cannot create server key") != std::string::npos);
}
