// Sandbox tests against the real bubblewrap. Temp directories only; the sandbox layer is
// policy-free, so these use /bin/sh -c freely to provoke what the sandbox must contain.

#include "daemon/exec/sandbox.h"

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <filesystem>
#include <functional>
#include <optional>
#include <set>
#include <sstream>
#include <string>

#include "common/fd.h"
#include "tests/exec/exec_test_util.h"

namespace fs = std::filesystem;
using cb::UniqueFd;
using cb::exec::build_bwrap_argv;
using cb::exec::find_bwrap;
using cb::exec::Mode;
using cb::exec::run_sandboxed;
using cb::exec::run_sandboxed_blocking;
using cb::exec::sandbox_available;
using cb::exec::SandboxResult;
using cb::exec::SandboxSpec;
using cb::exec::testing::processes_with_arg;
using cb::exec::testing::read_file;
using cb::exec::testing::TempDir;
using cb::exec::testing::write_file;

namespace {

// Skips the calling test (with a message) when this machine cannot sandbox.
#define REQUIRE_SANDBOX()                                              \
  do {                                                                 \
    static const std::string reason = sandbox_available().message();   \
    if (!reason.empty()) {                                             \
      MESSAGE("skipped, the sandbox is unavailable here: " << reason); \
      return;                                                          \
    }                                                                  \
  } while (false)

SandboxSpec spec_for(const fs::path& workspace, std::vector<std::string> argv,
                     Mode mode = Mode::kRestricted) {
  SandboxSpec spec;
  spec.workspace = fs::canonical(workspace);
  spec.argv = std::move(argv);
  spec.mode = mode;
  spec.timeout = std::chrono::seconds(60);
  return spec;
}

// Runs through the asynchronous API on a private io_context.
SandboxResult run(SandboxSpec spec) {
  asio::io_context io;
  std::optional<SandboxResult> result;
  asio::co_spawn(io, run_sandboxed(std::move(spec)), [&](std::exception_ptr e, SandboxResult r) {
    REQUIRE_FALSE(e);
    result = std::move(r);
  });
  io.run();
  REQUIRE(result.has_value());
  return *result;
}

// A unique argument to find our own sleep processes in /proc: GNU sleep adds its arguments,
// so `sleep 300 0.<n>` still sleeps about 300 s.
std::string unique_marker() {
  static int counter = 0;
  return "0." + std::to_string(::getpid()) + std::to_string(++counter);
}

std::string sh_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

TEST_CASE("sandbox: available here, and a clear reason when bwrap is missing") {
  const cb::Status missing = sandbox_available("/nonexistent/bwrap");
  CHECK(missing.code() == cb::exec::sandbox_errors::kNoBwrap);
  CHECK(missing.message() == "bubblewrap (bwrap) is not installed: apt-get install bubblewrap");
  if (find_bwrap().empty()) {
    MESSAGE("bwrap is not installed here; the other sandbox tests skip");
    return;
  }
  const cb::Status here = sandbox_available();
  CHECK_MESSAGE(here.ok(), here.message());
}

TEST_CASE("sandbox: refuses to start on a bad spec, without running anything") {
  TempDir ws;
  fs::create_directory_symlink(ws.path(), ws.path().string() + "-link");
  struct Row {
    SandboxSpec spec;
    std::string must_mention;
    std::string code;
  };
  SandboxSpec no_argv = spec_for(ws.path(), {});
  SandboxSpec symlinked = spec_for(ws.path(), {"true"});
  symlinked.workspace = ws.path().string() + "-link";
  SandboxSpec relative = spec_for(ws.path(), {"true"});
  relative.workspace = "relative";
  SandboxSpec missing_bwrap = spec_for(ws.path(), {"true"});
  missing_bwrap.bwrap = "/nonexistent/bwrap";
  SandboxSpec nul_arg = spec_for(ws.path(), {"echo", std::string("a\0b", 3)});
  SandboxSpec zero_timeout = spec_for(ws.path(), {"true"});
  zero_timeout.timeout = std::chrono::milliseconds(0);
  const std::vector<Row> rows = {
      {no_argv, "empty", "bad_spec"},     {symlinked, "not canonical", "workspace_unusable"},
      {relative, "absolute", "bad_spec"}, {missing_bwrap, "bwrap", "spawn_failed"},
      {nul_arg, "NUL", "bad_spec"},       {zero_timeout, "timeout", "bad_spec"},
  };
  for (const Row& row : rows) {
    const SandboxResult r = run(row.spec);
    CHECK_FALSE(r.started());
    CHECK(r.status.code() == row.code);
    CHECK_MESSAGE(r.status.message().find(row.must_mention) != std::string::npos,
                  r.status.message());
  }
  fs::remove(ws.path().string() + "-link");
}

TEST_CASE("sandbox: safe mode mounts the workspace read-only") {
  REQUIRE_SANDBOX();
  TempDir ws;
  write_file(ws.path() / "existing.txt", "hello\n");
  const SandboxResult r = run(spec_for(ws.path(), {"touch", "f"}, Mode::kSafe));
  REQUIRE(r.started());
  CHECK(r.exit_code != 0);
  CHECK(r.stderr_data.find("Read-only file system") != std::string::npos);
  CHECK_FALSE(fs::exists(ws.path() / "f"));
  // Reading works.
  const SandboxResult cat = run(spec_for(ws.path(), {"cat", "existing.txt"}, Mode::kSafe));
  CHECK(cat.exit_code == 0);
  CHECK(cat.stdout_data == "hello\n");
}

TEST_CASE("sandbox: restricted mode writes the workspace, and nothing outside it") {
  REQUIRE_SANDBOX();
  TempDir ws;
  TempDir elsewhere;
  SandboxResult r = run(spec_for(ws.path(), {"touch", "f"}));
  REQUIRE(r.started());
  CHECK(r.exit_code == 0);
  CHECK(fs::exists(ws.path() / "f"));

  // Host paths outside the workspace: the read-only root, and another directory under /tmp
  // (the sandbox has a fresh /tmp, so the host's is not even visible).
  const std::string marker = "cb-exec-test-" + std::to_string(::getpid());
  const fs::path on_root = fs::path("/var/lib") / marker;
  const fs::path in_etc = fs::path("/etc") / marker;
  for (const fs::path& target : {on_root, in_etc, elsewhere.path() / "x"}) {
    CAPTURE(target);
    r = run(spec_for(ws.path(), {"touch", target.string()}, Mode::kYolo));
    CHECK(r.exit_code != 0);
    CHECK_FALSE(fs::exists(target));
    std::error_code ec;
    fs::remove(target, ec);  // in case the sandbox failed us
  }
  // What /tmp holds inside the sandbox is gone with it.
  r = run(spec_for(ws.path(), {"/bin/sh", "-c", "echo x > /tmp/scratch && cat /tmp/scratch"}));
  CHECK(r.exit_code == 0);
  CHECK(r.stdout_data == "x\n");
  CHECK_FALSE(fs::exists("/tmp/scratch"));
}

TEST_CASE("sandbox: no network unless allowed") {
  REQUIRE_SANDBOX();
  TempDir ws;
  // Only the loopback interface exists in the sandbox's network namespace.
  SandboxResult r = run(spec_for(ws.path(), {"cat", "/proc/net/dev"}));
  REQUIRE(r.exit_code == 0);
  std::set<std::string> interfaces;
  std::istringstream lines(r.stdout_data);
  for (std::string line; std::getline(lines, line);) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    name.erase(0, name.find_first_not_of(' '));
    interfaces.insert(name);
  }
  CHECK(interfaces == std::set<std::string>{"lo"});

  // A port listened to outside the sandbox is unreachable from inside, and reachable when the
  // network is shared (which shows the probe itself works).
  UniqueFd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  REQUIRE(listener);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(listener.get(), 16) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  const std::string port = std::to_string(ntohs(addr.sin_port));
  const std::vector<std::string> connect = {"/bin/bash", "-c",
                                            "exec 3<>/dev/tcp/127.0.0.1/" + port};
  r = run(spec_for(ws.path(), connect));
  CHECK(r.exit_code != 0);
  CHECK(r.stderr_data.find("Connection refused") != std::string::npos);
  SandboxSpec shared = spec_for(ws.path(), connect);
  shared.allow_network = true;
  r = run(shared);
  CHECK_MESSAGE(r.exit_code == 0, r.stderr_data);
}

TEST_CASE("sandbox: the timeout kills the whole sandbox, background children included") {
  REQUIRE_SANDBOX();
  TempDir ws;
  const std::string marker = unique_marker();
  SandboxSpec spec = spec_for(
      ws.path(), {"/bin/sh", "-c",
                  "sleep 300 " + marker + " & setsid sleep 300 " + marker + " & (sleep 300 " +
                      marker + " &) ; echo started; sleep 300 " + marker});
  spec.timeout = std::chrono::seconds(1);
  const SandboxResult r = run(spec);
  REQUIRE(r.started());
  CHECK(r.timed_out);
  CHECK(r.term_signal == SIGKILL);
  CHECK(r.exit_code == -1);
  CHECK(r.stdout_data == "started\n");
  CHECK(processes_with_arg(marker).empty());
}

TEST_CASE("sandbox: leftovers of a command that exits normally die with it") {
  REQUIRE_SANDBOX();
  TempDir ws;
  const std::string marker = unique_marker();
  const SandboxResult r = run(spec_for(
      ws.path(), {"/bin/sh", "-c", "sleep 300 " + marker + " >/dev/null 2>&1 & echo done"}));
  CHECK_FALSE(r.timed_out);
  CHECK(r.exit_code == 0);
  CHECK(r.stdout_data == "done\n");
  CHECK(processes_with_arg(marker).empty());
}

TEST_CASE("sandbox: output is capped per stream, counted, and never blocks the command") {
  REQUIRE_SANDBOX();
  TempDir ws;
  SandboxSpec spec = spec_for(
      ws.path(), {"/bin/sh", "-c", "head -c 200000 /dev/zero; printf 0123456789 >&2; echo end"});
  spec.output_cap = 1000;
  SandboxResult r = run(spec);
  CHECK(r.exit_code == 0);
  CHECK(r.stdout_data == std::string(1000, '\0'));
  CHECK(r.stdout_truncated);
  CHECK(r.stdout_bytes == 200004);
  CHECK(r.stderr_data == "0123456789");
  CHECK_FALSE(r.stderr_truncated);
  CHECK(r.stderr_bytes == 10);

  // 20 MB through the default cap: the command finishes (a blocked pipe would hit the timeout).
  r = run(spec_for(ws.path(), {"head", "-c", "20000000", "/dev/zero"}));
  CHECK_FALSE(r.timed_out);
  CHECK(r.exit_code == 0);
  CHECK(r.stdout_data.size() == cb::exec::kDefaultOutputCap);
  CHECK(r.stdout_truncated);
  CHECK(r.stdout_bytes == 20000000);
}

TEST_CASE("sandbox: exit codes and signals are reported") {
  REQUIRE_SANDBOX();
  TempDir ws;
  struct Row {
    std::vector<std::string> argv;
    int exit_code;
    int term_signal;
  };
  const std::vector<Row> rows = {
      {{"true"}, 0, 0},
      {{"false"}, 1, 0},
      {{"/bin/sh", "-c", "exit 7"}, 7, 0},
      {{"/bin/sh", "-c", "kill -TERM $$"}, 128 + SIGTERM, SIGTERM},
      {{"/bin/sh", "-c", "kill -KILL $$"}, 128 + SIGKILL, SIGKILL},
      {{"/bin/sh", "-c", "kill -SEGV $$"}, 128 + SIGSEGV, SIGSEGV},
  };
  for (const Row& row : rows) {
    CAPTURE(row.argv.back());
    const SandboxResult r = run(spec_for(ws.path(), row.argv));
    CHECK(r.started());
    CHECK_FALSE(r.timed_out);
    CHECK(r.exit_code == row.exit_code);
    CHECK(r.term_signal == row.term_signal);
  }
  // A program that does not exist: bwrap says so and exits 1.
  const SandboxResult r = run(spec_for(ws.path(), {"no-such-program-cb"}));
  CHECK(r.exit_code == 1);
  CHECK(r.stderr_data.find("no-such-program-cb") != std::string::npos);
}

TEST_CASE("sandbox: a workspace named like shell injection is just a name") {
  REQUIRE_SANDBOX();
  TempDir parent;
  write_file(parent.path() / "canary", "alive");
  const fs::path ws = parent.path() / "my ws '; rm -rf ~; ' $(touch pwned) `id` \"q\" ;x";
  fs::create_directories(ws);
  const SandboxResult r = run(spec_for(ws, {"/bin/sh", "-c", "pwd; touch made"}));
  REQUIRE(r.started());
  CHECK_MESSAGE(r.exit_code == 0, r.stderr_data);
  CHECK(r.stdout_data == fs::canonical(ws).string() + "\n");
  CHECK(fs::exists(ws / "made"));
  CHECK(read_file(parent.path() / "canary") == "alive");
  CHECK_FALSE(fs::exists(parent.path() / "pwned"));
  CHECK_FALSE(fs::exists(ws / "pwned"));
  CHECK_FALSE(fs::exists("pwned"));
  // The argv is handed over verbatim as well.
  const SandboxResult echo = run(spec_for(ws, {"echo", "$(id)", "`id`", "a;b", "*"}));
  CHECK(echo.stdout_data == "$(id) `id` a;b *\n");
}

TEST_CASE("sandbox: clean environment, HOME is the workspace, stdin is empty, no stray fds") {
  REQUIRE_SANDBOX();
  TempDir ws;
  const std::string home = fs::canonical(ws.path()).string();
  SandboxResult r = run(spec_for(ws.path(), {"env"}));
  std::multiset<std::string> env;
  std::istringstream lines(r.stdout_data);
  for (std::string line; std::getline(lines, line);) env.insert(line);
  CHECK(env == std::multiset<std::string>{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + home,
                                          "LANG=C.UTF-8", "TERM=dumb", "PWD=" + home});

  r = run(spec_for(ws.path(), {"cat"}));  // would hang on a terminal or an open pipe
  CHECK(r.exit_code == 0);
  CHECK(r.stdout_data.empty());

  // A descriptor the daemon forgot to mark close-on-exec still does not reach the sandbox.
  const int leaky = ::open("/dev/null", O_RDONLY);  // deliberately without O_CLOEXEC
  REQUIRE(leaky >= 0);
  r = run(spec_for(ws.path(), {"ls", "/proc/self/fd"}));
  ::close(leaky);
  CHECK(r.stdout_data == "0\n1\n2\n3\n");  // 3 is ls's own directory handle
}

TEST_CASE("sandbox: hidden paths are empty inside, also when inside the workspace") {
  REQUIRE_SANDBOX();
  TempDir ws;
  fs::create_directories(ws.path() / "secret");
  write_file(ws.path() / "secret" / "key", "s3cr3t");
  write_file(ws.path() / "token.txt", "t0k3n");
  write_file(ws.path() / "visible.txt", "ok");
  // /var/tmp is hidden by default; place something there the sandbox must not see.
  const std::string name = "cb-exec-test-hidden-" + std::to_string(::getpid());
  const fs::path var_tmp_dir = fs::path("/var/tmp") / name;
  fs::create_directories(var_tmp_dir);
  write_file(var_tmp_dir / "x", "host");

  SandboxSpec spec = spec_for(
      ws.path(), {"/bin/sh", "-c",
                  "cat visible.txt; cat secret/key token.txt " + sh_quote(var_tmp_dir.string()) +
                      "/x 2>/dev/null; ls -A /run; echo end"});
  spec.hidden_paths = cb::exec::default_hidden_paths();
  spec.hidden_paths.push_back(ws.path() / "secret");
  spec.hidden_paths.push_back(ws.path() / "token.txt");
  const SandboxResult r = run(spec);
  CHECK(r.stdout_data == "okend\n");
  fs::remove_all(var_tmp_dir);
}

TEST_CASE("sandbox: the command line bwrap gets") {
  SandboxSpec spec;
  spec.workspace = "/work/project";
  spec.argv = {"git", "status"};
  spec.hidden_paths = {};
  spec.mode = Mode::kSafe;
  std::vector<std::string> argv = build_bwrap_argv(spec, "/usr/bin/bwrap");
  const auto has = [&](const std::vector<std::string>& seq) {
    return std::search(argv.begin(), argv.end(), seq.begin(), seq.end()) != argv.end();
  };
  CHECK(argv.front() == "/usr/bin/bwrap");
  CHECK(has({"--unshare-all", "--unshare-user", "--disable-userns", "--cap-drop", "ALL"}));
  CHECK(has({"--die-with-parent", "--new-session"}));
  CHECK(has({"--ro-bind", "/", "/"}));
  CHECK(has({"--ro-bind-fd", "4", "/work/project"}));
  CHECK(has({"--chdir", "/work/project"}));
  CHECK(has({"--clearenv"}));
  CHECK(has({"--", "git", "status"}));
  CHECK_FALSE(has({"--share-net"}));
  CHECK(argv[argv.size() - 3] == "--");

  spec.mode = Mode::kYolo;
  spec.allow_network = true;
  argv = build_bwrap_argv(spec, "/usr/bin/bwrap");
  CHECK(has({"--bind-fd", "4", "/work/project"}));
  CHECK(has({"--share-net"}));
}

TEST_CASE("sandbox: runs concurrently on one io_context") {
  REQUIRE_SANDBOX();
  TempDir ws;
  asio::io_context io;
  std::vector<SandboxResult> results(3);
  int done = 0;
  for (int i = 0; i < 3; ++i) {
    asio::co_spawn(io,
                   run_sandboxed(spec_for(
                       ws.path(), {"/bin/sh", "-c", "sleep 0.3; echo " + std::to_string(i)})),
                   [&, i](std::exception_ptr e, SandboxResult r) {
                     REQUIRE_FALSE(e);
                     results[static_cast<std::size_t>(i)] = std::move(r);
                     ++done;
                   });
  }
  io.run();
  CHECK(done == 3);
  for (int i = 0; i < 3; ++i) {
    CHECK(results[static_cast<std::size_t>(i)].stdout_data == std::to_string(i) + "\n");
  }
}

TEST_CASE("sandbox: cancelling the awaiting coroutine kills the sandbox") {
  REQUIRE_SANDBOX();
  TempDir ws;
  const std::string marker = unique_marker();
  asio::io_context io;
  asio::cancellation_signal cancel;
  bool completed = false;
  SandboxResult result;
  asio::co_spawn(
      io, run_sandboxed(spec_for(ws.path(), {"sleep", "300", marker})),
      asio::bind_cancellation_slot(cancel.slot(), [&](std::exception_ptr e, SandboxResult r) {
        CHECK_FALSE(e);
        result = std::move(r);
        completed = true;
      }));
  // Cancel once the sleep is visibly running (polling /proc; no timing assumption).
  asio::steady_timer poll(io);
  std::function<void()> check = [&] {
    if (!processes_with_arg(marker).empty() || completed) {
      cancel.emit(asio::cancellation_type::terminal);
      return;
    }
    poll.expires_after(std::chrono::milliseconds(20));
    poll.async_wait([&](std::error_code) { check(); });
  };
  check();
  io.run();
  CHECK(completed);
  CHECK(result.status.code() == "cancelled");
  CHECK(result.status.message().find("cancelled") != std::string::npos);
  CHECK(processes_with_arg(marker).empty());
}

TEST_CASE("sandbox: git works read-only in safe mode") {
  REQUIRE_SANDBOX();
  TempDir ws;
  using cb::exec::testing::run_host;
  REQUIRE(run_host({"git", "init", "-q"}, ws.path()) == 0);
  write_file(ws.path() / "a.txt", "a\n");
  REQUIRE(run_host({"git", "add", "a.txt"}, ws.path()) == 0);
  REQUIRE(run_host({"git", "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm",
                    "init"},
                   ws.path()) == 0);
  write_file(ws.path() / "a.txt", "b\n");
  const SandboxResult r = run(spec_for(ws.path(), {"git", "status", "--porcelain"}, Mode::kSafe));
  CHECK_MESSAGE(r.exit_code == 0, r.stderr_data);
  CHECK(r.stdout_data == " M a.txt\n");
}

TEST_CASE("sandbox: the blocking variant gives the same result") {
  REQUIRE_SANDBOX();
  TempDir ws;
  const SandboxResult r = run_sandboxed_blocking(spec_for(ws.path(), {"echo", "hi"}));
  CHECK(r.exit_code == 0);
  CHECK(r.stdout_data == "hi\n");
}
