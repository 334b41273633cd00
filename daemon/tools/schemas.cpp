#include "daemon/tools/schemas.h"

namespace cb::tools::schema {

Json conversation_id() {
  return Json{{"type", "string"},
              {"pattern", "^conv_[a-f0-9]{16}$"},
              {"description", "Conversation id (conv_ + 16 hex)."}};
}

Json session_id() {
  return Json{{"type", "string"},
              {"enum", {"a", "b"}},
              {"description", "Your seat: a (creator) or b."}};
}

Json token() {
  return Json{{"type", "string"}, {"pattern", "^[a-f0-9]{64}$"}, {"description", "Seat token."}};
}

Json role(const char* description) {
  return Json{{"type", "string"},
              {"minLength", 3},
              {"maxLength", 100},
              {"description", std::string(description) + " (no control characters)"}};
}

std::string role_problem(const Json& args) {
  for (const char* key : {"my_role", "partner_role"}) {
    const auto it = args.find(key);
    if (it == args.end() || !it->is_string()) continue;
    for (const char c : it->get_ref<const std::string&>()) {
      const auto u = static_cast<unsigned char>(c);
      if (u < 0x20 || u == 0x7F) {
        return std::string("Invalid arguments for create_conversation: ") + key +
               ": a role may not hold control characters (newline, tab, escape, NUL, DEL). "
               "Fix these and call create_conversation again.";
      }
    }
  }
  return {};
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

Json agent_names(const char* description) {
  return Json{{"type", "array"},
              {"minItems", 1},
              {"maxItems", 49},
              {"items", {{"type", "string"}, {"maxLength", 32}}},
              {"description", description}};
}

Json auth_required() { return Json::array({"conversation_id", "session_id", "token"}); }

}  // namespace cb::tools::schema
