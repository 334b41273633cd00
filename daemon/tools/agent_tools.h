#pragma once

#include <nlohmann/json.hpp>

#include "daemon/bridge/settings.h"

namespace cb::tools {

// send_message's inputSchema: the message's maxLength is [conversation] message_max_chars.
nlohmann::json send_message_input_schema(const bridge::Settings& settings);

}  // namespace cb::tools
