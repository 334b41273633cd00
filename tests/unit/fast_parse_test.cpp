// The simdjson fast path of parse_frame (daemon/rpc/fast_parse.h): whatever it returns is what
// nlohmann's parser returns for the same text, type for type; whatever it refuses is left to
// nlohmann. Hand-picked edge cases, then 60,000 mutations of real frames.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "daemon/rpc/fast_parse.h"
#include "daemon/rpc/jsonrpc.h"

using namespace cb::mcp;

namespace {

// Equal values of the same JSON types (nlohmann's == would call 1 and 1.0 equal). An integer
// and an unsigned of the same value count as the same: nlohmann reads "-0" as an integer 0,
// the fast path as an unsigned one, and no code can tell them apart but by asking the type.
bool same(const Json& a, const Json& b) {
  if (a.is_number_integer() && b.is_number_integer()) return a == b;
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case Json::value_t::object: {
      if (a.size() != b.size()) return false;
      for (auto it = a.begin(); it != a.end(); ++it) {
        auto other = b.find(it.key());
        if (other == b.end() || !same(*it, *other)) return false;
      }
      return true;
    }
    case Json::value_t::array:
      if (a.size() != b.size()) return false;
      for (std::size_t i = 0; i < a.size(); ++i) {
        if (!same(a[i], b[i])) return false;
      }
      return true;
    case Json::value_t::number_float: {
      const double x = a.get<double>(), y = b.get<double>();
      return x == y && std::signbit(x) == std::signbit(y);
    }
    default:
      return a == b;
  }
}

// The fast path agrees with nlohmann on `text`: a value only where nlohmann has the same one.
// Returns whether the fast path took it.
bool agrees(const std::string& text) {
  const auto fast = fast_parse(text);
  const Json slow = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!fast) return false;
  INFO("text: " << text);
  REQUIRE_FALSE(slow.is_discarded());
  CHECK(same(*fast, slow));
  return true;
}

const char* const kFrames[] = {
    R"({"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"send_to_partner","arguments":{"conversation_id":"conv_0123456789abcdef","session_id":"a","token":"t0k3n-0123456789","message":"Users first.\nThen orders: \"GET /api/v1\" \u00e9\u20ac \ud83d\ude00","action_type":"question","files_involved":["api.ts","src/db.rs"]}}})",
    R"({"jsonrpc":"2.0","id":"req-1","method":"tools/call","params":{"name":"wait_for_messages","arguments":{"timeout_seconds":60,"limit":200,"since_id":18446744073709551615},"_meta":{"progressToken":-3}}})",
    R"({"jsonrpc":"2.0","id":3,"result":{"a":[1,-1,0,1.5,-2.5e-3,1E2,true,false,null,"",{},[]]}})",
    R"([1, {"x": [[], [[]], {"y": {"z": "\\\/\b\f\n\r\t"}}]}, -9223372036854775808, 9223372036854775807])",
};

}  // namespace

TEST_CASE("the fast path takes ordinary frames and gives nlohmann's value, type for type") {
  for (const char* frame : kFrames) CHECK(agrees(frame));
  const auto call = fast_parse(kFrames[0]);
  REQUIRE(call);
  CHECK((*call)["id"].is_number_unsigned());
  CHECK((*call)["params"]["arguments"]["message"].get<std::string>().find("\xf0\x9f\x98\x80") !=
        std::string::npos);
  const auto result = fast_parse(kFrames[2]);
  REQUIRE(result);
  CHECK((*result)["result"]["a"][1].is_number_integer());
  CHECK_FALSE((*result)["result"]["a"][1].is_number_unsigned());
  CHECK((*result)["result"]["a"][3].is_number_float());
  CHECK(fast_parse(R"({"a":1,"a":2})")->at("a") == 2);  // the last duplicate wins, as in nlohmann
  CHECK(agrees(R"({"a":1,"a":{"b":2},"a":[3]})"));
  CHECK(agrees(R"("\u0000")"));
  CHECK(agrees("0.1e-400"));
  CHECK(agrees("9223372036854775808"));
  CHECK(agrees("-0"));
}

TEST_CASE("what the fast path refuses is left to nlohmann") {
  const char* const refused[] = {
      "-0.0",                    // nlohmann's types: left to it
      "18446744073709551616",    // past 64 bits: nlohmann makes it a float
      "-9223372036854775809",
      "1e400",
      R"("\ud800")",             // lone surrogates: nlohmann refuses them too
      R"("\udc00x")",
      "\"\x01\"",                // an unescaped control character
      "\"\xc3\x28\"",            // invalid UTF-8
      "\xef\xbb\xbf{}",          // a byte-order mark: nlohmann skips it
      "{} x", "[1,]", "{\"a\" 1}", "", " ", "nul", "[", "01", "1.", ".5", "+1", "NaN",
  };
  for (const char* text : refused) {
    INFO("text: " << text);
    CHECK_FALSE(fast_parse(text));
  }
  CHECK_FALSE(fast_parse("[" + std::string(kFastParseMaxBytes, ' ') + "]"));
  // parse_frame still answers what nlohmann answers.
  CHECK(std::get<Json>(parse_frame("\xef\xbb\xbf{}")).is_object());
  CHECK(std::get<Json>(parse_frame("18446744073709551616")).is_number_float());
  // ... but a lone surrogate escape becomes U+FFFD (jsonrpc_test.cpp).
  CHECK(std::get<Json>(parse_frame(R"("\ud800")")) == "\xef\xbf\xbd");
}

TEST_CASE("60,000 mutations of real frames: the fast path never disagrees with nlohmann") {
  std::mt19937 rng(20261205);
  const std::string alphabet = "{}[]\",:\\/ -+.0123456789eEtrufalsn\x01\x7f\xc3\xa9\xed\xa0\x80uU";
  int taken = 0;
  for (int round = 0; round < 60000; ++round) {
    std::string text = kFrames[static_cast<std::size_t>(round) % std::size(kFrames)];
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !text.empty(); ++e) {
      const std::size_t at = rng() % text.size();
      const char c = alphabet[rng() % alphabet.size()];
      switch (rng() % 3) {
        case 0: text[at] = c; break;
        case 1: text.insert(at, 1, c); break;
        default: text.erase(at, 1); break;
      }
    }
    if (agrees(text)) ++taken;
  }
  // Many mutations stay valid JSON (a changed digit or letter inside a string): the fast path
  // must have taken a fair share, or this test would check nothing.
  CHECK(taken > 5000);
}
