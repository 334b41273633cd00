// The quick check (daemon/mcp/quick_check.h) lets a tools/call skip valijson when the arguments
// certainly conform. These tests hold it to that promise against valijson itself: on thousands
// of mutated argument objects for every real tool, whatever it passes valijson passes too.
#include "daemon/mcp/quick_check.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "daemon/bridge/bridge.h"
#include "daemon/crypto/crypto.h"
#include "daemon/mcp/tool_registry.h"
#include "daemon/store/sqlite_database.h"
#include "daemon/tools/bridge_tools.h"
#include "daemon/tools/exec_tools.h"

using namespace cb;
using namespace cb::mcp;

namespace {

struct RealTools {
  std::unique_ptr<store::SqliteDatabase> db = store::SqliteDatabase::open_memory();
  cb::FakeClock clock;
  bridge::Settings settings;
  std::unique_ptr<bridge::Bridge> bridge;
  ToolRegistry tools;

  RealTools() {
    bridge = std::make_unique<bridge::Bridge>(*db, clock, std::string(32, 'k'), settings,
                                              redact::Redactor::builtin());
    tools::register_bridge_tools(tools, *bridge, settings);
    tools::register_exec_tools(tools, *bridge);
  }

  std::vector<const Tool*> all() const {
    std::vector<const Tool*> out;
    const Json page = *tools.list_page(nullptr);
    for (const Json& t : page["tools"]) {
      out.push_back(tools.find(t["name"].get<std::string>()));
    }
    return out;
  }
};

std::string repeat(const std::string& unit, std::size_t n) {
  std::string s;
  for (std::size_t i = 0; i < n; ++i) s += unit;
  return s;
}

// A value for each property name our tools use that satisfies its schema.
Json valid_value(const std::string& name, const std::string& token) {
  if (name == "conversation_id") return "conv_0123456789abcdef";
  if (name == "session_id") return "a";
  if (name == "token") return token;
  if (name == "my_role" || name == "partner_role") return "backend_developer";
  if (name == "message") return "hello — a message with a non-ASCII dash";
  if (name == "status") return "working";
  if (name == "mode") return "safe";
  if (name == "command") return "ls -la";
  if (name == "workspace") return "/tmp/work";
  if (name == "action_type") return "question";
  if (name == "files_involved") return Json::array({"src/main.cpp"});
  if (name == "limit") return 10;
  if (name == "since_id") return 0;
  if (name == "timeout_seconds") return 60;
  if (name == "timeout") return 30;
  if (name == "sandbox") return true;
  if (name == "to") return "beta";
  if (name == "scope") return "project";
  if (name == "members") return Json::array({"beta", "gamma"});
  if (name == "note") return "implementing GET /users";
  if (name == "reply_to") return 7;
  return nullptr;
}

// Values near every bound and rule the schemas state, and plain wrong types.
std::vector<Json> awkward_values(const std::string& token, std::int64_t max_chars) {
  std::vector<Json> v;
  for (std::size_t n : {0, 1, 2, 3, 4, 63, 64, 65, 99, 100, 101, 999, 1000, 1001, 4096, 4097}) {
    v.push_back(std::string(n, 'a'));
    v.push_back(repeat("\xc3\xa9", n));          // é: 2 bytes, 1 character
    v.push_back(repeat("\xe2\x82\xac", n));      // €: 3 bytes
    v.push_back(repeat("\xf0\x9f\x98\x80", n));  // 😀: 4 bytes
  }
  const auto max = static_cast<std::size_t>(max_chars);
  for (std::size_t n : {max - 1, max, max + 1}) {
    v.push_back(std::string(n, 'm'));
    v.push_back(repeat("\xc3\xa9", n));
  }
  v.push_back(std::string("\0", 1));
  v.push_back(std::string("ab\0cd", 5));
  v.push_back(std::string("abc\0", 4));
  v.push_back(std::string(64, '\0'));
  v.push_back(token);
  v.push_back(token.substr(1));
  v.push_back(token + "0");
  std::string upper = token;
  upper[0] = 'A';
  v.push_back(upper);
  v.push_back(token + "\n");
  v.push_back(std::string(62, 'a') + std::string("\xc3\xa9"));  // 64 bytes, 63 characters
  v.push_back("conv_0123456789abcdef");
  v.push_back("conv_0123456789ABCDEF");
  v.push_back("conv_0123456789abcde");
  v.push_back("xconv_0123456789abcdef");
  v.push_back("conv_0123456789abcdef\n");
  for (const char* s : {"a", "b", "c", "A", "a ", "working", "waiting", "done", "safe", "yolo",
                        "question", "info", "proposal", "blocked", "complete", "nope"}) {
    v.push_back(s);
  }
  for (std::int64_t n : {-1, 0, 1, 2, 59, 60, 199, 200, 201, 599, 600, 601, 3600, 3601}) {
    v.push_back(n);
  }
  v.push_back(std::numeric_limits<std::int64_t>::min());
  v.push_back(std::numeric_limits<std::int64_t>::max());
  v.push_back(std::numeric_limits<std::uint64_t>::max());
  for (double d : {0.0, -0.0, 0.5, 1.0, 1.5, 60.0, 200.0, 200.5, 600.0, 1e300, -1e300}) {
    v.push_back(d);
  }
  v.push_back(true);
  v.push_back(false);
  v.push_back(nullptr);
  v.push_back(Json::array());
  v.push_back(Json::array({"a.txt"}));
  v.push_back(Json::array({1}));
  v.push_back(Json::array({std::string(1001, 'x')}));
  v.push_back(Json::array({std::string(1000, 'x')}));
  Json twenty = Json::array();
  for (int i = 0; i < 20; ++i) twenty.push_back("f" + std::to_string(i));
  v.push_back(twenty);
  twenty.push_back("one too many");
  v.push_back(twenty);
  v.push_back(Json::object());
  v.push_back(Json{{"a", 1}});
  return v;
}

}  // namespace

TEST_CASE(
    "every tool's inputSchema is within the quick check's keywords, and a plain call passes it") {
  RealTools world;
  const std::string token = cb::crypto::hex(cb::crypto::random_bytes(32));
  const auto tools = world.all();
  REQUIRE(tools.size() >= 8);
  for (const Tool* tool : tools) {
    CAPTURE(tool->name);
    REQUIRE(tool != nullptr);
    CHECK(QuickCheck(tool->input_schema).usable());
    Json args = Json::object();
    for (const Json& name : tool->input_schema["required"]) {
      args[name.get<std::string>()] = valid_value(name.get<std::string>(), token);
    }
    CHECK(world.tools.quick_passes(*tool, args));
    CHECK(world.tools.validate(*tool, args).empty());
    // Every optional property too, each at a valid value.
    for (const auto& [name, _] : tool->input_schema["properties"].items()) {
      args[name] = valid_value(name, token);
    }
    CHECK(world.tools.quick_passes(*tool, args));
  }
}

TEST_CASE("what the quick check passes, valijson passes: mutated arguments for every tool") {
  RealTools world;
  world.tools.set_cross_check(true);  // validate() throws if valijson refuses what it passed
  const std::string token = cb::crypto::hex(cb::crypto::random_bytes(32));
  const auto awkward = awkward_values(token, world.settings.message_max_chars);
  std::mt19937 rng(20261125);
  auto pick = [&](std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng);
  };
  std::size_t passed = 0;
  std::size_t refused = 0;
  for (const Tool* tool : world.all()) {
    CAPTURE(tool->name);
    std::vector<std::string> names;
    for (const auto& [name, _] : tool->input_schema["properties"].items()) names.push_back(name);
    names.push_back("unknown_key");
    names.push_back("");
    Json base = Json::object();
    for (const std::string& name : names) {
      if (const Json v = valid_value(name, token); !v.is_null()) base[name] = v;
    }
    for (int round = 0; round < 3000; ++round) {
      Json args = base;
      const std::size_t changes = 1 + pick(3);
      for (std::size_t c = 0; c < changes; ++c) {
        const std::string& name = names[pick(names.size())];
        switch (pick(4)) {
          case 0:
            args.erase(name);
            break;
          case 1:
            args[name] = valid_value(name, token);
            break;
          default:
            args[name] = awkward[pick(awkward.size())];
            break;
        }
      }
      if (pick(50) == 0) args = awkward[pick(awkward.size())];  // not even an object
      CAPTURE(args.dump().substr(0, 300));
      const bool quick = world.tools.quick_passes(*tool, args);
      std::vector<std::string> problems;
      CHECK_NOTHROW(problems = world.tools.validate(*tool, args));
      if (quick) {
        ++passed;
        CHECK(problems.empty());
      } else {
        ++refused;
      }
    }
  }
  // Both answers were exercised, many times.
  CHECK(passed > 2000);
  CHECK(refused > 2000);
}

TEST_CASE(
    "the quick check counts characters as valijson does and defers on what it does not know") {
  const QuickCheck three(Json{{"type", "string"}, {"minLength", 3}, {"maxLength", 3}});
  REQUIRE(three.usable());
  CHECK(three.passes("abc"));
  CHECK(three.passes("\xc3\xa9\xc3\xa9\xe2\x82\xac"));  // é é €: 7 bytes, 3 characters
  CHECK_FALSE(three.passes("\xc3\xa9\xe2\x82\xac"));    // 2 characters
  CHECK_FALSE(
      three.passes("\xc3\xa9\xc3\xa9\xe2\x82\xac"
                   "a"));
  CHECK_FALSE(three.passes(std::string("ab\0", 3)));  // valijson stops at the NUL: 2 characters
  CHECK_FALSE(three.passes(3));
  CHECK_FALSE(three.passes(nullptr));

  const QuickCheck bounded(Json{{"type", {"integer", "null"}}, {"minimum", 1}, {"maximum", 600}});
  CHECK(bounded.passes(1));
  CHECK(bounded.passes(600));
  CHECK(bounded.passes(nullptr));  // bounds apply to numbers only
  CHECK_FALSE(bounded.passes(0));
  CHECK_FALSE(bounded.passes(601));
  CHECK_FALSE(bounded.passes(60.0));  // a float is not an integer to valijson
  CHECK_FALSE(bounded.passes("60"));

  const Json closed{
      {"type", "object"},
      {"properties",
       {{"id", {{"type", "string"}, {"pattern", "^x[0-9]+$"}}}, {"n", {{"type", "integer"}}}}},
      {"required", {"id"}},
      {"additionalProperties", false}};
  const QuickCheck object(closed);
  CHECK(object.passes(Json{{"id", "x12"}}));
  CHECK(object.passes(Json{{"id", "x12"}, {"n", 3}}));
  CHECK_FALSE(object.passes(Json{{"n", 3}}));  // id is required
  CHECK_FALSE(object.passes(Json{{"id", "x1a"}}));
  CHECK_FALSE(object.passes(Json{{"id", "x1"}, {"extra", 1}}));
  Json open = closed;
  open["additionalProperties"] = true;
  CHECK(QuickCheck(open).passes(Json{{"id", "x1"}, {"extra", 1}}));

  // Patterns: a fixed-length one is matched position by position, any other by std::regex_search
  // (unanchored unless the pattern says otherwise), both as valijson would.
  const QuickCheck fixed(Json{{"type", "string"}, {"pattern", "^id_[a-c0-9]{3}$"}});
  CHECK(fixed.passes("id_a1c"));
  CHECK(fixed.passes("id_000"));
  for (const char* s : {"id_a1d", "id_a1", "id_a1cc", "xid_a1c", "ID_a1c", "id-a1c", ""}) {
    CAPTURE(s);
    CHECK_FALSE(fixed.passes(s));
  }
  const QuickCheck search(Json{{"type", "string"}, {"pattern", "[0-9]{2}"}});
  CHECK(search.passes("a12b"));
  CHECK_FALSE(search.passes("a1b2"));
  const QuickCheck ranged(Json{{"type", "string"}, {"pattern", "^[a-f]{2,3}$"}});
  CHECK(ranged.passes("abc"));
  CHECK(ranged.passes("ab"));
  CHECK_FALSE(ranged.passes("abcd"));

  // Keywords outside its subset, anywhere in the schema: it says no to everything.
  for (const Json& schema :
       {Json{{"type", "object"}, {"oneOf", Json::array()}},
        Json{{"type", "object"},
             {"properties", {{"a", {{"type", "string"}, {"format", "email"}}}}}},
        Json{{"type", "object"}, {"additionalProperties", {{"type", "string"}}}},
        Json{{"type", "string"}, {"enum", {"a", 1}}},
        Json{{"type", "object"}, {"required", {"missing"}}}, Json{{"type", "widget"}}}) {
    CAPTURE(schema.dump());
    const QuickCheck check(schema);
    CHECK_FALSE(check.usable());
    CHECK_FALSE(check.passes(Json::object()));
  }
  CHECK_FALSE(QuickCheck().passes(Json::object()));
}
