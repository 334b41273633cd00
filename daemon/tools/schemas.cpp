#include "daemon/tools/schemas.h"

namespace cb::tools::schema {

Json conversation_id() {
  return Json{{"type", "string"},
              {"pattern", "^conv_[a-f0-9]{16}$"},
              {"description", "The conversation id from create_conversation (conv_ + 16 hex)."}};
}

Json session_id() {
  return Json{{"type", "string"},
              {"enum", {"a", "b"}},
              {"description", "Your side: \"a\" for the creator, \"b\" for the partner."}};
}

Json token() {
  return Json{{"type", "string"},
              {"pattern", "^[a-f0-9]{64}$"},
              {"minLength", 64},
              {"maxLength", 64},
              {"description", "Your session token (64 hex characters) from create_conversation."}};
}

Json role(const char* description) {
  return Json{{"type", "string"},
              {"minLength", 3},
              {"maxLength", 100},
              {"pattern", "^[^\\x00-\\x1F\\x7F]*$"},
              {"description", description}};
}

Json iso_time() { return Json{{"type", "string"}, {"description", "ISO-8601 UTC time"}}; }

Json nullable(Json s) {
  s["type"] = Json::array({s["type"], "null"});
  return s;
}

Json object(Json properties, Json required) {
  return Json{{"type", "object"},
              {"properties", std::move(properties)},
              {"required", std::move(required)},
              {"additionalProperties", false}};
}

Json auth_properties() {
  return Json{{"conversation_id", conversation_id()}, {"session_id", session_id()}, {"token", token()}};
}

Json auth_required() { return Json::array({"conversation_id", "session_id", "token"}); }

Json message_item() {
  return object(
      Json{{"id", {{"type", "integer"}}},
           {"from", {{"type", "string"}, {"enum", {"a", "b", "system"}}}},
           {"from_role", {{"type", "string"}}},
           {"message", {{"type", "string"}}},
           {"metadata", object(Json{{"action_type", {{"type", "string"}}},
                                    {"files_involved",
                                     {{"type", "array"}, {"items", {{"type", "string"}}}}}},
                               Json::array({"action_type", "files_involved"}))},
           {"timestamp", iso_time()}},
      Json::array({"id", "from", "from_role", "message", "metadata", "timestamp"}));
}

}  // namespace cb::tools::schema
