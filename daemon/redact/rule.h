#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

// The shape of one redaction rule as the engine runs it. Built-in rules are tables of RuleSpec
// (rules_*.cpp); operator rules from the config are converted to RuleSpec by Redactor::create.
namespace cb::redact {

inline constexpr std::size_t kUnbounded = static_cast<std::size_t>(-1);

// Half-open byte range [begin, end) of the input text.
struct Span {
  std::size_t begin = 0;
  std::size_t end = 0;
  std::size_t size() const { return end - begin; }
  bool empty() const { return end <= begin; }
};

// Decides whether a regex match is a secret. `match` is the whole regex match, `*secret` the part
// that would be replaced (the capture group); a check may narrow *secret (e.g. drop trailing
// sentence punctuation) and widen it only over punctuation that ends the line of a config value
// (at most 8 bytes; see take_line_end_punctuation in checks.cpp). Must run in time linear in the match length plus a
// small constant: checks may look at most kCheckContext bytes around the match.
using Check = bool (*)(std::string_view text, Span match, Span* secret);
inline constexpr std::size_t kCheckContext = 64;

// Screens one keyword occurrence at `pos` (`length` bytes) before any regex runs: false means no
// match of the rule can involve this occurrence. Looks at most kCheckContext bytes around it.
using Gate = bool (*)(std::string_view text, std::size_t pos, std::size_t length);

// Finds, in a match of a rule's pattern, the span its first capture group takes: for patterns
// where the group's place follows from the match alone (a fixed-length tail, the run after the
// last blank). The engine then asks RE2 for the match bounds only, which its DFA answers,
// instead of running a submatch engine (OnePass, BitState or NFA; the last two cost time in
// the pattern's size times the match's). Must give exactly the span RE2 would report:
// tests/redact/locators_test.cpp compares them on the corpus. Linear in the match length.
using Locate = Span (*)(std::string_view text, Span match);

// Replaces the regex for structures a single regex cannot express (e.g. the data block of a
// Kubernetes Secret). Appends the secret spans it finds; must be linear in text.size().
using Scanner = void (*)(std::string_view text, std::vector<Span>* out);

enum Boundary : unsigned {
  kNoBoundary = 0,
  kLeftBoundary = 1,   // the byte before the match is not [A-Za-z0-9_]
  kRightBoundary = 2,  // the byte after the secret is not [A-Za-z0-9]
  kBothBoundaries = 3,
};

struct RuleSpec {
  std::string name;         // the kind reported in RedactionHit
  std::string label;        // what the rule recognises, for RedactionHit::rule ("" = name)
  std::string placeholder;  // replaces the secret
  // RE2 syntax, compiled as Latin-1 for built-in rules. Built-in rules replace the first capture
  // group that participates in the match (or the whole match if none); custom rules replace
  // group 1 when the pattern has one.
  std::string pattern;
  // Prefilter: the rule runs only on windows around occurrences of these literals. Every match of
  // the pattern must start at most `lookbehind` bytes before the start of a keyword occurrence
  // and end at most `lookahead` bytes after it. An empty list means "run on the whole text".
  std::vector<std::string> keywords;
  bool keywords_case_sensitive = false;
  std::size_t lookbehind = 0;
  std::size_t lookahead = 256;
  // Whether every match contains a keyword occurrence (then a window's search stops after its
  // last occurrence). False for rules whose keyword is only context nearby.
  bool keyword_in_match = true;
  unsigned boundary = kNoBoundary;
  Check check = nullptr;
  Gate gate = nullptr;
  Scanner scanner = nullptr;  // when set, `pattern` is unused
  Locate locate = nullptr;    // built-in rules: replaces RE2's capture of the group
};

// The built-in tables, in priority order (an earlier rule wins a tie over the same span).
std::vector<RuleSpec> provider_rules();  // vendor token formats with a recognisable shape
std::vector<RuleSpec> context_rules();   // secrets recognised by what surrounds them

}  // namespace cb::redact
