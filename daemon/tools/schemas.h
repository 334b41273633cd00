#pragma once

#include <nlohmann/json.hpp>
#include <string>

// Reusable JSON Schema fragments for the bridge tools.
namespace cb::tools::schema {

using Json = nlohmann::json;

Json conversation_id();
Json session_id();
Json token();
// A role (create_conversation's my_role / partner_role): 3..100 characters.
Json role(const char* description);
// The rule on roles the schema does not state: no control characters (C0 or DEL). A role is a
// name the partner's model and the operator read on one line, and a newline or an escape
// sequence in it could forge lines in either. Not a schema "pattern": the validator's
// std::regex recurses once per byte, so a long role would exhaust the stack. Returns the
// isError text for the model, or "" when both roles are fine.
std::string role_problem(const Json& args);
Json iso_time();
Json nullable(Json s);
// An object schema with the given properties, all listed in `required`, no others allowed.
Json object(Json properties, Json required);
// The three authentication properties every tool but create_conversation takes.
Json auth_properties();
Json auth_required();
// An array of 1 to 49 agent names.
Json agent_names(const char* description);

}  // namespace cb::tools::schema
