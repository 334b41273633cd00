#include "daemon/redact/locators.h"

#include <array>

#include "daemon/redact/ascii.h"

namespace cb::redact {
namespace {

bool is_blank_byte(char c) { return c == ' ' || c == '\t'; }
bool is_quote_byte(char c) { return c == '"' || c == '\'' || c == '`'; }

// The group of the prose rules: [^\s"'\x60*()\[\]{}<>].
bool is_prose_value_byte(char c) {
  switch (c) {
    case '"':
    case '\'':
    case '`':
    case '*':
    case '(':
    case ')':
    case '[':
    case ']':
    case '{':
    case '}':
    case '<':
    case '>':
      return false;
    default:
      return !ascii::is_space(c);
  }
}

// The tail \s+[*_"'\x60]{0,2}([^\s...]{min,}): the group lies in the run after the match's last
// blank. The {0,2} is greedy, so it keeps as many marks as leave the group `min` bytes; only '_'
// belongs to both, so that is the only byte whose side depends on the count.
Span locate_prose_value(std::string_view text, Span match, std::size_t min) {
  std::size_t run = match.end;
  while (run > match.begin && !ascii::is_space(text[run - 1])) --run;
  std::size_t marks = 0;
  while (marks < 2 && run + marks < match.end) {
    const char c = text[run + marks];
    if (c != '*' && c != '_' && !is_quote_byte(c)) break;
    ++marks;
  }
  for (std::size_t take = marks;; --take) {
    const std::size_t begin = run + take;
    bool value = match.end - begin >= min;
    for (std::size_t i = begin; value && i < match.end; ++i) value = is_prose_value_byte(text[i]);
    if (value || take == 0) return {begin, match.end};
  }
}

}  // namespace

Span locate_last_88(std::string_view, Span match) { return {match.end - 88, match.end}; }

Span locate_hex32_before_boundary(std::string_view text, Span match) {
  const char last = text[match.end - 1];
  const bool hex = (last >= '0' && last <= '9') || (last >= 'a' && last <= 'f');
  if (hex) return {match.end - 32, match.end};  // the group ends the text ($)
  return {match.end - 33, match.end - 1};
}

Span locate_after_sig(std::string_view, Span match) { return {match.begin + 5, match.end}; }

Span locate_after_scheme(std::string_view text, Span match) {
  std::size_t i = match.begin;
  while (i < match.end && !ascii::is_space(text[i])) ++i;
  while (i < match.end && ascii::is_space(text[i])) ++i;
  return {i, match.end};
}

Span locate_url_password(std::string_view text, Span match) {
  const std::size_t colon = text.find(':', match.begin + 3);
  return {colon + 1, match.end - 1};
}

Span locate_after_colon(std::string_view text, Span match) {
  return {text.find(':', match.begin) + 1, match.end};
}

Span locate_authorization(std::string_view text, Span match) {
  std::size_t i = match.begin + std::string_view("authorization").size();
  const std::size_t end = match.end;
  while (i < end && text[i] == '\\') ++i;
  if (i < end && is_quote_byte(text[i])) ++i;
  if (i < end && text[i] == ']') ++i;
  while (i < end && is_blank_byte(text[i])) ++i;
  ++i;  // ':' or '='
  while (i < end && is_blank_byte(text[i])) ++i;
  while (i < end && text[i] == '\\') ++i;
  if (i < end && is_quote_byte(text[i])) ++i;
  // An optional scheme word and blanks. Taken when the group fits after it; otherwise the
  // group starts at the word and ends at the blank after it, before `after` can be reached.
  static constexpr std::array<std::string_view, 9> kSchemes = {
      "token", "bot", "apikey", "api-key", "key", "sso-key", "ssws", "splunk", "otoken"};
  for (std::string_view scheme : kSchemes) {
    if (i >= end || end - i <= scheme.size() || !is_blank_byte(text[i + scheme.size()])) continue;
    bool same = true;
    for (std::size_t k = 0; same && k < scheme.size(); ++k) {
      same = ascii::to_lower(text[i + k]) == scheme[k];
    }
    if (!same) continue;
    std::size_t after = i + scheme.size();
    while (after < end && is_blank_byte(text[after])) ++after;
    if (after < end) return {after, end};
  }
  return {i, end};
}

Span locate_prose_value_3(std::string_view text, Span match) {
  return locate_prose_value(text, match, 3);
}

Span locate_prose_value_8(std::string_view text, Span match) {
  return locate_prose_value(text, match, 8);
}

}  // namespace cb::redact
