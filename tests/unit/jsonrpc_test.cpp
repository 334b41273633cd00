#include <doctest/doctest.h>

#include "daemon/rpc/jsonrpc.h"
#include "daemon/mcp/tool.h"

using namespace cb::mcp;

namespace {
struct Row {
  const char* frame;
  int code;        // 0: valid
  bool id_kept;    // the error carries the request's id
};
}  // namespace

TEST_CASE("envelope classification, one row per rule") {
  const Row rows[] = {
      {R"({"jsonrpc":"2.0","id":1,"method":"ping"})", 0, true},
      {R"({"jsonrpc":"2.0","id":0,"method":"ping"})", 0, true},
      {R"({"jsonrpc":"2.0","id":"s","method":"ping"})", 0, true},
      {R"({"jsonrpc":"2.0","method":"notifications/initialized"})", 0, false},
      {R"({"jsonrpc":"2.0","id":5,"result":{}})", 0, true},
      {R"({"jsonrpc":"1.0","id":5,"method":"ping"})", rpc_error::kInvalidRequest, true},
      {R"({"id":5,"method":"ping"})", rpc_error::kInvalidRequest, true},
      {R"({"jsonrpc":"2.0","id":4})", rpc_error::kInvalidRequest, true},
      {R"({"jsonrpc":"2.0","id":null,"method":"ping"})", rpc_error::kInvalidRequest, false},
      {R"({"jsonrpc":"2.0","id":1.5,"method":"ping"})", rpc_error::kInvalidRequest, false},
      {R"({"jsonrpc":"2.0","id":true,"method":"ping"})", rpc_error::kInvalidRequest, false},
      {R"({"jsonrpc":"2.0","id":7,"method":42})", rpc_error::kInvalidRequest, true},
      {R"({"jsonrpc":"2.0","id":7,"method":"x","params":"str"})", rpc_error::kInvalidRequest, true},
      {R"({"jsonrpc":"2.0","id":7,"result":{},"error":{}})", rpc_error::kInvalidRequest, true},
      {R"(42)", rpc_error::kInvalidRequest, false},
  };
  for (const auto& row : rows) {
    CAPTURE(row.frame);
    auto parsed = parse_frame(row.frame);
    REQUIRE(std::holds_alternative<Json>(parsed));
    auto c = classify(std::move(std::get<Json>(parsed)));
    if (row.code == 0) {
      CHECK(std::holds_alternative<Message>(c));
    } else {
      REQUIRE(std::holds_alternative<RpcError>(c));
      const auto& e = std::get<RpcError>(c);
      CHECK(e.code == row.code);
      CHECK(e.id.is_null() == !row.id_kept);
    }
  }
}

TEST_CASE("parse errors: garbage, truncation, invalid UTF-8, deep nesting") {
  for (std::string bad : {std::string("{\"jsonrpc\": \"2.0\", \"id\": 3, \"method\": "),
                          std::string("not json"), std::string("{} {}"),
                          std::string("{\"a\":\"\xff\xfe\"}")}) {
    CAPTURE(bad);
    auto parsed = parse_frame(bad);
    REQUIRE(std::holds_alternative<RpcError>(parsed));
    CHECK(std::get<RpcError>(parsed).code == rpc_error::kParse);
    CHECK(std::get<RpcError>(parsed).id.is_null());
  }
  std::string deep = std::string(65, '[') + std::string(65, ']');
  CHECK(std::holds_alternative<RpcError>(parse_frame(deep)));
  std::string ok = std::string(64, '[') + std::string(64, ']');
  CHECK(std::holds_alternative<Json>(parse_frame(ok)));
  // Brackets inside strings do not count.
  CHECK(nesting_depth(R"({"a":"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["})", 10) == 1);
  CHECK(nesting_depth(R"({"a":"\"[[[["})", 10) == 1);
  // A string ends at the first quote after an even number of backslashes.
  CHECK(nesting_depth(R"({"a":"x\\","b":[[[1]]]})", 10) == 4);
  CHECK(nesting_depth(R"({"a":"x\\\"[[[","b":1})", 10) == 1);
  CHECK(nesting_depth(R"({"a":"","b":[[1]],"c":"\\"})", 10) == 3);
  CHECK(nesting_depth(R"({"a":"[[[)", 10) == 1);  // unterminated: counted up to the string
  CHECK(json_shape(R"({"a":"k\":v","b":{"c":1,"d":"\\:"},"e":2})", 64, 100).widest_object == 3);
}

TEST_CASE("a lone surrogate escape is read as U+FFFD, with the request's id intact") {
  // What JSON.stringify writes for a JavaScript string cut in the middle of an emoji.
  const std::string frame =
      R"({"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name":"send_to_partner",)"
      R"("arguments":{"message":"cut \ud83d here, \udc00 there, \ud83d\ud83d twice"}}})";
  auto parsed = parse_frame(frame);
  REQUIRE(std::holds_alternative<Json>(parsed));
  const Json& value = std::get<Json>(parsed);
  CHECK(value["id"] == 42);
  const std::string fffd = "\xef\xbf\xbd";
  CHECK(value["params"]["arguments"]["message"] ==
        "cut " + fffd + " here, " + fffd + " there, " + fffd + fffd + " twice");
  // A proper pair stays the character it encodes; an escaped backslash is not an escape.
  CHECK(std::get<Json>(parse_frame(R"(["\ud83d\ude00","\\ud800"])")) ==
        Json::array({"\xf0\x9f\x98\x80", "\\ud800"}));
  CHECK_FALSE(replace_lone_surrogates(R"(["\ud83d\ude00","\\ud800","\u00e9"])"));
  CHECK(*replace_lone_surrogates(R"("a\ud83d")") == R"("a\ufffd")");
  CHECK(*replace_lone_surrogates(R"("\uDBFF\u0041")") == R"("\ufffd\u0041")");
  // Whatever else is wrong with the frame is still a parse error.
  CHECK(std::holds_alternative<RpcError>(parse_frame(R"({"a":"\ud800",})")));
}

TEST_CASE("an object of more than kMaxObjectMembers members is refused before parsing") {
  auto object_of = [](std::size_t n, const std::string& extra = "") {
    std::string s = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{"
                    "\"name\":\"x\",\"arguments\":{" + extra;
    for (std::size_t i = 0; i < n; ++i) s += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":0";
    return s + "}}}";
  };
  CHECK(std::holds_alternative<Json>(parse_frame(object_of(kMaxObjectMembers))));
  auto refused = parse_frame(object_of(kMaxObjectMembers + 1));
  REQUIRE(std::holds_alternative<RpcError>(refused));
  CHECK(std::get<RpcError>(refused).code == rpc_error::kInvalidRequest);
  CHECK(std::get<RpcError>(refused).message.find("1024 members") != std::string::npos);
  CHECK(std::get<RpcError>(refused).id == 1);  // read off the top level without parsing
  std::string string_id = object_of(kMaxObjectMembers + 1);
  string_id.replace(string_id.find("\"id\":1"), 6, "\"id\" : \"r\\\"7\"");
  CHECK(std::get<RpcError>(parse_frame(string_id)).id == "r\"7");
  // Members are counted per object: many small objects, and colons inside strings, are fine.
  std::string many = "[";
  for (int i = 0; i < 3000; ++i) many += (i ? ",{\"a\":1,\"b\":\"x:y:z\"}" : "{\"a\":1,\"b\":\"x:y:z\"}");
  many += "]";
  CHECK(std::holds_alternative<Json>(parse_frame(many)));
  const JsonShape shape = json_shape(many, 64, 10);
  CHECK(shape.widest_object == 2);
  CHECK(shape.depth == 2);
  CHECK(json_shape(R"({"a":{"b":1,"c":2,"d":3},"e":"::::"})", 64, 100).widest_object == 3);
}

TEST_CASE("frames are one line and survive invalid UTF-8 in our own output") {
  Json j = {{"text", "line1\nline2 \u2028"}, {"bad", std::string("\xff")}};
  const std::string f = response_frame(1, j);
  CHECK(f.find('\n') == std::string::npos);
  CHECK(Json::parse(f)["result"]["text"] == "line1\nline2 \u2028");
}

TEST_CASE("a tool result's frame is the dump of its response document, byte for byte") {
  // The frame is assembled by hand (ToolResult::response_frame); the reference is the document
  // the protocol describes, built and dumped by nlohmann.
  auto reference = [](const Json& id, const ToolResult& r, bool modern) {
    Json text = r.is_error ? Json(r.text) : Json(dump(r.structured));
    Json result{{"content", Json::array({Json{{"type", "text"}, {"text", text}}})},
                {"isError", r.is_error}};
    if (!r.is_error) result["structuredContent"] = r.structured;
    if (modern) result["resultType"] = "complete";
    return dump(Json{{"jsonrpc", "2.0"}, {"id", id}, {"result", result}});
  };
  std::string controls;
  for (int c = 0; c < 0x20; ++c) controls.push_back(static_cast<char>(c));
  const Json structured[] = {
      Json::object(),
      Json{{"ok", true}, {"message_id", 42}, {"list", Json::array({1, "two", nullptr, 3.5})}},
      Json{{"quote", "say \"hi\" \\ back\\slash /"}, {"controls", controls}, {"del", "\x7f"}},
      Json{{"unicode", "héllo — 日本 \u2028 🙂"}, {"bad utf-8", std::string("a\xff\xc3(b")}},
      Json{{"nested", Json{{"z", 1}, {"a", Json{{"deeper", "\"\\\"\\\\"}}}}}},
  };
  const std::string errors[] = {"", "Error (not_found): no such conversation — check the id",
                                controls + "\"\\", std::string("bad \xff utf-8 \xe2\x82")};
  const Json ids[] = {Json(1), Json(-7), Json("req-\"1\"\\"), Json("日本")};
  for (const Json& id : ids) {
    for (bool modern : {false, true}) {
      for (const Json& s : structured) {
        const ToolResult r = ToolResult::ok(s);
        CHECK(r.response_frame(id, modern) == reference(id, r, modern));
      }
      for (const std::string& e : errors) {
        const ToolResult r = ToolResult::error(e);
        CHECK(r.response_frame(id, modern) == reference(id, r, modern));
      }
    }
  }
}
