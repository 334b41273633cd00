#pragma once

#include <nlohmann/json.hpp>

// Reusable JSON Schema fragments for the bridge tools.
namespace cb::tools::schema {

using Json = nlohmann::json;

Json conversation_id();
Json session_id();
Json token();
Json iso_time();
Json nullable(Json s);
// An object schema with the given properties, all listed in `required`, no others allowed.
Json object(Json properties, Json required);
// The three authentication properties every tool but create_conversation takes.
Json auth_properties();
Json auth_required();

}  // namespace cb::tools::schema
