#include "daemon/bridge/redact/checks.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>

namespace cb::bridge::redact {
namespace {

bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return is_lower(c) || is_upper(c); }
bool is_alnum(char c) { return is_alpha(c) || is_digit(c); }
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }
char to_lower(char c) { return is_upper(c) ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = to_lower(c);
  return out;
}

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

std::string_view slice(std::string_view text, Span span) {
  return text.substr(span.begin, span.end - span.begin);
}

// Words that stand for a value rather than being one.
constexpr std::array<std::string_view, 34> kStandInWords = {
    "null",     "nil",     "none",     "true",      "false",   "undefined", "empty",
    "string",   "str",     "bytes",    "int",       "number",  "bool",      "boolean",
    "object",   "any",     "required", "optional",  "secret",  "password",  "passwd",
    "pass",     "pwd",     "token",    "apikey",    "api_key", "api-key",   "key",
    "value",    "changeit", "test",    "secretstr", "char",    "default"};

// Substrings that mark documentation values. Each is long or punctuated enough that a random
// secret contains it with negligible probability (a bare "your" or "xxxx" does not qualify).
constexpr std::array<std::string_view, 24> kStandInFragments = {
    "redacted", "example",  "placeholder", "your_",   "your-",   "yourkey",   "yourtoken",
    "yourpass", "yoursecret", "yourapi",   "changeme", "change_me", "change-me", "replace_",
    "replace-", "replaceme", "insert_",    "insert-", "dummy",   "****",      "...",
    "\xe2\x80\xa6", "<", ">"};

// Whether v contains a stand-in fragment, case-insensitively, in one pass: only positions whose
// byte starts some fragment are compared.
bool has_stand_in_fragment(std::string_view v, bool token) {
  // Fragment indices by first byte; -1 terminates. No first byte starts more than 6 fragments.
  static const std::array<std::array<signed char, 8>, 256> by_first = [] {
    std::array<std::array<signed char, 8>, 256> table;
    for (auto& row : table) row.fill(-1);
    for (std::size_t f = 0; f < kStandInFragments.size(); ++f) {
      auto& row = table[static_cast<unsigned char>(kStandInFragments[f][0])];
      std::size_t slot = 0;
      while (row[slot] >= 0) ++slot;
      row[slot] = static_cast<signed char>(f);
    }
    return table;
  }();
  for (std::size_t i = 0; i < v.size(); ++i) {
    const auto& row = by_first[static_cast<unsigned char>(to_lower(v[i]))];
    for (std::size_t slot = 0; row[slot] >= 0; ++slot) {
      const std::string_view f = kStandInFragments[static_cast<std::size_t>(row[slot])];
      if (v.size() - i < f.size() || (token && f.size() < 7)) continue;
      std::size_t j = 1;
      while (j < f.size() && to_lower(v[i + j]) == f[j]) ++j;
      if (j == f.size()) return true;
    }
  }
  return false;
}

bool is_mask_char(char c) { return c == 'x' || c == 'X' || c == '*' || c == '#'; }

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
  if (v.starts_with("/") || v.starts_with("./") || v.starts_with("../") || v.starts_with("~/")) {
    return true;
  }
  return false;
}

// Common forms of "this value is a reference to a secret, not the secret".
bool is_reference(std::string_view v) {
  const std::string lower = lowercase(v.substr(0, std::min<std::size_t>(v.size(), 16)));
  for (std::string_view prefix :
       {"arn:", "op://", "vault:", "ref+", "sm://", "secretref:", "env:", "file:"}) {
    if (std::string_view(lower).starts_with(prefix)) return true;
  }
  return false;
}

// YAML tags, anchors and aliases (!vault, &default, *db_password) on a bare value.
bool is_yaml_sigil(std::string_view v) {
  return !v.empty() && (v[0] == '!' || v[0] == '&' || v[0] == '*');
}

// Only letters, '_' and '.', i.e. a name in code rather than a literal.
bool is_identifier_like(std::string_view v) {
  return std::all_of(v.begin(), v.end(), [](char c) { return is_alpha(c) || c == '_' || c == '.'; });
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

}  // namespace

double shannon_entropy(std::string_view s) {
  if (s.empty()) return 0.0;
  // H = log2(n) - (1/n) * sum(c * log2(c)) over the byte counts c; c * log2(c) is tabulated.
  constexpr std::size_t kTable = 1024;
  static const std::array<double, kTable> c_log2_c = [] {
    std::array<double, kTable> table{};
    for (std::size_t c = 1; c < kTable; ++c) table[c] = static_cast<double>(c) * std::log2(c);
    return table;
  }();
  std::array<std::uint32_t, 256> counts{};
  std::array<unsigned char, 256> seen;  // distinct bytes in order of appearance
  std::size_t distinct = 0;
  for (unsigned char c : s) {
    if (counts[c]++ == 0) seen[distinct++] = c;
  }
  double sum = 0.0;
  for (std::size_t i = 0; i < distinct; ++i) {
    const std::uint32_t c = counts[seen[i]];
    sum += c < kTable ? c_log2_c[c] : c * std::log2(static_cast<double>(c));
  }
  const double n = static_cast<double>(s.size());
  return std::log2(n) - sum / n;
}

bool is_placeholder(std::string_view v, bool token) {
  if (v.empty()) return true;
  // Stand-in markers sit at a value's start or end ("<your key>", "sk-...xxxx", "...REDACTED");
  // a long value is judged by its head and tail, which keeps this cheap on multi-kB blobs.
  constexpr std::size_t kEdge = 64;
  if (v.size() > 2 * kEdge) {
    return is_placeholder(v.substr(0, kEdge), token) ||
           is_placeholder(v.substr(v.size() - kEdge), token);
  }
  if (v[0] == '$') return true;  // $VAR, ${VAR}, $(cmd), ${{ secrets.X }}
  if (v.size() >= 2 && v.front() == '%' && v.back() == '%') return true;
  if (v.front() == '[' && v.back() == ']') return true;
  if (contains(v, "{{") || contains(v, "}}") || contains(v, "${") || contains(v, "$(") ||
      contains(v, "#{")) {
    return true;
  }
  if (v.size() <= 10) {
    char lower[10];
    for (std::size_t i = 0; i < v.size(); ++i) lower[i] = to_lower(v[i]);
    const std::string_view word(lower, v.size());
    for (std::string_view stand_in : kStandInWords) {
      if (word == stand_in) return true;
    }
  }
  if (has_stand_in_fragment(v, token)) return true;
  if (!token && v.size() >= 4 && to_lower(v[0]) == 'y' && to_lower(v[1]) == 'o' && to_lower(v[2]) == 'u' &&
      to_lower(v[3]) == 'r') {
    return true;  // YOUR_API_KEY, yourtokenhere
  }
  std::size_t masks = 0, run = 0, longest_run = 0;
  bool same = true;
  for (char c : v) {
    run = is_mask_char(c) ? run + 1 : 0;
    longest_run = std::max(longest_run, run);
    if (is_mask_char(c)) ++masks;
    same = same && c == v[0];
  }
  if (same && v.size() >= 3) return true;
  // Masks: sk-xxxxxxxx, ghp_XXXX..., ****: a long run of mask bytes, or mostly mask bytes.
  return longest_run >= 6 || (masks * 2 >= v.size() && v.size() >= 4);
}

bool looks_random(std::string_view v) {
  if (v.size() < 8) return false;
  std::size_t lower = 0, upper = 0, digit = 0, separators = 0, transitions = 0;
  int previous_class = -1;
  for (char c : v) {
    int cls = 3;
    if (is_lower(c)) {
      ++lower;
      cls = 0;
    } else if (is_upper(c)) {
      ++upper;
      cls = 1;
    } else if (is_digit(c)) {
      ++digit;
      cls = 2;
    } else if (c == '-' || c == '_' || c == '.') {
      ++separators;
    }
    if (previous_class >= 0 && cls != previous_class) ++transitions;
    previous_class = cls;
  }
  const std::size_t letters = lower + upper;
  if (letters == 0) return false;
  const double entropy = shannon_entropy(v);
  const double needed = std::min(3.0, 0.85 * std::log2(static_cast<double>(v.size())));
  if (entropy < needed) return false;
  if (digit == 0) {
    // Letters only: random only if long and both cases churn (not CamelCaseWords).
    if (v.size() < 16 || lower == 0 || upper == 0) return false;
    if (transitions * 10 < v.size() * 3) return false;
  }
  if (separators >= 2) {
    // "release-2024-01-01", "my_app_v2_key": every segment a plain word or a number.
    bool all_plain = true;
    std::size_t start = 0;
    for (std::size_t i = 0; i <= v.size() && all_plain; ++i) {
      if (i < v.size() && v[i] != '-' && v[i] != '_' && v[i] != '.') continue;
      const std::string_view segment = v.substr(start, i - start);
      const bool word = std::all_of(segment.begin(), segment.end(), is_lower) ||
                        (!segment.empty() && is_upper(segment[0]) &&
                         std::all_of(segment.begin() + 1, segment.end(), is_lower));
      const bool number = std::all_of(segment.begin(), segment.end(), is_digit);
      if (!word && !number) all_plain = false;
      start = i + 1;
    }
    if (all_plain) return false;
  }
  return true;
}

bool base64_decode(std::string_view in, std::string* out) {
  out->clear();
  out->reserve(in.size() * 3 / 4);
  std::uint32_t buffer = 0;
  int bits = 0;
  for (char c : in) {
    int value;
    if (is_upper(c)) {
      value = c - 'A';
    } else if (is_lower(c)) {
      value = c - 'a' + 26;
    } else if (is_digit(c)) {
      value = c - '0' + 52;
    } else if (c == '+' || c == '-') {
      value = 62;
    } else if (c == '/' || c == '_') {
      value = 63;
    } else if (c == '=') {
      break;
    } else {
      return false;
    }
    buffer = (buffer << 6) | static_cast<std::uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((buffer >> bits) & 0xff));
    }
  }
  return true;
}

bool check_token(std::string_view text, Span, Span* secret) {
  const std::string_view v = slice(text, *secret);
  if (is_placeholder(v, /*token=*/true)) return false;
  // Only rules out degenerate bodies (ghp_aaaa..., sk-0000...): prefixes repeat letters, and a
  // 20-byte base32 AWS id or a 32-digit hex key can sit just under 3 bits.
  return shannon_entropy(v) >= (v.size() >= 20 ? 2.5 : 2.2);
}

bool check_token_value(std::string_view text, Span match, Span* secret) {
  narrow_to_value(text, match, secret, true);
  return check_token(text, match, secret);
}

bool check_flag_secret(std::string_view text, Span match, Span* secret) {
  narrow_to_value(text, match, secret, true);
  if (slice(text, *secret).starts_with("-")) return false;
  return check_secret_value(text, match, secret);
}

bool check_random_value(std::string_view text, Span, Span* secret) {
  const std::string_view v = slice(text, *secret);
  return !is_placeholder(v) && looks_random(v);
}

bool check_password_value(std::string_view text, Span match, Span* secret) {
  narrow_to_value(text, match, secret, false);
  const bool quoted = is_quoted(text, *secret);
  if (!quoted) trim_sentence_punctuation(text, secret);
  const std::string_view v = slice(text, *secret);
  if (v.size() < 3 || is_placeholder(v) || has_space(v) || is_reference(v)) return false;
  if (looks_like_path_or_url(v)) return false;
  if (quoted) return true;
  if (v.size() < 4 || is_yaml_sigil(v)) return false;
  if (secret->end < text.size()) {
    const char next = text[secret->end];
    if (next == '(' || next == '[') return false;  // a call or subscript: code, not a literal
  }
  if (std::all_of(v.begin(), v.end(), is_digit)) return v.size() >= 4;
  if (is_identifier_like(v)) {
    // password=user_password, password=config.db_password, password=newPassword,
    // password=mypassword are names in code. A plain word is a literal only where it ends a
    // line, as in YAML and .env files ("password: hunter").
    if (contains(v, "_") || contains(v, ".") || is_camel_case(v)) return false;
    const std::string lower = lowercase(v);
    if (contains(lower, "pass") || contains(lower, "secret") || contains(lower, "token")) {
      return false;
    }
    return ends_line(text, secret->end);
  }
  return true;
}

bool check_password_assignment(std::string_view text, Span match, Span* secret) {
  if (inside_blob(text, match.begin)) return false;
  narrow_to_value(text, match, secret, false);
  if (is_colon_path(text, match, *secret)) return false;
  // Short key words (pass, pwd, pw) count only as a whole segment of the key name: DB_PASS,
  // dbPass, --pass, but not compass or bypass.
  std::size_t word_end = match.begin;
  while (word_end < match.end && is_alpha(text[word_end])) ++word_end;
  const std::string word = lowercase(text.substr(match.begin, word_end - match.begin));
  if ((word == "pass" || word == "pwd" || word == "pw") && match.begin > 0) {
    const char before = text[match.begin - 1];
    const bool camel = is_lower(before) && is_upper(text[match.begin]);
    if (is_alpha(before) && !camel) return false;
  }
  return check_password_value(text, match, secret);
}

bool check_named_value(std::string_view text, Span match, Span* secret) {
  // {"name": "DB_PASSWORD", "value": "..."}: the value follows the word "value".
  const std::string whole = lowercase(slice(text, match));
  const std::size_t value_key = whole.rfind("value");
  if (value_key == std::string::npos) return false;
  *secret = locate_value(text, match, match.begin + value_key + 5, false);
  const std::string name = whole.substr(0, value_key);
  if (contains(name, "pass") || contains(name, "pwd")) {
    return check_password_value(text, match, secret);
  }
  return check_secret_value(text, match, secret);
}

bool check_curl_password(std::string_view text, Span match, Span* secret) {
  const std::string_view password = slice(text, *secret);
  if (std::all_of(password.begin(), password.end(), is_digit)) return false;  // -u 1000:1000
  // The user is the run before the colon; "-u www-data:www-data" is a user and a group.
  std::size_t user_begin = secret->begin - 1;
  while (user_begin > match.begin && !is_space(text[user_begin - 1]) &&
         text[user_begin - 1] != '=' && text[user_begin - 1] != '\'' &&
         text[user_begin - 1] != '"') {
    --user_begin;
  }
  if (text.substr(user_begin, secret->begin - 1 - user_begin) == password) return false;
  return check_url_password(text, match, secret);
}

bool check_password_prose(std::string_view text, Span, Span* secret) {
  if (secret->end < text.size() && (text[secret->end] == '(' || text[secret->end] == '[')) {
    return false;
  }
  trim_sentence_punctuation(text, secret);
  const std::string_view v = slice(text, *secret);
  if (v.size() < 4 || is_placeholder(v) || looks_like_path_or_url(v)) return false;
  const bool digit = std::any_of(v.begin(), v.end(), is_digit);
  const bool symbol = std::any_of(v.begin(), v.end(), [](char c) { return !is_alnum(c); });
  const bool inner_upper = std::any_of(v.begin() + 1, v.end(), is_upper);
  const bool lower = std::any_of(v.begin(), v.end(), is_lower);
  return digit || symbol || (inner_upper && lower);
}

bool check_secret_value(std::string_view text, Span match, Span* secret) {
  if (inside_blob(text, match.begin)) return false;
  narrow_to_value(text, match, secret, false);
  if (is_colon_path(text, match, *secret)) return false;
  const bool quoted = is_quoted(text, *secret);
  if (!quoted) trim_sentence_punctuation(text, secret);
  const std::string_view v = slice(text, *secret);
  if (is_placeholder(v) || has_space(v) || is_reference(v) || looks_like_path_or_url(v)) {
    return false;
  }
  if (!quoted && secret->end < text.size()) {
    const char next = text[secret->end];
    if (next == '(' || next == '[') return false;
  }
  if (!quoted && (is_yaml_sigil(v) || is_dotted_reference(v))) return false;
  return looks_random(v);
}

bool check_url_password(std::string_view text, Span, Span* secret) {
  const std::string_view v = slice(text, *secret);
  return !is_placeholder(v) && !is_reference(v);
}

bool check_flag_value(std::string_view text, Span match, Span* secret) {
  narrow_to_value(text, match, secret, true);
  const std::string_view v = slice(text, *secret);
  if (v.starts_with("-")) return false;  // the next flag
  return check_password_value(text, match, secret);
}

bool check_jwt(std::string_view text, Span, Span* secret) {
  const std::string_view v = slice(text, *secret);
  if (is_placeholder(v)) return false;
  const std::size_t dot = v.find('.');
  std::string header;
  if (dot == std::string_view::npos || !base64_decode(v.substr(0, dot), &header)) return false;
  if (header.empty() || header[0] != '{') return false;
  return contains(header, "\"alg\"") || contains(header, "\"typ\"") ||
         contains(header, "\"kid\"") || contains(header, "\"enc\"");
}

bool check_pem(std::string_view text, Span, Span* secret) {
  // A real key body has long base64 runs; "...", "REDACTED" or "<key>" bodies do not.
  const std::string_view v = slice(text, *secret);
  std::size_t run = 0, longest = 0, base64 = 0;
  for (char c : v) {
    if (is_alnum(c) || c == '+' || c == '/') {
      ++run;
      ++base64;
      longest = std::max(longest, run);
    } else {
      run = 0;
    }
  }
  return longest >= 24 && base64 >= 64 && !contains(v, "REDACTED");
}

bool check_basic_credentials(std::string_view text, Span, Span* secret) {
  std::string decoded;
  if (!base64_decode(slice(text, *secret), &decoded) || decoded.size() < 3) return false;
  const std::size_t colon = decoded.find(':');
  if (colon == std::string::npos || colon + 1 >= decoded.size()) return false;
  return std::all_of(decoded.begin(), decoded.end(),
                     [](char c) { return static_cast<unsigned char>(c) >= 0x20 && c != 0x7f; });
}

bool check_discord(std::string_view text, Span match, Span* secret) {
  const std::string_view v = slice(text, *secret);
  std::string id;
  if (!base64_decode(v.substr(0, v.find('.')), &id) || id.size() < 15) return false;
  if (!std::all_of(id.begin(), id.end(), is_digit)) return false;
  return check_token(text, match, secret);
}

bool check_aws_secret(std::string_view text, Span match, Span* secret) {
  // Capture-free: the key is the last 40 bytes of the match.
  if (secret->begin == match.begin && secret->end == match.end && match.size() > 40) {
    secret->begin = match.end - 40;
  }
  const std::string_view v = slice(text, *secret);
  if (is_placeholder(v)) return false;
  if (secret->end < text.size() && (text[secret->end] == '/' || text[secret->end] == '+')) {
    return false;  // part of a longer base64 string
  }
  const bool upper = std::any_of(v.begin(), v.end(), is_upper);
  const bool lower = std::any_of(v.begin(), v.end(), is_lower);
  return upper && lower && shannon_entropy(v) >= 3.5;
}

bool check_base64_blob(std::string_view text, Span match, Span* secret) {
  narrow_to_value(text, match, secret, false);
  const std::string_view v = slice(text, *secret);
  return v.size() >= 16 && !is_placeholder(v) && shannon_entropy(v) >= 3.0;
}

}  // namespace cb::bridge::redact
