#pragma once

#include <memory>

#include "daemon/mcp/tool.h"

namespace cb::mcp {

// A fast "yes" for the common tools/call: arguments that certainly satisfy an inputSchema.
//
// valijson stays the authority: it runs whenever this says no, and it alone words the problems.
// This only spares it the calls where every keyword holds, which valijson spent ~30,000
// instructions on (std::function per constraint, a context string per property, each string's
// length counted twice). It knows the keywords our tools use — type, properties, required,
// additionalProperties (true or false), enum of strings, minLength, maxLength, pattern, minimum,
// maximum, items (one schema), minItems, maxItems — and ignores the annotations description,
// title, default, examples and $comment. Each keyword is applied by valijson's own rule (the
// same std::regex_search, the same character count, the same double comparison), or by a
// stricter one that can only say no more often. A schema with any other keyword compiles to a
// check that always says no. tests/unit/quick_check_test.cpp and the session fuzz target hold
// it to that: whatever it passes, valijson passes.
class QuickCheck {
 public:
  QuickCheck();  // says no to everything
  explicit QuickCheck(const Json& schema);
  ~QuickCheck();
  QuickCheck(QuickCheck&&) noexcept;
  QuickCheck& operator=(QuickCheck&&) noexcept;

  // False when the schema uses a keyword outside the subset: passes() then always says no.
  bool usable() const { return root_ != nullptr; }
  // True only when `value` satisfies the schema; false when it does not or when in doubt.
  bool passes(const Json& value) const;

 private:
  struct Node;
  std::unique_ptr<Node> root_;
};

}  // namespace cb::mcp
