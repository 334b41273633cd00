#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "daemon/redact/keyword_scanner.h"
#include "daemon/redact/redactor.h"
#include "daemon/redact/rule.h"

namespace re2 {
class FilteredRE2;
class RE2;
}  // namespace re2

namespace cb::redact {

// Work done by one redact() call; lets tests prove linearity by counting instead of timing.
struct ScanStats {
  std::size_t keyword_hits = 0;  // keyword occurrences found by the prefilter
  std::size_t gated_hits = 0;    // (occurrence, rule) pairs that passed boundary and gate
  std::size_t regex_calls = 0;   // RE2 searches started
  std::size_t window_bytes = 0;  // bytes of text handed to those searches
  std::size_t candidates = 0;    // matches that passed their check, before overlap resolution
};

// The rule engine behind Redactor. One pass of the keyword prefilter finds the occurrences of
// every rule's keywords; each occurrence that passes the rule's gate (a constant-time shape
// test) opens a window around itself, and windows of the same rule that touch are merged. A
// window holding one occurrence of a rule whose matches start at their keyword gets a single
// anchored RE2 attempt; any other window an unanchored search that stops after its last
// occurrence. A rule's windows are disjoint, so its regex reads each byte of the text a bounded
// number of times. Rules without keywords (custom rules whose required literals RE2 cannot
// derive) read the whole text once. Immutable after build(); redact() is safe from any thread.
class Engine final : public Redactor {
 public:
  // The first `builtin_count` specs are built-in: compiled as Latin-1, replacing their first
  // participating capture group. The rest are operator rules: UTF-8, group 1, gated by the
  // literals RE2's FilteredRE2 derives from them. Fails (code "redaction_rule") when a pattern
  // does not compile or a keyword is refused, naming the rule.
  static Result<std::shared_ptr<const Engine>> build(std::vector<RuleSpec> specs,
                                                     std::size_t builtin_count);
  ~Engine() override;

  Redacted redact(std::string_view text) const override;
  Redacted redact(std::string_view text, ScanStats* stats) const;
  std::vector<std::string> kinds() const override;

 private:
  struct CompiledRule {
    RuleSpec spec;
    std::unique_ptr<re2::RE2> re;  // null for scanner rules
    int groups = 0;                // capture groups fetched per match
    bool builtin = true;
  };
  struct Candidate {
    Span span;
    std::size_t rule;
    Span match;  // the whole regex match: the context that fired
  };
  Engine() = default;
  // Runs one rule over `window`: a single attempt anchored at `anchor` when it is not
  // kUnbounded, else an unanchored search loop that stops after `last_keyword`.
  void search(std::string_view text, std::size_t rule, Span window, std::size_t anchor,
              std::size_t last_keyword, std::size_t* resume, std::vector<Candidate>* out,
              ScanStats* stats) const;

  std::vector<CompiledRule> rules_;
  KeywordScanner keywords_;
  std::vector<std::vector<std::size_t>> keyword_rules_;  // keyword id -> rules it opens
  std::vector<int> keyword_atom_;                        // keyword id -> gate atom, or -1
  std::vector<std::size_t> whole_text_rules_;            // no keywords, no gate
  std::unique_ptr<re2::FilteredRE2> gate_;               // prefilter of custom rules
  std::vector<std::size_t> gate_rule_;                   // gate regexp id -> rule
  std::vector<int> always_atoms_;                        // atoms the scanner cannot look for
  std::size_t atom_count_ = 0;
};

}  // namespace cb::redact
