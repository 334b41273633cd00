// The shim's line scanner and relay (shim/peek.h, shim/relay.h): what it learns of the bytes
// passing through, and what it does when the daemon's connection is lost.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "shim/peek.h"
#include "shim/relay.h"

using cb::shim::LineScanner;
using cb::shim::Peeked;
using cb::shim::Relay;

namespace {

// Every line of `text`, fed in chunks of `chunk` bytes.
std::vector<LineScanner::Line> scan(const std::string& text, std::size_t chunk = 1 << 20) {
  LineScanner s;
  std::vector<LineScanner::Line> lines;
  for (std::size_t i = 0; i < text.size(); i += chunk) {
    s.feed(std::string_view(text).substr(i, chunk),
           [&](const LineScanner::Line& l, std::size_t) { lines.push_back(l); });
  }
  return lines;
}

Relay relay() {
  return Relay([] { return cb::UniqueFd(); });
}

}  // namespace

TEST_CASE("the scanner keeps id, method and params.requestId of each message, in any chunks") {
  const std::string text =
      R"({"method":"tools/call","params":{"name":"x","arguments":{"id":9,"method":"initialize",)"
      R"("requestId":5,"s":"},\"id\":8,{[\n"}},"jsonrpc":"2.0","id" : "a\"b" })"
      "\n"
      R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":17}})"
      "\n"
      R"({"id":3,"jsonrpc":"2.0","result":{"content":[{"text":"{\"id\":4}"}]}})"
      "\n"
      R"({"error":{"code":-32600,"message":"x"},"id":null,"jsonrpc":"2.0"})"
      "\n"
      R"([{"jsonrpc":"2.0","id":11,"method":"ping"},{"jsonrpc":"2.0","id":12,"method":"ping"}])"
      "\n"
      R"({"jsonrpc":"2.0","id":1,"method":"ping"} trailing)"
      "\n"
      R"({"jsonrpc":"2.0","id":2,"method":)"
      "\n";
  for (std::size_t chunk : {std::size_t(1), std::size_t(3), std::size_t(7), std::size_t(1 << 20)}) {
    CAPTURE(chunk);
    const auto lines = scan(text, chunk);
    REQUIRE(lines.size() == 7);
    REQUIRE(lines[0].messages.size() == 1);
    CHECK(lines[0].messages[0].id == R"("a\"b")");  // nested "id" and "method" are not the message's
    CHECK(lines[0].messages[0].method == R"("tools/call")");
    CHECK(lines[0].messages[0].request_id.empty());  // only params' own members count
    CHECK_FALSE(lines[0].messages[0].answer);
    CHECK(lines[1].messages[0].method == R"("notifications/cancelled")");
    CHECK(lines[1].messages[0].request_id == "17");
    CHECK(lines[1].messages[0].id.empty());
    CHECK(lines[2].messages[0].id == "3");
    CHECK(lines[2].messages[0].answer);
    CHECK_FALSE(lines[2].messages[0].failed);
    CHECK(lines[3].messages[0].id == "null");
    CHECK(lines[3].messages[0].failed);
    REQUIRE(lines[4].messages.size() == 2);  // a batch: each element is a message
    CHECK(lines[4].messages[0].id == "11");
    CHECK(lines[4].messages[1].id == "12");
    CHECK_FALSE(lines[5].well_formed);  // something after the value
    CHECK(lines[5].messages.empty());
    CHECK_FALSE(lines[6].well_formed);  // truncated
  }
}

TEST_CASE("on 5,000 random compact messages the scanner reads what a JSON parser reads") {
  // nlohmann (in this test only) builds messages with decoy "id"/"method"/"requestId" keys nested
  // in params, strings full of quotes, backslashes, brackets and commas, ids of every kind.
  using nlohmann::json;
  std::mt19937 rng(20261207);
  const std::vector<std::string> bits = {"\"", "\\", "{", "}", "[", "]", ",", ":", "id", "é", " ", "\u2028", "x"};
  auto text = [&] {
    std::string t;
    for (int n = static_cast<int>(rng() % 8); n > 0; --n) t += bits[rng() % bits.size()];
    return t;
  };
  auto value = [&](int depth, auto&& self) -> json {
    switch (rng() % (depth > 2 ? 3 : 5)) {
      case 0: return text();
      case 1: return static_cast<int>(rng() % 1000) - 500;
      case 2: return nullptr;
      case 3: {
        json o = json::object();
        for (const char* k : {"id", "method", "requestId", "result", "error", "params"}) {
          if (rng() % 3 == 0) o[k] = self(depth + 1, self);
        }
        o[text()] = self(depth + 1, self);
        return o;
      }
      default: return json::array({self(depth + 1, self), self(depth + 1, self)});
    }
  };
  for (int round = 0; round < 5000; ++round) {
    json m = json::object();
    if (rng() % 4) m["id"] = rng() % 2 ? json(text()) : json(static_cast<int>(rng() % 100));
    if (rng() % 4) m["method"] = text();
    if (rng() % 3 == 0) m["params"] = json{{"requestId", value(1, value)}, {text(), value(1, value)}};
    if (rng() % 3 == 0) m["result"] = value(1, value);
    m[text()] = value(1, value);
    const bool batch = rng() % 10 == 0;
    const std::string line = (batch ? json::array({m, m}) : m).dump() + "\n";
    CAPTURE(line);
    const auto lines = scan(line, 1 + rng() % 40);
    REQUIRE(lines.size() == 1);
    REQUIRE(lines[0].well_formed);
    REQUIRE(lines[0].messages.size() == (batch ? 2U : 1U));
    const Peeked& p = lines[0].messages[0];
    auto raw = [](const json& v) {
      const std::string d = v.dump();
      return d.size() > cb::shim::kMaxPeekedValue ? std::string() : d;
    };
    CHECK(p.id == (m.contains("id") ? raw(m["id"]) : ""));
    CHECK(p.method == (m.contains("method") ? raw(m["method"]) : ""));
    const bool has_request_id = m.contains("params") && m["params"].contains("requestId");
    CHECK(p.request_id == (has_request_id ? raw(m["params"]["requestId"]) : ""));
    CHECK(p.answer == (m.contains("result") || m.contains("error")));
    // The daemon's side: id and answer read the same when the rest is skipped, for every
    // message JSON-RPC allows (never both a method and a result or error).
    if (!batch && !(m.contains("method") && p.answer)) {
      LineScanner quick;
      quick.set_skip_when_known(true);
      std::vector<LineScanner::Line> got;
      quick.feed(line, [&](const LineScanner::Line& l, std::size_t) { got.push_back(l); });
      REQUIRE(got.size() == 1);
      REQUIRE(got[0].messages.size() == 1);
      CHECK(got[0].messages[0].id == p.id);
      CHECK(got[0].messages[0].answer == p.answer);
    }
  }
}

TEST_CASE("skipping the rest of a line once its id and kind are known reads the same") {
  const std::string text =
      R"({"id":3,"jsonrpc":"2.0","result":{"content":[{"text":"{\"id\":4}\n"}]}})" "\n"
      R"({"error":{"code":-32600,"message":"x"},"id":"e","jsonrpc":"2.0"})" "\n"
      R"({"jsonrpc":"2.0","result":{},"id":9})" "\n"
      R"({"id":5,"jsonrpc":"2.0","method":"elicitation/create","params":{"requestId":1}})" "\n"
      R"({"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":1}})" "\n";
  for (std::size_t chunk : {std::size_t(1), std::size_t(5), std::size_t(1 << 20)}) {
    CAPTURE(chunk);
    LineScanner s;
    s.set_skip_when_known(true);
    std::vector<LineScanner::Line> lines;
    for (std::size_t i = 0; i < text.size(); i += chunk) {
      s.feed(std::string_view(text).substr(i, chunk),
             [&](const LineScanner::Line& l, std::size_t) { lines.push_back(l); });
    }
    REQUIRE(lines.size() == 5);
    for (const auto& l : lines) {
      CHECK(l.well_formed);
      REQUIRE(l.messages.size() == 1);
    }
    CHECK((lines[0].messages[0].id == "3" && lines[0].messages[0].answer));
    CHECK((lines[1].messages[0].id == R"("e")" && lines[1].messages[0].failed));
    CHECK((lines[2].messages[0].id == "9" && lines[2].messages[0].answer));
    CHECK((lines[3].messages[0].id == "5" && !lines[3].messages[0].answer));
    CHECK(lines[3].messages[0].method == R"("elicitation/create")");
    CHECK(lines[4].messages[0].method == R"("notifications/progress")");
    CHECK_FALSE(s.mid_line());
  }
}

TEST_CASE("an over-long id is not kept") {
  const auto lines = scan(R"({"id":")" + std::string(300, 'x') + R"(","method":"ping"})" "\n");
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].messages[0].id.empty());
  CHECK(lines[0].messages[0].method == R"("ping")");
}

TEST_CASE("requests in flight when the connection drops are answered with their own ids") {
  Relay r = relay();
  r.from_client(R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{}})" "\n"
                R"({"jsonrpc":"2.0","id":"w","method":"tools/call","params":{}})" "\n"
                R"({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{}})" "\n"
                R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":3}})"
                "\n");
  CHECK(r.in_flight() == std::vector<std::string>{"1", R"("w")"});  // 3 was cancelled
  r.from_daemon(R"({"id":1,"jsonrpc":"2.0","result":{}})" "\n");
  CHECK(r.in_flight() == std::vector<std::string>{R"("w")"});
  r.to_client().clear();
  // The daemon dies in the middle of a line (a server request; its id is not a client's).
  r.from_daemon(R"({"id":"w","jsonrpc":"2.0","method":"elicitation/create")");
  r.connection_lost();
  const std::string out = r.to_client();
  CHECK(out.rfind(R"({"id":"w","jsonrpc":"2.0","method":"elicitation/create")" "\n", 0) == 0);
  CHECK(out.find(R"({"jsonrpc":"2.0","id":"w","error":{"code":-32000,)") != std::string::npos);
  CHECK(out.find("call it again") != std::string::npos);
  CHECK(out.back() == '\n');
  CHECK(r.in_flight().empty());
  CHECK(r.to_daemon().empty());
}

TEST_CASE("a client line cut by the lost connection is dropped and its request answered") {
  Relay r = relay();
  r.from_client(R"({"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"a":")");
  r.connection_lost();
  CHECK(r.to_client().empty());  // its id is not known before the line ends
  r.connection_made();
  r.from_client(R"(x"}})" "\n" R"({"jsonrpc":"2.0","id":8,"method":"ping"})" "\n");
  CHECK(r.to_client().rfind(R"({"jsonrpc":"2.0","id":7,"error":{"code":-32000,)", 0) == 0);
  CHECK(r.to_daemon() == R"({"jsonrpc":"2.0","id":8,"method":"ping"})" "\n");
  CHECK(r.in_flight() == std::vector<std::string>{"8"});
}

TEST_CASE("a legacy session's initialize is replayed on the new connection, its reply swallowed") {
  Relay r = relay();
  const std::string init =
      R"({"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{}},)"
      R"("jsonrpc":"2.0","id":0})" "\n";
  const std::string initialized = R"({"method":"notifications/initialized","jsonrpc":"2.0"})" "\n";
  // Split across reads, as a pipe may deliver it.
  r.from_client(init.substr(0, 20));
  r.from_client(init.substr(20) + initialized.substr(0, 5));
  r.from_client(initialized.substr(5));
  r.to_daemon().clear();
  SUBCASE("remembered only once the daemon answered it with a result") {
    r.connection_lost();  // unanswered: the client gets an error and nothing is replayed
    CHECK(r.to_client().find(R"("id":0,"error")") != std::string::npos);
    r.connection_made();
    CHECK(r.to_daemon().empty());
  }
  SUBCASE("replayed, and the daemon's answer to the replay is not passed on") {
    r.from_daemon(R"({"id":0,"jsonrpc":"2.0","result":{"protocolVersion":"2025-11-25"}})" "\n");
    r.from_client(R"({"jsonrpc":"2.0","id":1,"method":"tools/list"})" "\n");
    r.to_daemon().clear();
    r.to_client().clear();
    r.connection_lost();
    r.connection_made();
    CHECK(r.to_client() ==
          R"({"jsonrpc":"2.0","id":1,"error":{"code":-32000,"message":"The claude-bridge daemon )"
          R"(restarted or stopped before answering this request; the shim reconnects by itself, )"
          R"(so call it again. A send_to_partner may already be stored: check_partner_status )"
          R"(shows unread_by_partner."}})" "\n");
    r.to_client().clear();
    CHECK(r.to_daemon() == init + initialized);
    const std::string reply = R"({"id":0,"jsonrpc":"2.0","result":{"protocolVersion":"2025-11-25"}})" "\n";
    const std::string next = R"({"id":2,"jsonrpc":"2.0","result":{}})" "\n";
    r.from_daemon(reply.substr(0, 10));
    r.from_daemon(reply.substr(10) + next);
    CHECK(r.to_client() == next);
    // A second restart replays the same lines again.
    r.connection_lost();
    r.to_daemon().clear();
    r.connection_made();
    CHECK(r.to_daemon() == init + initialized);
  }
}

TEST_CASE("a modern-era client has nothing replayed") {
  Relay r = relay();
  r.from_client(R"({"jsonrpc":"2.0","id":"server-discover-probe-1","method":"server/discover",)"
                R"("params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}})"
                "\n");
  r.from_daemon(R"({"id":"server-discover-probe-1","jsonrpc":"2.0","result":{}})" "\n");
  r.to_daemon().clear();
  r.to_client().clear();
  r.connection_lost();
  r.connection_made();
  CHECK(r.to_daemon().empty());
  CHECK(r.to_client().empty());
}
