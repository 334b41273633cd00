#pragma once

#include "daemon/bridge/bridge.h"
#include "daemon/mcp/tool_registry.h"

// The command-execution tools of the original, enable_yolo_mode and execute_command (see
// YOLO_MODE.md). Listed in tools/list only while [yolo] enabled = true: their definitions cost
// every session's context about 1,500 tokens. Unlisted, they stay callable and answer with an
// isError saying how a person turns execution on. Claude Code fixes its tool list at connect
// time, so a session sees a change of [yolo] enabled (SIGHUP) only once it reconnects.
namespace cb::tools {

void register_exec_tools(mcp::ToolRegistry& registry, bridge::Bridge& bridge);
// Lists or unlists both tools: at start-up and after each configuration reload.
void list_exec_tools(mcp::ToolRegistry& registry, bool enabled);

}  // namespace cb::tools
