#include "daemon/redact/redactor.h"

#include <re2/re2.h>

#include <cstdio>
#include <cstdlib>

#include "common/one_line.h"
#include "daemon/redact/engine.h"
#include "daemon/redact/rule.h"

namespace cb::redact {
namespace {

// Probes for patterns that can match an empty span somewhere (a*, x?, ^, \b, a|): such a rule
// would replace nothing, or splice placeholders between every byte.
bool matches_empty(const RE2& re) {
  if (RE2::FullMatch("", re)) return true;
  for (const char* probe : {" ", "a", "a b", "\n", "ab", "0", "A-_."}) {
    const re2::StringPiece text(probe);
    for (std::size_t pos = 0; pos <= text.size(); ++pos) {
      re2::StringPiece match;
      if (re.Match(text, pos, text.size(), RE2::ANCHOR_START, &match, 1) && match.empty()) {
        return true;
      }
    }
  }
  return false;
}

std::string validate(const RedactionRule& rule, std::size_t index) {
  const std::string label =
      rule.name.empty() ? "#" + std::to_string(index + 1) : "'" + rule.name + "'";
  if (rule.name.empty()) return "redaction rule " + label + ": empty name";
  if (rule.placeholder.empty()) return "redaction rule " + label + ": empty placeholder";
  RE2::Options options;
  options.set_log_errors(false);
  const RE2 re(rule.pattern, options);
  if (!re.ok()) return "redaction rule " + label + ": pattern does not compile: " + re.error();
  if (matches_empty(re)) return "redaction rule " + label + ": pattern matches the empty string";
  return {};
}

std::vector<redact::RuleSpec> builtin_specs() {
  std::vector<redact::RuleSpec> specs = redact::provider_rules();
  std::vector<redact::RuleSpec> context = redact::context_rules();
  specs.insert(specs.end(), std::make_move_iterator(context.begin()),
               std::make_move_iterator(context.end()));
  return specs;
}

}  // namespace

std::map<std::string, int> Redacted::counts() const {
  std::map<std::string, int> out;
  add_counts_to(out);
  return out;
}

void Redacted::add_counts_to(std::map<std::string, int>& into) const {
  for (const RedactionHit& hit : hits) ++into[hit.kind];
}

Result<std::shared_ptr<const Redactor>> Redactor::create(
    const std::vector<RedactionRule>& custom) {
  std::vector<redact::RuleSpec> specs = builtin_specs();
  const std::size_t builtin_count = specs.size();
  for (std::size_t i = 0; i < custom.size(); ++i) {
    std::string problem = validate(custom[i], i);
    if (!problem.empty()) {
      // Names and RE2's quotes hold any byte: the message is kept to one line.
      return Status::error("redaction_rule", one_line(problem));
    }
    redact::RuleSpec spec;
    spec.name = custom[i].name;
    spec.label = "an operator rule from the config ([[redaction.rules]])";
    spec.pattern = custom[i].pattern;
    spec.placeholder = custom[i].placeholder;
    spec.lookbehind = redact::kUnbounded;
    spec.lookahead = redact::kUnbounded;
    specs.push_back(std::move(spec));
  }
  auto engine = redact::Engine::build(std::move(specs), builtin_count);
  if (!engine) return Status::error("redaction_rule", one_line(engine.status().message()));
  return std::shared_ptr<const Redactor>(std::move(engine).value());
}

std::shared_ptr<const Redactor> Redactor::builtin() {
  static const std::shared_ptr<const Redactor> instance = [] {
    auto engine = redact::Engine::build(builtin_specs(), builtin_specs().size());
    if (!engine) {
      // Only a defect in the built-in tables gets here, and the unit tests catch it first.
      std::fprintf(stderr, "claude-bridge: built-in redaction rules are broken: %s\n",
                   engine.status().message().c_str());
      std::abort();
    }
    return std::shared_ptr<const Redactor>(std::move(engine).value());
  }();
  return instance;
}

}  // namespace cb::redact
