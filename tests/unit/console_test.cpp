// The web console's gate and event fan-out (ctl/ui/auth.h, ctl/ui/events.h), without HTTP.
#include <doctest/doctest.h>

#include <string>
#include <thread>
#include <vector>

#include "ctl/ui/auth.h"
#include "ctl/ui/events.h"

using namespace cb::ctl::ui;

TEST_CASE("random_hex gives fresh hex of the asked length") {
  const std::string a = random_hex(32), b = random_hex(32);
  CHECK(a.size() == 64);
  CHECK(a.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(a != b);
}

TEST_CASE("the one-time token logs in once, then never again") {
  const std::string token = random_hex(32), session = random_hex(32);
  Gate g(token, session, 8123);
  CHECK_FALSE(g.redeem(""));
  CHECK_FALSE(g.redeem(random_hex(32)));
  CHECK_FALSE(g.redeem(token.substr(0, 63)));
  CHECK(g.redeem(token));
  CHECK_FALSE(g.redeem(token));
  CHECK(g.session_ok(session));
  CHECK_FALSE(g.session_ok(""));
  CHECK_FALSE(g.session_ok(token));
  const std::string cookie = g.set_cookie();
  CHECK(cookie.find(session) != std::string::npos);
  CHECK(cookie.find("HttpOnly") != std::string::npos);
  CHECK(cookie.find("SameSite=Strict") != std::string::npos);
}

TEST_CASE("only one of many racing redeemers wins") {
  const std::string token = random_hex(32);
  Gate g(token, random_hex(32), 8123);
  std::atomic<int> wins{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      if (g.redeem(token)) ++wins;
    });
  }
  for (auto& t : threads) t.join();
  CHECK(wins == 1);
}

TEST_CASE("Host and Origin must name this console exactly") {
  Gate g(random_hex(32), random_hex(32), 8123);
  CHECK(g.host_ok("127.0.0.1:8123"));
  CHECK(g.host_ok("localhost:8123"));
  for (const char* bad :
       {"", "127.0.0.1", "127.0.0.1:8124", "evil.example:8123", "127.0.0.1:8123.evil.example",
        "localhost", "[::1]:8123", "LOCALHOST:8123 "}) {
    CHECK_FALSE(g.host_ok(bad));
  }
  CHECK(g.origin_ok("http://127.0.0.1:8123"));
  CHECK(g.origin_ok("http://localhost:8123"));
  for (const char* bad : {"", "null", "http://127.0.0.1", "https://127.0.0.1:8123",
                          "http://evil.example:8123", "http://127.0.0.1:8123/"}) {
    CHECK_FALSE(g.origin_ok(bad));
  }
}

TEST_CASE("a stream parks when empty and is resumed by the next frame") {
  int parks = 0, unparks = 0;
  Hub hub;
  auto s = hub.open([&] { ++parks; }, [&] { ++unparks; });
  char buf[64];
  CHECK(s->take(buf, sizeof buf) == 0);
  CHECK(parks == 1);
  CHECK(s->take(buf, sizeof buf) == 0);  // parked already: not parked twice
  CHECK(parks == 1);
  hub.publish("bridge", {{"event", "message"}, {"message", "a\nb"}});
  CHECK(unparks == 1);
  std::string got;
  for (ssize_t n; (n = s->take(buf, sizeof buf)) > 0;) got.append(buf, static_cast<std::size_t>(n));
  CHECK(got == "event: bridge\ndata: {\"event\":\"message\",\"message\":\"a\\nb\"}\n\n");
  hub.end_all();
  CHECK(s->take(buf, sizeof buf) == -1);
  hub.close(s.get());
  CHECK(hub.size() == 0);
}

TEST_CASE("a reader that falls too far behind is cut off, and costs no more memory") {
  Hub hub;
  auto s = hub.open([] {}, [] {});
  const std::string big(64 * 1024, 'x');
  for (int i = 0; i < 40; ++i) hub.publish("bridge", {{"m", big}});  // 2.5 MiB > kMaxPending
  char buf[16];
  CHECK(s->take(buf, sizeof buf) == -1);
  // Other streams opened later are unaffected.
  auto t = hub.open([] {}, [] {});
  hub.heartbeat();
  CHECK(t->take(buf, sizeof buf) > 0);
}

TEST_CASE("a detached stream never calls back into the connection") {
  int unparks = 0;
  Hub hub;
  auto s = hub.open([] {}, [&] { ++unparks; });
  char buf[8];
  CHECK(s->take(buf, sizeof buf) == 0);
  s->detach();
  hub.heartbeat();
  CHECK(unparks == 0);
}
