// Validation problems in words (daemon/mcp/validation_text.h): the field as the caller wrote it
// and the rule from the schema, never the validator's "pattern constraint" or "200.000000".
#include "daemon/mcp/validation_text.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "daemon/mcp/tool_registry.h"

using namespace cb::mcp;

namespace {

Json schema() {
  return Json::parse(R"({
    "type": "object", "additionalProperties": false,
    "required": ["conversation_id", "session_id", "token"],
    "properties": {
      "conversation_id": {"type": "string", "pattern": "^conv_[a-f0-9]{16}$"},
      "session_id": {"type": "string", "enum": ["a", "b"]},
      "token": {"type": "string", "pattern": "^[a-f0-9]{64}$", "minLength": 64, "maxLength": 64},
      "limit": {"type": "integer", "minimum": 1, "maximum": 200},
      "message": {"type": "string", "minLength": 1, "maxLength": 5},
      "files": {"type": "array", "maxItems": 2, "items": {"type": "string", "maxLength": 3}}
    }})");
}

std::vector<std::string> problems(const Json& arguments) {
  ToolRegistry registry;
  registry.add(Tool{"t", "T", "a tool", schema(), nullptr, {}, nullptr});
  return registry.validate(*registry.find("t"), arguments);
}

}  // namespace

TEST_CASE("every rule in words, every problem at once") {
  const auto p = problems(Json::parse(R"({
    "conversation_id": "c", "session_id": "c", "token": "x", "limit": 250, "message": "ééééé é",
    "files": ["ab", "abcd", "x"], "limt": 1})"));
  const std::vector<std::string> want = {
      R"(conversation_id: must be "conv_" followed by 16 lowercase hex digits)",
      R"(session_id: must be one of "a", "b")",
      "token: must be 64 lowercase hex digits",
      "limit: must be at most 200 (it is 250)",
      "message: must be at most 5 characters long (it is 7)",
      "files: may hold at most 2 items (it holds 3)",
      "files[1]: must be at most 3 characters long (it is 4)",
      R"(arguments: unknown property "limt" (known: conversation_id, files, limit, message, session_id, token))",
  };
  for (const auto& line : want) {
    CAPTURE(line);
    CHECK(std::find(p.begin(), p.end(), line) != p.end());
  }
  for (const auto& line : p) {
    CAPTURE(line);
    CHECK(line.find(".000000") == std::string::npos);
    CHECK(line.find("constraint") == std::string::npos);
    CHECK(line.back() != '.');
    // The token's length rules add nothing to its pattern.
    CHECK(line.find("token: must be at least") == std::string::npos);
  }
  auto sorted = [](std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  CHECK(sorted(problems(Json::parse(R"({"conversation_id": "conv_0123456789abcdef",
                                        "session_id": "a", "token": 5, "limit": 0})"))) ==
        std::vector<std::string>{"limit: must be at least 1 (it is 0)", "token: must be a string"});
  CHECK(problems(Json::object()) ==
        std::vector<std::string>{R"(arguments: missing required property "conversation_id")",
                                 R"(arguments: missing required property "session_id")",
                                 R"(arguments: missing required property "token")"});
}

TEST_CASE("patterns in words") {
  CHECK(describe_pattern("^[a-f0-9]{64}$") == "64 lowercase hex digits");
  CHECK(describe_pattern("^conv_[a-f0-9]{16}$") == R"("conv_" followed by 16 lowercase hex digits)");
  CHECK(describe_pattern("^[A-Z]+$") == "text matching the pattern ^[A-Z]+$");
}
