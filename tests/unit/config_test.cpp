#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "daemon/config.h"
#include "daemon/runtime_config.h"
#include "tests/unit/temp_dir.h"

using namespace cb;
namespace fs = std::filesystem;

TEST_CASE("defaults when empty") {
  auto c = parse_config("", "t.toml").value();
  CHECK(c.bridge.ttl_seconds == 10800);
  CHECK(c.bridge.message_max_chars == 50000);
  CHECK(c.bridge.retention_days == 7);
  CHECK(c.bridge.send_per_minute == 10);
  CHECK(c.bridge.send_per_hour == 100);
  CHECK(c.bridge.send_per_day == 500);
  CHECK(c.synchronous == store::Synchronous::kNormal);
  CHECK_FALSE(c.exec.enabled);
}

TEST_CASE("the documented keys load") {
  auto r = parse_config(R"(
[conversation]
ttl_seconds = 600
message_max_chars = 1000
retention_days = 1
[rate_limits]        # per conversation session; 0 turns a window off
send_per_minute = 0
send_per_hour = 20
send_per_day = 30
[storage]
synchronous = "full"
[[redaction.rules]]
name = "acme"
pattern = "acme_[a-z0-9]{20}"
placeholder = "ACME_REDACTED"
[yolo]
enabled = true
workspaces = ["/tmp/ws"]
)", "t.toml");
  REQUIRE(r.ok());
  auto& c = *r;
  CHECK(c.bridge.ttl_seconds == 600);
  CHECK(c.bridge.send_per_minute == 0);
  CHECK(c.synchronous == store::Synchronous::kFull);
  REQUIRE(c.redaction_rules.size() == 1);
  CHECK(c.redaction_rules[0].placeholder == "ACME_REDACTED");
  CHECK(c.exec.enabled);
  CHECK(c.exec.workspaces == std::vector<std::string>{"/tmp/ws"});
}

TEST_CASE("errors name the file, the line and the key") {
  const std::pair<const char*, const char*> rows[] = {
      {"[conversation]\nttl_second = 5\n", "t.toml:2: unknown key 'ttl_second' in [conversation]"},
      {"[nope]\n", "t.toml:1: unknown key 'nope'"},
      {"[conversation]\n\nttl_seconds = \"x\"\n", "t.toml:3: conversation.ttl_seconds must be an integer"},
      // A float is not an integer, and one past int64's range must not be converted at all
      // (undefined behaviour; found by the config fuzzer).
      {"[limits]\nmax_frame_bytes = 655e36\n", "t.toml:2: limits.max_frame_bytes must be an integer"},
      {"[limits]\nmax_frame_bytes = 65536.0\n", "t.toml:2: limits.max_frame_bytes must be an integer"},
      {"[conversation]\nttl_seconds = 1\n", "t.toml:2: conversation.ttl_seconds must be between"},
      {"[storage]\nsynchronous = \"sometimes\"\n", "t.toml:2: storage.synchronous must be one of"},
      {"[conversation\n", "t.toml:1:"},
  };
  for (auto [text, expected] : rows) {
    CAPTURE(text);
    auto r = parse_config(text, "t.toml");
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == "config");
    CHECK(r.status().message().rfind(expected, 0) == 0);
    CHECK(r.status().message().find('\n') == std::string::npos);
  }
  // toml++ quotes the bytes it choked on, a newline included: written as an escape, the error
  // stays one line (the config fuzz target's regressions/config/multiline-error).
  auto quoted = parse_config("x = tr\n", "t.toml");
  REQUIRE_FALSE(quoted.ok());
  CHECK(quoted.status().message().find('\n') == std::string::npos);
  CHECK(quoted.status().message().find("\\n") != std::string::npos);
}

TEST_CASE("a missing optional file is defaults; a missing named file is an error") {
  CHECK(load_config("/nonexistent/claude-bridge.toml", false).ok());
  auto named = load_config("/nonexistent/claude-bridge.toml", true);
  REQUIRE_FALSE(named.ok());
  CHECK(named.status().message().find("--config") != std::string::npos);
}

// ---- who may write the config file (issue 22, item 4) ----

namespace {

fs::path write_file(const fs::path& p, const std::string& text, mode_t mode) {
  std::ofstream(p) << text;
  ::chmod(p.c_str(), mode);
  return p;
}

constexpr const char* kYolo = "[yolo]\nenabled = true\nworkspaces = [\"/tmp\"]\n";

}  // namespace

TEST_CASE("a config file others can write is refused, with the command that fixes it") {
  TempDir t;
  ::chmod(t.path.c_str(), 0700);
  for (mode_t mode : {0666, 0646, 0664, 0620}) {
    CAPTURE(mode);
    const auto p = write_file(t.path / "config.toml", kYolo, mode);
    auto r = load_config(p, false);  // even when optional: a file that is there is checked
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == "config");
    CHECK(r.status().message().find("chmod go-w " + p.string()) != std::string::npos);
    CHECK(r.status().message().find("command execution") != std::string::npos);
    CHECK(r.status().message().find('\n') == std::string::npos);
  }
  for (mode_t mode : {0600, 0644, 0400}) {
    CAPTURE(mode);
    const auto p = write_file(t.path / "config.toml", kYolo, mode);
    auto r = load_config(p, true);
    REQUIRE(r.ok());
    CHECK(r->exec.enabled);
  }
}

TEST_CASE("a config file in a directory others can write is refused; a sticky one is not") {
  TempDir t;
  const auto p = write_file(t.path / "config.toml", kYolo, 0600);
  ::chmod(t.path.c_str(), 0777);
  auto open_dir = load_config(p, true);
  REQUIRE_FALSE(open_dir.ok());
  CHECK(open_dir.status().message().find("config directory " + t.path.string()) !=
        std::string::npos);
  CHECK(open_dir.status().message().find("chmod go-w " + t.path.string()) != std::string::npos);
  ::chmod(t.path.c_str(), 0770);
  CHECK_FALSE(load_config(p, true).ok());
  // As /tmp: others may create files there but cannot rename, replace or remove this one.
  ::chmod(t.path.c_str(), 01777);
  CHECK(load_config(p, true).ok());
  ::chmod(t.path.c_str(), 0755);
  CHECK(load_config(p, true).ok());
}

TEST_CASE("a symbolic link to the config file: both directories are checked") {
  TempDir t;
  fs::create_directory(t.path / "real");
  fs::create_directory(t.path / "links");
  ::chmod(t.path.c_str(), 0700);
  ::chmod((t.path / "real").c_str(), 0700);
  ::chmod((t.path / "links").c_str(), 0700);
  const auto target = write_file(t.path / "real" / "config.toml", kYolo, 0600);
  const auto link = t.path / "links" / "config.toml";
  fs::create_symlink(target, link);
  CHECK(load_config(link, true).ok());
  ::chmod((t.path / "real").c_str(), 0777);
  CHECK_FALSE(load_config(link, true).ok());
  ::chmod((t.path / "real").c_str(), 0700);
  ::chmod((t.path / "links").c_str(), 0777);
  CHECK_FALSE(load_config(link, true).ok());
}

TEST_CASE("a config file owned by another user is refused") {
  if (::geteuid() != 0) return;  // only root can give a file away; the mode checks run anyway
  TempDir t;
  ::chmod(t.path.c_str(), 0700);
  const auto p = write_file(t.path / "config.toml", kYolo, 0644);
  REQUIRE(::chown(p.c_str(), 65534, 65534) == 0);
  auto r = load_config(p, true);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("is owned by uid 65534") != std::string::npos);
  REQUIRE(::chown(p.c_str(), 0, 0) == 0);
  CHECK(load_config(p, true).ok());
  REQUIRE(::chown(t.path.c_str(), 65534, 65534) == 0);
  auto dir = load_config(p, true);
  REQUIRE_FALSE(dir.ok());
  CHECK(dir.status().message().find("config directory") != std::string::npos);
}

TEST_CASE("not a regular file: refused without hanging") {
  TempDir t;
  ::chmod(t.path.c_str(), 0700);
  const auto fifo = t.path / "config.toml";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  auto r = load_config(fifo, true);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("not a regular file") != std::string::npos);
  CHECK_FALSE(load_config(t.path, true).ok());
}

// ---- validate(): the one config path of start-up, SIGHUP and --check-config ----

TEST_CASE("validate builds the redactor and the [yolo] settings, or says what is wrong") {
  TempDir t;
  Config c = parse_config(std::string("[[redaction.rules]]\nname = \"acme\"\n"
                                      "pattern = 'acme_[a-z0-9]{8}'\nplaceholder = \"ACME\"\n"
                                      "[yolo]\nenabled = true\nmax_mode = \"restricted\"\n"
                                      "output_max_bytes = 2048\nworkspaces = [\"") +
                              t.path.string() + "\"]\n",
                          "t.toml")
                 .value();
  auto r = validate(c);
  REQUIRE(r.ok());
  const auto redacted = r->redactor->redact("see acme_abcdefgh").text;
  CHECK(redacted.find("ACME") != std::string::npos);
  CHECK(redacted.find("acme_abcdefgh") == std::string::npos);
  CHECK(r->exec.enabled);
  CHECK(r->exec.max_mode == exec::Mode::kRestricted);
  CHECK(r->exec.output_max_bytes == 2048);
  REQUIRE(r->exec.workspaces.size() == 1);
  CHECK(r->exec.workspaces[0] == t.path);
  CHECK(r->exec.extra_hidden_paths.empty());  // the daemon's to add, not the file's

  Config bad_rule = c;
  bad_rule.redaction_rules[0].pattern = "(unclosed";
  bad_rule.source = "/etc/cb.toml";
  auto rule = validate(bad_rule);
  REQUIRE_FALSE(rule.ok());
  CHECK(rule.status().message().rfind("/etc/cb.toml: ", 0) == 0);

  Config bad_root = c;
  bad_root.exec.workspaces = {"relative/dir"};
  auto root = validate(bad_root);
  REQUIRE_FALSE(root.ok());
  CHECK(root.status().message().find("[yolo] workspaces") != std::string::npos);

  Config no_root = c;
  no_root.exec.workspaces.clear();
  auto none = validate(no_root);
  REQUIRE_FALSE(none.ok());
  CHECK(none.status().message().find("needs at least one directory") != std::string::npos);
}

TEST_CASE("load_runtime_config: a refused file never reaches validate") {
  TempDir t;
  ::chmod(t.path.c_str(), 0700);
  const auto p =
      write_file(t.path / "config.toml", "[conversation]\nmessage_max_chars = 7\n", 0600);
  auto ok_file = load_runtime_config(p, true);
  REQUIRE(ok_file.ok());
  CHECK(ok_file->bridge.message_max_chars == 7);
  CHECK(ok_file->source == p);
  ::chmod(p.c_str(), 0622);
  CHECK_FALSE(load_runtime_config(p, true).ok());
}
