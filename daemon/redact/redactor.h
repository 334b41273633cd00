#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

// The secret-redaction engine. Everything that stores or forwards text written by an agent or a
// command passes it through one shared Redactor first: messages, every metadata string, roles,
// status text, command output, audit details.
namespace cb::redact {

// A rule added by the operator in the config file ([[redaction.rules]]).
struct RedactionRule {
  std::string name;         // kind reported to the sender, e.g. "acme_token"
  std::string pattern;      // RE2 syntax; if it has a capture group, only group 1 is replaced
  std::string placeholder;  // e.g. "ACME_TOKEN_REDACTED"
};

// One replaced span, in offsets of the *input* text.
struct RedactionHit {
  std::string kind;
  std::size_t offset = 0;
  std::size_t length = 0;
  // Why: the rule that fired (what it recognises, e.g. "password: a key that names a password,
  // then a value") and the context it matched around the secret, as redacted text (every secret
  // in it replaced by its placeholder, at most ~100 bytes): "pw for staging: PASSWORD_REDACTED".
  std::string rule;
  std::string context;
};

struct Redacted {
  std::string text;                // the input with every secret replaced by its placeholder
  std::vector<RedactionHit> hits;  // in input order, non-overlapping
  bool changed() const { return !hits.empty(); }
  std::map<std::string, int> counts() const;  // kind -> number of hits
  void add_counts_to(std::map<std::string, int>& into) const;  // into[kind] += hits of kind
};

// Immutable once built; safe to share (the daemon swaps in a new one on config reload).
class Redactor {
 public:
  // Built-in rules plus `custom`. A custom rule that does not compile, has an empty name or
  // placeholder, or matches the empty string is refused (code "redaction_rule"): one line
  // naming the rule and the problem.
  static Result<std::shared_ptr<const Redactor>> create(const std::vector<RedactionRule>& custom);
  // Built-in rules only; never fails.
  static std::shared_ptr<const Redactor> builtin();

  virtual ~Redactor() = default;
  // Linear in the input size for every rule and check.
  virtual Redacted redact(std::string_view text) const = 0;
  // Names of all rule kinds, built-in and custom.
  virtual std::vector<std::string> kinds() const = 0;
};

}  // namespace cb::redact
