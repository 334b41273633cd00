#include <doctest/doctest.h>

#include "daemon/config.h"

using namespace cb;

TEST_CASE("defaults when empty") {
  auto c = std::get<Config>(parse_config("", "t.toml"));
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
  REQUIRE(std::holds_alternative<Config>(r));
  auto& c = std::get<Config>(r);
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
    REQUIRE(std::holds_alternative<std::string>(r));
    CHECK(std::get<std::string>(r).rfind(expected, 0) == 0);
    CHECK(std::get<std::string>(r).find('\n') == std::string::npos);
  }
  // toml++ quotes the bytes it choked on, a newline included: written as an escape, the error
  // stays one line (the config fuzz target's regressions/config/multiline-error).
  auto quoted = parse_config("x = tr\n", "t.toml");
  REQUIRE(std::holds_alternative<std::string>(quoted));
  CHECK(std::get<std::string>(quoted).find('\n') == std::string::npos);
  CHECK(std::get<std::string>(quoted).find("\\n") != std::string::npos);
}

TEST_CASE("a missing optional file is defaults; a missing named file is an error") {
  CHECK(std::holds_alternative<Config>(load_config("/nonexistent/claude-bridge.toml", false)));
  CHECK(std::holds_alternative<std::string>(load_config("/nonexistent/claude-bridge.toml", true)));
}
