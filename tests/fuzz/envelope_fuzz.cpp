// libFuzzer target: the JSON-RPC envelope (daemon/rpc/jsonrpc.h) and tool-argument validation
// (daemon/mcp/tool_registry.cpp, valijson against the schemas tools/list publishes).
//
// Input: one frame. Checked:
//  - parse_frame either yields a value or a -32700 with a null id; a parsed value nests no
//    deeper than kMaxJsonDepth, and dump() of it is one line that parses back to the same value;
//  - when the simdjson fast path (fast_parse.h) takes the frame, nlohmann's parser gives the
//    same value, dumped to the same text (so 1 and 1.0 differ);
//  - classify yields a Message or a -32600 whose id is valid or null; requests and responses
//    carry a valid id, notifications none; params are an object, an array or absent;
//  - every frame builder produces one line of valid JSON;
//  - for tools/call, validating the arguments against every tool never throws, and each
//    problem is a non-empty message naming a field ("arguments" for the object itself).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "daemon/rpc/fast_parse.h"
#include "daemon/rpc/jsonrpc.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/fuzz_world.h"

using namespace cb::mcp;

namespace {

void check_one_line_json(const std::string& frame) {
  FUZZ_CHECK(frame.find('\n') == std::string::npos);
  FUZZ_CHECK(!Json::parse(frame, nullptr, false).is_discarded());
}

void check_message(Json value, cb::fuzz::World& world) {
  auto classified = classify(std::move(value));
  if (auto* err = std::get_if<RpcError>(&classified)) {
    FUZZ_CHECK(err->code == rpc_error::kInvalidRequest);
    FUZZ_CHECK(err->id.is_null() || valid_id(err->id));
    FUZZ_CHECK(!err->message.empty());
    check_one_line_json(error_frame(*err));
    return;
  }
  const Message& msg = std::get<Message>(classified);
  switch (msg.kind) {
    case Message::Kind::kRequest:
    case Message::Kind::kResponse:
      FUZZ_CHECK(valid_id(msg.id));
      break;
    case Message::Kind::kNotification:
      FUZZ_CHECK(msg.id.is_null());
      break;
  }
  FUZZ_CHECK(msg.params.is_null() || msg.params.is_object() || msg.params.is_array());
  if (msg.kind == Message::Kind::kRequest) {
    check_one_line_json(response_frame(msg.id, msg.params));
    check_one_line_json(request_frame(msg.id, msg.method, msg.params));
    check_one_line_json(notification_frame(msg.method, msg.params));
  }
  if (msg.method == "tools/call" && msg.params.is_object()) {
    const Json args = msg.params.value("arguments", Json::object());
    for (const char* name : {"create_conversation", "send_to_partner", "check_messages",
                             "wait_for_messages", "update_my_status", "check_partner_status"}) {
      const Tool* tool = world.tools.find(name);
      FUZZ_CHECK(tool != nullptr);
      for (const std::string& problem : world.tools.validate(*tool, args)) {
        // (A problem may span lines: it quotes the client's own key names, newlines included.)
        FUZZ_CHECK(!problem.empty());
        FUZZ_CHECK(problem.find(": ") != std::string::npos);
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static cb::fuzz::World world;
  const std::string frame = world.expand(std::string(reinterpret_cast<const char*>(data), size));
  auto parsed = parse_frame(frame);
  if (auto* err = std::get_if<RpcError>(&parsed)) {
    FUZZ_CHECK(err->code == rpc_error::kParse);
    FUZZ_CHECK(err->id.is_null());
    check_one_line_json(error_frame(*err));
    return 0;
  }
  Json value = std::move(std::get<Json>(parsed));
  FUZZ_CHECK(nesting_depth(frame, kMaxJsonDepth) <= kMaxJsonDepth);
  if (auto fast = fast_parse(frame)) {
    const Json slow = Json::parse(frame, nullptr, /*allow_exceptions=*/false);
    FUZZ_CHECK(!slow.is_discarded());
    FUZZ_CHECK(fast->dump() == slow.dump());
  }
  const std::string again = dump(value);
  check_one_line_json(again);
  FUZZ_CHECK(Json::parse(again) == value);
  if (value.is_array()) {
    for (auto& element : value) check_message(std::move(element), world);
  } else {
    check_message(std::move(value), world);
  }
  return 0;
}
