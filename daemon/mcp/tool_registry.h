#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "daemon/mcp/tool.h"

namespace valijson {
class Validator;
}

namespace cb::mcp {

// The tools a server publishes. Each tool's inputSchema is compiled once when it is added, and
// every call's arguments are validated against that very schema before the handler runs.
class ToolRegistry {
 public:
  ToolRegistry();
  ~ToolRegistry();
  ToolRegistry(const ToolRegistry&) = delete;
  ToolRegistry& operator=(const ToolRegistry&) = delete;

  // Throws std::invalid_argument at start-up for a malformed tool (bad name, schema that does
  // not compile): a programming error, never a run-time condition.
  void add(Tool tool);
  // Replaces the inputSchema of the tool `name` (a configuration reload changed a limit it
  // embeds): tools/list and every later call's validation use the new schema. The Tool stays
  // where it is, so a call running its handler is unaffected. Throws as add() does.
  void replace_input_schema(std::string_view name, Json schema);

  // Whether tools/list publishes the tool `name` (default: yes). An unlisted tool is still
  // found and called: a client that knows it gets its handler's answer, not "unknown tool".
  void set_listed(std::string_view name, bool listed);

  const Tool* find(std::string_view name) const;
  std::size_t size() const;

  // One page of tools/list. `cursor` is null or a string this registry issued; anything else
  // yields nullopt (the caller answers -32602).
  std::optional<Json> list_page(const Json& cursor) const;

  // Empty when `arguments` satisfy the tool's inputSchema; otherwise one message per problem,
  // each naming the field and the rule ("message: must be at most 50000 characters").
  std::vector<std::string> validate(const Tool& tool, const Json& arguments) const;

  // Whether the quick check (quick_check.h) alone vouches for `arguments`; validate() then
  // skips valijson. For tests: every tool's schema must stay within the quick check's keywords.
  bool quick_passes(const Tool& tool, const Json& arguments) const;
  // Fuzz targets and tests: validate() also runs valijson on what the quick check vouched for
  // and throws std::logic_error if valijson finds a problem there.
  void set_cross_check(bool on) { cross_check_ = on; }

  // Validates a result against the tool's outputSchema (tests use this).
  std::vector<std::string> validate_output(const Tool& tool, const Json& structured) const;

  static constexpr std::size_t kPageSize = 50;

 private:
  struct Compiled;
  std::vector<std::unique_ptr<Compiled>> tools_;
  // One validator for every call: it caches the compiled std::regex of each "pattern" (a new
  // validator per call recompiled them, ~100 µs of every tools/call).
  std::unique_ptr<valijson::Validator> validator_;
  bool cross_check_ = false;
};

// JSON of a tool as tools/list publishes it.
Json tool_to_json(const Tool& tool);

}  // namespace cb::mcp
