#include "daemon/redact/checks.h"

#include <algorithm>
#include <array>

#include "daemon/redact/ascii.h"
#include "daemon/redact/value_shape.h"

namespace cb::redact {
namespace {

using ascii::contains;
using ascii::is_alnum;
using ascii::is_alpha;
using ascii::is_digit;
using ascii::is_lower;
using ascii::is_space;
using ascii::is_upper;
using ascii::lowercase;
using ascii::slice;
using ascii::to_lower;

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

}  // namespace
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

namespace {
bool password_value_core(std::string_view text, Span match, Span* secret, bool quoted);
}  // namespace

bool check_password_value(std::string_view text, Span match, Span* secret) {
  narrow_to_value(text, match, secret, false);
  const bool quoted = is_quoted(text, *secret);
  if (!quoted && !ends_config_line(text, match.begin, *secret)) {
    trim_sentence_punctuation(text, secret);
  }
  if (!password_value_core(text, match, secret, quoted)) return false;
  // The value is judged without the punctuation that ends its line, then takes it along.
  if (!quoted) take_line_end_punctuation(text, match.begin, secret);
  return true;
}

namespace {
bool password_value_core(std::string_view text, Span, Span* secret, bool quoted) {
  const std::string_view v = slice(text, *secret);
  if (v.size() < 3 || is_placeholder(v) || is_reference(v)) return false;
  if (has_space(v)) return quoted && is_quoted_passphrase(v, false);
  if (looks_like_path_or_url(v)) return false;
  if (quoted) return true;
  if (v.size() < 4 || is_yaml_sigil(v)) return false;
  if (secret->end < text.size()) {
    const char next = text[secret->end];
    if (next == '(' || next == '[') return false;  // a call or subscript: code, not a literal
  }
  if (std::all_of(v.begin(), v.end(), is_digit)) return v.size() >= 4;
  if (v.size() >= 16 && looks_random(v)) return true;
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
}  // namespace

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
  if (v.size() < 4 || is_placeholder(v) || looks_like_path_or_url(v) || is_reference(v)) {
    return false;
  }
  // args.Password, config.db_password, newPassword: names in code ("cfg.Password = args.Password").
  if (is_dotted_reference(v) || (is_identifier_like(v) && (contains(v, "_") || is_camel_case(v)))) {
    return false;
  }
  const bool digit = std::any_of(v.begin(), v.end(), is_digit);
  // A bare number is a password only when long ("pass: 42" is a test count).
  if (std::all_of(v.begin(), v.end(), is_digit)) return v.size() >= 6;
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
  if (!quoted && !ends_config_line(text, match.begin, *secret)) {
    trim_sentence_punctuation(text, secret);
  }
  const std::string_view v = slice(text, *secret);
  if (is_placeholder(v) || is_reference(v) || looks_like_path_or_url(v)) return false;
  if (has_space(v)) return quoted && is_quoted_passphrase(v, true);
  if (!quoted && secret->end < text.size()) {
    const char next = text[secret->end];
    if (next == '(' || next == '[') return false;
  }
  if (!quoted && (is_yaml_sigil(v) || is_dotted_reference(v))) return false;
  return looks_random(v);
}

bool check_suffixed_key(std::string_view text, Span match, Span* secret) {
  // The word before "_key": names of keys that are identifiers or public material.
  static constexpr std::string_view kNotSecret[] = {
      "public", "pub", "cache", "sort", "primary", "partition", "foreign", "hash", "range",
      "idempotency", "row", "s3", "object", "file", "ssh", "gpg", "pgp", "lookup", "map",
      "group", "dedup", "unique", "composite", "hot", "short", "cursor", "i18n", "translation"};
  std::size_t key_end = match.begin;
  while (key_end < match.end && (is_alnum(text[key_end]) || text[key_end] == '_')) ++key_end;
  // key_end sits after "..._key" (or "...-key" whose '-' stopped the scan).
  std::size_t word_end = key_end;
  if (word_end >= match.begin + 4 && lowercase(text.substr(word_end - 3, 3)) == "key") word_end -= 4;
  else if (word_end < match.end && text[word_end] == '-') word_end = key_end;
  std::size_t word_begin = word_end;
  while (word_begin > match.begin && is_alnum(text[word_begin - 1])) --word_begin;
  const std::string word = lowercase(text.substr(word_begin, word_end - word_begin));
  for (std::string_view w : kNotSecret) {
    if (word == w) return false;
  }
  if (!check_secret_value(text, match, secret)) return false;
  const std::string_view v = slice(text, *secret);
  return !(contains(v, "/") && contains(v, "."));  // uploads/2024/a.png: an object path
}

bool check_twilio(std::string_view text, Span match, Span* secret) {
  // 32 hex after an account SID or the word Twilio: not when labelled as an id or a digest.
  static constexpr std::string_view kDigestWords[] = {
      "sha", "md5", "hash", "etag", "digest", "checksum", "signature", "request", "trace",
      "span", "correlation"};
  const std::size_t from = match.begin > 24 ? match.begin - 24 : 0;
  const std::string before = lowercase(text.substr(from, secret->begin - from));
  for (std::string_view word : kDigestWords) {
    if (contains(before, word)) return false;
  }
  // "trace_id=", "request id": an id, unless it is the account's own "sid" seen further back.
  const std::size_t near = secret->begin > 12 ? secret->begin - 12 : 0;
  if (contains(lowercase(text.substr(near, secret->begin - near)), "id")) return false;
  return check_token(text, match, secret);
}

bool check_sql_password(std::string_view text, Span, Span* secret) {
  const std::string_view v = slice(text, *secret);
  if (is_placeholder(v) || is_reference(v)) return false;
  return !has_space(v) || is_quoted_passphrase(v, false);
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

}  // namespace cb::redact
