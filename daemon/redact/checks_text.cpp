#include "daemon/redact/checks_text.h"

#include <algorithm>

#include "daemon/redact/value_shape.h"

namespace cb::redact::checks_internal {

// A single trailing run of sentence punctuation before whitespace or the end of the text is
// prose, not part of an unquoted value.
void trim_sentence_punctuation(std::string_view text, Span* secret) {
  if (secret->end < text.size() && !is_space(text[secret->end])) return;
  std::size_t end = secret->end;
  while (end > secret->begin + 1) {
    const char c = text[end - 1];
    if (c != '.' && c != ',' && c != ';' && c != ':' && c != '!' && c != '?' && c != ')' &&
        c != ']' && c != '}') {
      break;
    }
    --end;
  }
  secret->end = end;
}

// An unquoted value that ends its line in a config layout (the key at the start of the line or
// after a blank): trailing punctuation there is part of the value (password=Sup3rS3cret!), not
// the end of a sentence.
// The start of the key name around `pos` (a rule's match may start at a key word inside it:
// PASSWORD in DB_PASSWORD).
std::size_t key_name_start(std::string_view text, std::size_t pos) {
  const std::size_t floor = pos > kCheckContext ? pos - kCheckContext : 0;
  while (pos > floor && (is_alnum(text[pos - 1]) || text[pos - 1] == '_' || text[pos - 1] == '.' ||
                         text[pos - 1] == '-')) {
    --pos;
  }
  return pos;
}

bool ends_config_line(std::string_view text, std::size_t key_begin, Span secret) {
  if (secret.end < text.size() && text[secret.end] != '\n' && text[secret.end] != '\r') {
    return false;
  }
  key_begin = key_name_start(text, key_begin);
  return key_begin == 0 || is_space(text[key_begin - 1]);
}

// In a config line ("password: Tb1q=Kh)", "DB_PASSWORD = Winter23;") the punctuation a bare value
// cannot hold (')', ';', ',', ']', '}') but which ends the line is the value's own last bytes:
// widens *secret over it. Only where the key name follows a blank or starts the line, so code
// (f(password=x)) keeps it.
void take_line_end_punctuation(std::string_view text, std::size_t key_begin, Span* secret) {
  const std::size_t name = key_name_start(text, key_begin);
  if (name > 0 && !is_space(text[name - 1])) return;
  std::size_t end = secret->end;
  const std::size_t limit = std::min(text.size(), secret->end + 8);
  while (end < limit && (text[end] == ')' || text[end] == ';' || text[end] == ',' ||
                         text[end] == ']' || text[end] == '}')) {
    ++end;
  }
  if (end == secret->end) return;
  if (end < text.size() && text[end] != '\n' && text[end] != '\r') return;
  secret->end = end;
}

// Words of an interface label or an instruction ("Enter your password", "Password must be at
// least 12 characters."), which a quoted phrase under a password key is when it holds any.
bool is_prose_phrase(std::string_view v) {
  static constexpr std::string_view kWords[] = {
      "the",   "your",  "you",      "enter",    "must",     "should", "characters", "pass",
      "pwd",   "secret", "optional", "required", "here",     "please", "type",       "this",
      "is",    "be",    "of",       "to",       "for",      "and",    "not",        "at"};
  const std::string lower = lowercase(v);
  if (v.back() == '.' || v.back() == ':' || contains(lower, "(")) return true;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= lower.size(); ++i) {
    if (i < lower.size() && !is_space(lower[i])) continue;
    const std::string_view word = std::string_view(lower).substr(start, i - start);
    for (std::string_view w : kWords) {
      if (word == w || (w.size() >= 4 && contains(word, w))) return true;
    }
    start = i + 1;
  }
  return false;
}

// A quoted passphrase of a few words ("correct horse battery staple", "p@ss w0rd 12"): short,
// at most 8 words, no label or instruction wording. `strict` (keys that are not password keys)
// also wants a digit or symbol, or four words or more.
bool is_quoted_passphrase(std::string_view v, bool strict) {
  if (v.size() < 8 || v.size() > 64 || is_space(v.front()) || is_space(v.back())) return false;
  std::size_t words = 1;
  bool digit_or_symbol = false;
  for (char c : v) {
    if (c == ' ') ++words;
    if (c == '\t' || c == '\n' || c == '\r') return false;
    if (is_digit(c) || (!is_alpha(c) && c != ' ')) digit_or_symbol = true;
  }
  if (words < 2 || words > 8 || is_prose_phrase(v)) return false;
  return !strict || digit_or_symbol || words >= 4;
}

bool is_quoted(std::string_view text, Span secret) {
  if (secret.begin == 0 || secret.end >= text.size()) return false;
  const char open = text[secret.begin - 1];
  return (open == '"' || open == '\'' || open == '`') && text[secret.end] == open;
}

bool has_space(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return is_space(c); });
}

bool looks_like_path_or_url(std::string_view v) {
  if (contains(v, "://")) return true;
  if (v.starts_with("./") || v.starts_with("../") || v.starts_with("~/")) return true;
  // Base64 may start with '/' too (/HPzaKnnT73q...=): a path has no '+' or '=' in it.
  if (!v.starts_with("/") || contains(v, "+") || contains(v, "=")) return false;
  return v.size() < 16 || contains(v.substr(1), "/") || contains(v, ".");
}

// Common forms of "this value is a reference to a secret, not the secret".
bool is_reference(std::string_view v) {
  for (std::string_view prefix :
       {"arn:", "op://", "vault:", "ref+", "sm://", "secretref:", "env:", "file:"}) {
    if (v.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), v.begin(),
                                                [](char p, char c) { return p == to_lower(c); })) {
      return true;
    }
  }
  return false;
}

// YAML tags, anchors and aliases (!vault, &default, *db_password) on a bare value.
bool is_yaml_sigil(std::string_view v) {
  return !v.empty() && (v[0] == '!' || v[0] == '&' || v[0] == '*');
}

// Only letters, '_' and '.', i.e. a name in code rather than a literal.
bool is_identifier_like(std::string_view v) {
  return std::all_of(v.begin(), v.end(),
                     [](char c) { return is_alpha(c) || c == '_' || c == '.'; });
}

// obj.attr.NAME with no digits: a reference in code (process.env.API_KEY, settings.SECRET).
bool is_dotted_reference(std::string_view v) {
  if (v.find('.') == std::string_view::npos || v.front() == '.' || v.back() == '.') return false;
  return std::all_of(v.begin(), v.end(),
                     [](char c) { return is_alpha(c) || c == '_' || c == '.' || c == '$'; });
}

// arn:aws:secretsmanager:...:secret:prod/db - the key word is one segment of a colon-separated
// identifier, not a key ($env:API_KEY = "..." is a key).
bool is_colon_path(std::string_view text, Span match, Span secret) {
  return match.begin > 0 && text[match.begin - 1] == ':' && secret.begin > 0 &&
         text[secret.begin - 1] == ':';
}

// The key word sits inside a long identifier or base64 run (…xPw= in an ssh-rsa blob): no key.
bool inside_blob(std::string_view text, std::size_t key_begin) {
  std::size_t run = 0;
  for (std::size_t i = key_begin; i > 0 && run < kCheckContext; --i, ++run) {
    const char c = text[i - 1];
    if (!is_alnum(c) && c != '+' && c != '/' && c != '_' && c != '-' && c != '.') return false;
  }
  return run >= kCheckContext;
}

bool is_camel_case(std::string_view v) {
  if (v.empty() || !is_lower(v[0])) return false;
  return std::any_of(v.begin(), v.end(), [](char c) { return is_upper(c); });
}

// Nothing but blanks, a comment or a field separator follows `pos` on its line.
bool ends_line(std::string_view text, std::size_t pos) {
  const std::size_t limit = std::min(text.size(), pos + kCheckContext);
  for (std::size_t i = pos; i < limit; ++i) {
    const char c = text[i];
    if (c == '\n' || c == '\r' || c == '#' || c == ',' || c == ';' || c == '&') return true;
    if (c == '\\' && i + 1 < text.size() && text[i + 1] == 'n') return true;  // escaped newline
    if (c != ' ' && c != '\t') return false;
  }
  return limit == text.size();
}

// Capture-free assignment patterns match "key<op>value"; the secret is the value. It starts
// after the first assignment operator (or, with `blank_separates`, the first run of blanks)
// past `from`, less blanks, markdown emphasis, backslashes and the opening quote, and ends with
// the match (before "</" for XML elements).
Span locate_value(std::string_view text, Span match, std::size_t from, bool blank_separates) {
  std::size_t i = from;
  while (i < match.end) {
    const char c = text[i];
    if (c == ':' || c == '=' || c == '>' || c == '!') break;
    if (blank_separates && (c == ' ' || c == '\t')) {
      std::size_t j = i;
      while (j < match.end && (text[j] == ' ' || text[j] == '\t')) ++j;
      if (j < match.end && (text[j] == ':' || text[j] == '=')) {
        i = j;
        break;
      }
      i = j;
      break;
    }
    ++i;
  }
  bool xml = false;
  if (i < match.end && text[i] == '>') xml = true;
  while (i < match.end && (text[i] == ':' || text[i] == '=' || text[i] == '>' || text[i] == '!')) {
    ++i;
  }
  while (i < match.end && (text[i] == ' ' || text[i] == '\t' || text[i] == '*')) ++i;
  while (i < match.end && text[i] == '\\') ++i;
  if (i < match.end && (text[i] == '"' || text[i] == '\'' || text[i] == '`')) ++i;
  std::size_t end = match.end;
  if (xml && end >= i + 2 && text.substr(end - 2, 2) == "</") end -= 2;
  return {std::min(i, end), end};
}

// Applies locate_value when the rule had no capture group (the secret is the whole match).
void narrow_to_value(std::string_view text, Span match, Span* secret, bool blank_separates) {
  if (secret->begin == match.begin && secret->end == match.end) {
    *secret = locate_value(text, match, match.begin, blank_separates);
  }
}

}  // namespace cb::redact::checks_internal
