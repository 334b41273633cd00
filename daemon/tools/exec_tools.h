#pragma once

#include "daemon/bridge/bridge.h"
#include "daemon/mcp/tool_registry.h"

// The command-execution tools of the original, enable_yolo_mode and execute_command (see
// YOLO_MODE.md). Always listed, since Claude Code fixes the tool list at connect time; while the
// operator has not turned execution on in the config file, both answer with an isError saying
// how a person does that.
namespace cb::tools {

void register_exec_tools(mcp::ToolRegistry& registry, bridge::Bridge& bridge);

}  // namespace cb::tools
