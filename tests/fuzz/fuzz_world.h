#pragma once

#include <memory>
#include <string>

#include "daemon/bridge/bridge.h"
#include "daemon/mcp/tool_registry.h"
#include "daemon/store/sqlite_database.h"

// What the MCP fuzz targets share: the real tools over a real Bridge on an in-memory SQLite
// database, with a fake clock and every rate limit off (a fuzzer must not lock itself out).
// One conversation exists from the start; its id and tokens are random per process, so inputs
// name them with placeholders that expand() replaces:
//   @CONV@  its conversation_id     @TA@  session a's token     @TB@  session b's token
namespace cb::fuzz {

struct World {
  World();
  ~World();

  // Replaces the placeholders above in `input`.
  std::string expand(std::string input) const;

  std::unique_ptr<store::Database> db;
  cb::FakeClock clock;
  bridge::Settings settings;
  std::unique_ptr<bridge::Bridge> bridge;
  mcp::ToolRegistry tools;
  std::string conversation_id, token_a, token_b;
};

}  // namespace cb::fuzz
