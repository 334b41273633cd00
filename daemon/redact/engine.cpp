#include "daemon/redact/engine.h"

#include <re2/filtered_re2.h>
#include <re2/re2.h>

#include <algorithm>
#include <map>

namespace cb::redact {
namespace {

constexpr int kMaxGroups = 8;
// A match ending this close to its window's end is re-run without the window.
constexpr std::size_t kRematchSlack = 16;

bool is_word_byte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}
bool is_alnum_byte(char c) { return is_word_byte(c) && c != '_'; }

RE2::Options options_for(bool builtin) {
  RE2::Options options;
  options.set_log_errors(false);
  if (builtin) options.set_encoding(RE2::Options::EncodingLatin1);
  return options;
}

// Per-rule window being accumulated during the keyword pass.
struct Window {
  Span span;
  std::size_t first = 0;  // first and last keyword occurrence inside
  std::size_t last = 0;
  std::size_t occurrences = 0;
  bool open = false;
  std::size_t resume = 0;  // the rule's searches never restart before this offset
};

struct Accepted {
  std::size_t end;
  std::size_t rule;
  std::size_t rank;  // order of acceptance: lower = longer/earlier/higher-priority
  Span match;        // of the candidate that gave `rule`
};

// Bytes of context kept on each side of a hit's placeholder in RedactionHit::context.
constexpr std::size_t kContextBefore = 60;
constexpr std::size_t kContextAfter = 40;

}  // namespace

Engine::~Engine() = default;

Result<std::shared_ptr<const Engine>> Engine::build(std::vector<RuleSpec> specs,
                                                    std::size_t builtin_count) {
  std::shared_ptr<Engine> engine(new Engine());
  std::vector<std::size_t> gated;
  std::map<std::pair<std::string, bool>, int> keyword_ids;
  auto keyword_id = [&](const std::string& keyword, bool case_sensitive) {
    std::string key = keyword;
    if (!case_sensitive) {
      for (char& c : key) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    }
    const auto found = keyword_ids.find({key, case_sensitive});
    if (found != keyword_ids.end()) return found->second;
    const int id = engine->keywords_.add(key, case_sensitive);
    if (id >= 0) {
      keyword_ids.emplace(std::make_pair(key, case_sensitive), id);
      engine->keyword_rules_.emplace_back();
      engine->keyword_atom_.push_back(-1);
    }
    return id;
  };
  for (std::size_t i = 0; i < specs.size(); ++i) {
    CompiledRule rule;
    rule.builtin = i < builtin_count;
    rule.spec = std::move(specs[i]);
    if (rule.spec.scanner == nullptr) {
      rule.re = std::make_unique<RE2>(rule.spec.pattern, options_for(rule.builtin));
      if (!rule.re->ok()) {
        return Status::error("redaction_rule", "redaction rule '" + rule.spec.name +
                                                   "': pattern does not compile: " +
                                                   rule.re->error());
      }
      const int groups = rule.re->NumberOfCapturingGroups();
      rule.groups = rule.builtin ? std::min(groups, kMaxGroups - 1) : std::min(groups, 1);
      if (rule.builtin && rule.spec.locate != nullptr) rule.groups = 0;  // located, not captured
    }
    const std::size_t index = engine->rules_.size();
    if (!rule.spec.keywords.empty()) {
      for (const std::string& keyword : rule.spec.keywords) {
        const int id = keyword_id(keyword, rule.spec.keywords_case_sensitive);
        if (id < 0) {
          return Status::error("redaction_rule",
                               "redaction rule '" + rule.spec.name + "': bad keyword");
        }
        auto& owners = engine->keyword_rules_[static_cast<std::size_t>(id)];
        if (std::find(owners.begin(), owners.end(), index) == owners.end()) {
          owners.push_back(index);
        }
      }
    } else if (rule.builtin) {
      engine->whole_text_rules_.push_back(index);
    } else {
      gated.push_back(index);
    }
    engine->rules_.push_back(std::move(rule));
  }

  if (!gated.empty()) {
    // Custom rules: FilteredRE2 derives the literals a match must contain; the keyword pass
    // looks for them and FilteredRE2 says which rules remain possible.
    engine->gate_ = std::make_unique<re2::FilteredRE2>(3);
    for (std::size_t index : gated) {
      int id = -1;
      if (engine->gate_->Add(engine->rules_[index].spec.pattern, options_for(false), &id) !=
          RE2::NoError) {
        engine->whole_text_rules_.push_back(index);  // cannot be prefiltered: always runs
        continue;
      }
      engine->gate_rule_.push_back(index);
    }
    std::vector<std::string> atoms;
    engine->gate_->Compile(&atoms);
    engine->atom_count_ = atoms.size();
    for (std::size_t a = 0; a < atoms.size(); ++a) {
      const bool ascii = std::all_of(atoms[a].begin(), atoms[a].end(),
                                     [](char c) { return static_cast<unsigned char>(c) < 0x80; });
      const int id = ascii ? keyword_id(atoms[a], false) : -1;
      if (id < 0 || engine->keyword_atom_[static_cast<std::size_t>(id)] >= 0) {
        // Not searchable, or the literal is already another atom's keyword: assume present.
        engine->always_atoms_.push_back(static_cast<int>(a));
        continue;
      }
      engine->keyword_atom_[static_cast<std::size_t>(id)] = static_cast<int>(a);
    }
  }
  return std::shared_ptr<const Engine>(std::move(engine));
}

std::vector<std::string> Engine::kinds() const {
  std::vector<std::string> out;
  for (const CompiledRule& rule : rules_) {
    if (std::find(out.begin(), out.end(), rule.spec.name) == out.end()) {
      out.push_back(rule.spec.name);
    }
  }
  return out;
}

Redacted Engine::redact(std::string_view text) const { return redact(text, nullptr); }

void Engine::search(std::string_view text, std::size_t index, Span window, std::size_t anchor,
                    std::size_t last_keyword, std::size_t* resume, std::vector<Candidate>* out,
                    ScanStats* stats) const {
  const CompiledRule& rule = rules_[index];
  if (rule.spec.scanner != nullptr) {
    // Scanner rules always use whole-text windows, so this runs at most once per call.
    std::vector<Span> spans;
    rule.spec.scanner(text, &spans);
    if (stats != nullptr) stats->window_bytes += text.size();
    for (const Span& span : spans) {
      if (!span.empty()) out->push_back({span, index});
    }
    *resume = text.size();
    return;
  }
  const re2::StringPiece input(text.data(), text.size());
  re2::StringPiece groups[kMaxGroups];
  const int fetch = rule.groups + 1;
  std::size_t pos = std::max(window.begin, *resume);
  if (anchor != kUnbounded && anchor < pos) return;  // inside an earlier match of this rule
  if (anchor != kUnbounded) pos = anchor;
  // Each unanchored call sees at most two spans (lookbehind + lookahead) of text, stepping one
  // span on when nothing matches: any match lies within one span of its start, so none is
  // missed, and no call can scan far past the match it returns, whatever the pattern.
  const std::size_t span = (rule.spec.lookbehind == kUnbounded || rule.spec.lookahead == kUnbounded)
                               ? kUnbounded
                               : rule.spec.lookbehind + rule.spec.lookahead + kRematchSlack;
  // Every match contains a keyword occurrence, so nothing starts after the window's last one.
  while (pos < window.end && pos <= last_keyword) {
    std::size_t end =
        span == kUnbounded || window.end - pos <= 2 * span ? window.end : pos + 2 * span;
    // An anchored attempt's match starts at its keyword whatever the end, so the end may run
    // kRematchSlack past the window: a match that keeps within its rule's lookahead then ends
    // that far from the edge and needs no second run to its natural end (38 of 115 reruns per
    // call on the dense bench input). Single-occurrence windows are a lookahead apart, so the
    // bytes read grow by at most kRematchSlack per attempt.
    if (anchor != kUnbounded && end == window.end) {
      end = std::min(text.size(), end + kRematchSlack);
    }
    if (stats != nullptr) ++stats->regex_calls;
    const RE2::Anchor mode = anchor != kUnbounded ? RE2::ANCHOR_START : RE2::UNANCHORED;
    if (!rule.re->Match(input, pos, end, mode, groups, fetch)) {
      if (stats != nullptr) stats->window_bytes += end - pos;
      if (end == window.end || anchor != kUnbounded) break;
      pos = end - span;
      continue;
    }
    std::size_t match_begin = static_cast<std::size_t>(groups[0].data() - text.data());
    std::size_t match_end = match_begin + groups[0].size();
    if (end < text.size() && match_end + kRematchSlack >= end) {
      // The window may have cut the match short (or mid-way through a multi-byte unit such as
      // a "\n" escape); let it run to its natural end.
      if (stats != nullptr) ++stats->regex_calls;
      if (rule.re->Match(input, match_begin, text.size(), RE2::ANCHOR_START, groups, fetch)) {
        match_end = match_begin + groups[0].size();
      }
    }
    if (stats != nullptr) stats->window_bytes += match_end - pos;
    pos = match_end > match_begin ? match_end : match_begin + 1;
    *resume = pos;
    if (anchor != kUnbounded) pos = window.end;  // one attempt only

    Span secret{match_begin, match_end};
    for (int g = 1; g < fetch; ++g) {
      if (groups[g].data() != nullptr) {
        secret.begin = static_cast<std::size_t>(groups[g].data() - text.data());
        secret.end = secret.begin + groups[g].size();
        break;
      }
      if (!rule.builtin) break;  // custom rules: group 1 or the whole match
    }
    if (rule.spec.locate != nullptr && rule.builtin) {
      secret = rule.spec.locate(text, Span{match_begin, match_end});
    }
    if (secret.empty()) continue;
    if ((rule.spec.boundary & kLeftBoundary) != 0 && match_begin > 0 &&
        is_word_byte(text[match_begin - 1])) {
      continue;
    }
    if ((rule.spec.boundary & kRightBoundary) != 0 && secret.end < text.size() &&
        is_alnum_byte(text[secret.end])) {
      continue;
    }
    if (rule.spec.check != nullptr &&
        !rule.spec.check(text, Span{match_begin, match_end}, &secret)) {
      continue;
    }
    if (secret.empty()) continue;
    out->push_back({secret, index, Span{match_begin, match_end}});
  }
}

Redacted Engine::redact(std::string_view text, ScanStats* stats) const {
  std::vector<Window> windows(rules_.size());
  std::vector<Candidate> candidates;
  std::vector<char> atom_seen(atom_count_, 0);
  const std::size_t n = text.size();

  auto flush = [&](std::size_t index) {
    Window& w = windows[index];
    if (w.open) {
      const bool anchored = w.occurrences == 1 && rules_[index].spec.lookbehind == 0;
      const std::size_t last = rules_[index].spec.keyword_in_match ? w.last : w.span.end;
      search(text, index, w.span, anchored ? w.first : kUnbounded, last, &w.resume, &candidates,
             stats);
    }
    w.open = false;
  };

  keywords_.scan(text, [&](int keyword, std::size_t pos) {
    if (stats != nullptr) ++stats->keyword_hits;
    const int atom = keyword_atom_[static_cast<std::size_t>(keyword)];
    if (atom >= 0) atom_seen[static_cast<std::size_t>(atom)] = 1;
    const std::size_t length = keywords_.length(keyword);
    // Rules sharing a keyword often share its gate (the name/value rules): a gate is a pure
    // function of the occurrence, so its last answer is reused.
    Gate last_gate = nullptr;
    bool last_open = false;
    for (std::size_t index : keyword_rules_[static_cast<std::size_t>(keyword)]) {
      const RuleSpec& spec = rules_[index].spec;
      // A token that must start at its keyword cannot start inside a word.
      if ((spec.boundary & kLeftBoundary) != 0 && spec.lookbehind == 0 && pos > 0 &&
          is_word_byte(text[pos - 1])) {
        continue;
      }
      if (spec.gate != nullptr) {
        if (spec.gate != last_gate) {
          last_gate = spec.gate;
          last_open = spec.gate(text, pos, length);
        }
        if (!last_open) continue;
      }
      if (stats != nullptr) ++stats->gated_hits;
      const std::size_t begin =
          (spec.lookbehind == kUnbounded || pos < spec.lookbehind) ? 0 : pos - spec.lookbehind;
      const std::size_t end =
          (spec.lookahead == kUnbounded || spec.lookahead > n - pos) ? n : pos + spec.lookahead;
      Window& w = windows[index];
      if (w.open && begin <= w.span.end) {
        w.span.end = std::max(w.span.end, end);
        w.last = pos;
        ++w.occurrences;
        continue;
      }
      flush(index);
      w.span = {begin, end};
      w.first = w.last = pos;
      w.occurrences = 1;
      w.open = true;
    }
  });
  for (std::size_t index = 0; index < rules_.size(); ++index) flush(index);
  for (std::size_t index : whole_text_rules_) {
    std::size_t resume = 0;
    search(text, index, {0, n}, kUnbounded, n, &resume, &candidates, stats);
  }
  if (gate_ != nullptr) {
    std::vector<int> matched(always_atoms_);
    for (std::size_t a = 0; a < atom_seen.size(); ++a) {
      if (atom_seen[a] != 0) matched.push_back(static_cast<int>(a));
    }
    std::sort(matched.begin(), matched.end());
    std::vector<int> possible;
    gate_->AllPotentials(matched, &possible);
    for (int id : possible) {
      std::size_t resume = 0;
      search(text, gate_rule_[static_cast<std::size_t>(id)], {0, n}, kUnbounded, n, &resume,
             &candidates, stats);
    }
  }
  if (stats != nullptr) stats->candidates += candidates.size();

  // Longest first, then earliest, then the rule listed first. A span overlapping one already
  // kept is absorbed into it (the kept span grows to the union), so no byte of any candidate
  // secret survives and the output spans stay disjoint.
  std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
    if (a.span.size() != b.span.size()) return a.span.size() > b.span.size();
    if (a.span.begin != b.span.begin) return a.span.begin < b.span.begin;
    return a.rule < b.rule;
  });
  std::map<std::size_t, Accepted> kept;  // begin -> accepted span
  std::size_t rank = 0;
  for (const Candidate& c : candidates) {
    auto it = kept.upper_bound(c.span.begin);
    if (it != kept.begin() && std::prev(it)->second.end > c.span.begin) --it;
    if (it == kept.end() || it->first >= c.span.end) {
      kept.emplace(c.span.begin, Accepted{c.span.end, c.rule, rank++, c.match});
      continue;
    }
    std::size_t begin = std::min(c.span.begin, it->first);
    std::size_t end = c.span.end;
    Accepted best = it->second;
    while (it != kept.end() && it->first < c.span.end) {
      end = std::max(end, it->second.end);
      if (it->second.rank < best.rank) best = it->second;
      it = kept.erase(it);
    }
    best.end = end;
    kept.emplace(begin, best);
  }

  Redacted result;
  result.hits.reserve(kept.size());
  result.text.reserve(n);
  std::size_t copied = 0;
  // Output offset of each kept span's placeholder, so a hit's context is cut from the output:
  // no secret of any hit appears in any context.
  std::vector<std::size_t> out_begin;
  out_begin.reserve(kept.size());
  for (const auto& [begin, accepted] : kept) {
    const CompiledRule& rule = rules_[accepted.rule];
    result.text.append(text.substr(copied, begin - copied));
    out_begin.push_back(result.text.size());
    result.text.append(rule.spec.placeholder);
    result.hits.push_back({rule.spec.name, begin, accepted.end - begin,
                           rule.spec.label.empty() ? rule.spec.name : rule.spec.label, {}});
    copied = accepted.end;
  }
  result.text.append(text.substr(copied));
  // A hit's context is its match mapped into the output, so every secret in it (its own and any
  // other hit's) shows as a placeholder.
  std::vector<std::size_t> in_begin, in_end;
  in_begin.reserve(kept.size());
  in_end.reserve(kept.size());
  for (const auto& [begin, accepted] : kept) {
    in_begin.push_back(begin);
    in_end.push_back(accepted.end);
  }
  // Output offset of input offset x; `end` maps an x inside a span to its placeholder's end.
  const auto to_output = [&](std::size_t x, bool end) {
    const auto after = std::upper_bound(in_begin.begin(), in_begin.end(), x);
    if (after == in_begin.begin()) return x;
    const std::size_t j = static_cast<std::size_t>(after - in_begin.begin()) - 1;
    const std::size_t placeholder = rules_[kept.at(in_begin[j]).rule].spec.placeholder.size();
    if (x < in_end[j]) return end && x > in_begin[j] ? out_begin[j] + placeholder : out_begin[j];
    return out_begin[j] + placeholder + (x - in_end[j]);
  };
  std::size_t i = 0;
  for (const auto& [begin, accepted] : kept) {
    const std::size_t placeholder = rules_[accepted.rule].spec.placeholder.size();
    const std::size_t own_end = out_begin[i] + placeholder;
    std::size_t from = std::min(to_output(accepted.match.begin, false), out_begin[i]);
    std::size_t to = std::max(to_output(accepted.match.end, true), own_end);
    from = std::max(from, out_begin[i] - std::min(out_begin[i], kContextBefore));
    to = std::min({to, own_end + kContextAfter, result.text.size()});
    // Cut on UTF-8 character boundaries: a context is valid UTF-8 when the text is.
    const auto continuation = [&](std::size_t at) {
      return at < result.text.size() &&
             (static_cast<unsigned char>(result.text[at]) & 0xC0) == 0x80;
    };
    while (from < out_begin[i] && continuation(from)) ++from;
    while (to > own_end && continuation(to)) --to;
    result.hits[i].context.assign(result.text, from, to - from);
    ++i;
  }
  return result;
}

}  // namespace cb::redact
