// The password checks: password-keyed assignments and flags, JSON name/value pairs, curl
// -u, prose ("the password is ..."), SQL and URL passwords.
#include "daemon/redact/checks.h"

#include <algorithm>

#include "daemon/redact/checks_text.h"
#include "daemon/redact/value_shape.h"

namespace cb::redact {

using namespace checks_internal;  // NOLINT(google-build-using-namespace): the shared helpers

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

}  // namespace cb::redact
