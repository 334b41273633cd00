#pragma once

#include <string>
#include <vector>

#include "daemon/rpc/jsonrpc.h"

// Turns valijson's problem reports into lines a person (or a model) can act on: the field as the
// caller wrote it, and the rule in words taken from the schema itself — "token: must be 64
// lowercase hex digits", "limit: must be at most 200 (it is 250)" — instead of the validator's
// "Failed to match regex specified by 'pattern' constraint" and "200.000000".
namespace cb::mcp {

// One problem valijson reported: its context (["<root>", "[message]", "[3]"]) and description.
struct SchemaProblem {
  std::vector<std::string> context;
  std::string description;
};

// The lines for `problems` found validating `value` against `schema`, in order, without the
// reports of enclosing containers and duplicates; a field with a pattern problem is described
// by its pattern alone (its length limits say less).
std::vector<std::string> describe_problems(const Json& schema, const Json& value,
                                           const std::vector<SchemaProblem>& problems);

// A pattern in words: "^[a-f0-9]{64}$" → "64 lowercase hex digits", "^conv_[a-f0-9]{16}$" →
// "\"conv_\" followed by 16 lowercase hex digits"; other patterns are quoted as they are.
std::string describe_pattern(const std::string& pattern);

}  // namespace cb::mcp
