#pragma once

#include <nlohmann/json.hpp>

// Reusable JSON Schema fragments for the bridge tools.
namespace cb::tools::schema {

using Json = nlohmann::json;

Json conversation_id();
Json session_id();
Json token();
// A role (create_conversation's my_role / partner_role): 3..100 characters, no control
// characters (C0 or DEL) — a role is a name shown to the partner's model and to the operator,
// and a newline or an escape sequence in it could forge lines in either.
Json role(const char* description);
Json iso_time();
Json nullable(Json s);
// An object schema with the given properties, all listed in `required`, no others allowed.
Json object(Json properties, Json required);
// The three authentication properties every tool but create_conversation takes.
Json auth_properties();
Json auth_required();
Json message_item();

}  // namespace cb::tools::schema
