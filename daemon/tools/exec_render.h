#pragma once

#include <nlohmann/json.hpp>

#include "daemon/bridge/exec_types.h"

// The JSON of command execution's tool results (enable_yolo_mode, execute_command), each
// renderer beside the output schema it must satisfy (tools/list publishes the schema;
// tests/unit/render_schema_test.cpp validates the renderer's output against it). The wording
// for the model lives here, not in the product.
namespace cb::tools {

using Json = nlohmann::json;

// A mode name ("safe", "restricted", "yolo") with its description.
Json exec_mode_schema(const char* description);

Json mode_set_schema();
Json render(const bridge::ModeSet& m);

Json command_run_schema();
Json render(const bridge::CommandRun& r);

}  // namespace cb::tools
