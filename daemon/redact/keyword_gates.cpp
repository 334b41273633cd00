#include "daemon/redact/keyword_gates.h"

#include <algorithm>

#include "daemon/redact/ascii.h"
#include "daemon/redact/rule.h"

namespace cb::redact {
namespace {

using ascii::is_alnum;
bool is_blank(char c) { return c == ' ' || c == '\t'; }
// Unlike ascii::is_space, no form feed: a gate's gap is blanks and line ends.
bool is_gap(char c) { return is_blank(c) || c == '\n' || c == '\r'; }

std::size_t skip_letters(std::string_view text, std::size_t i, std::size_t limit) {
  const std::size_t end = std::min(text.size(), i + limit);
  while (i < end && ascii::is_alpha(text[i])) ++i;
  return i;
}

bool starts_with_word(std::string_view text, std::size_t i, std::string_view word) {
  if (text.size() - i < word.size()) return false;
  for (std::size_t j = 0; j < word.size(); ++j) {
    if (ascii::to_lower(text[i + j]) != word[j]) return false;
  }
  return true;
}

// The end of the line containing pos, at most kCheckContext * 8 bytes on.
std::size_t line_end(std::string_view text, std::size_t pos) {
  const std::size_t limit = std::min(text.size(), pos + kCheckContext * 8);
  std::size_t i = pos;
  while (i < limit && text[i] != '\n') ++i;
  return i;
}

bool line_contains(std::string_view text, std::size_t from, std::string_view needle) {
  const std::size_t end = line_end(text, from);
  return text.substr(from, end - from).find(needle) != std::string_view::npos;
}

}  // namespace

bool gate_assignment(std::string_view text, std::size_t pos, std::size_t length) {
  std::size_t i = skip_letters(text, pos + length, 16);
  const std::size_t limit = std::min(text.size(), i + 16);
  while (i < limit && (text[i] == '"' || text[i] == '\'' || text[i] == '`' || text[i] == '\\' ||
                       text[i] == ']' || text[i] == '*' || text[i] == '_' || is_blank(text[i]))) {
    ++i;
  }
  if (i >= text.size()) return false;
  const char c = text[i];
  return c == ':' || c == '=' || c == '>' ||
         (c == '!' && i + 1 < text.size() && text[i + 1] == '=');
}

bool gate_qualified_key(std::string_view text, std::size_t pos, std::size_t length) {
  static constexpr std::string_view kQualifiers[] = {
      "access",  "secret", "signing", "encryption", "master", "account", "app",    "service",
      "session", "client", "storage", "deploy",     "admin",  "write",   "shared", "consumer",
      "webhook", "bot",    "auth",    "license",    "jwt",    "hmac"};
  std::size_t end = pos;
  if (end > 0 && (text[end - 1] == '_' || text[end - 1] == '.' || text[end - 1] == '-')) --end;
  for (std::string_view q : kQualifiers) {
    if (end >= q.size() && starts_with_word(text, end - q.size(), q)) {
      return gate_assignment(text, pos, length);
    }
  }
  return false;
}

bool gate_prose(std::string_view text, std::size_t pos, std::size_t length) {
  std::size_t i = skip_letters(text, pos + length, 16);
  if (i >= text.size() || !is_gap(text[i])) return false;
  while (i < text.size() && is_gap(text[i])) ++i;
  for (std::string_view word : {"is", "was", "to", "for", "set", "changed"}) {
    if (starts_with_word(text, i, word)) return true;
  }
  return false;
}

bool gate_password_prose(std::string_view text, std::size_t pos, std::size_t length) {
  std::size_t i = skip_letters(text, pos + length, 16);
  if (i >= text.size()) return false;
  std::size_t j = i;
  while (j < text.size() && is_blank(text[j])) ++j;
  if (j < text.size() && (text[j] == ':' || text[j] == '=')) return true;
  if (j + 1 < text.size() && text[j] == '-' && text[j + 1] == '>') return true;
  if (i + 1 < text.size() && text[i] == '\'' && (text[i + 1] | 0x20) == 's') return true;
  if (!is_gap(text[i])) return false;
  while (i < text.size() && is_gap(text[i])) ++i;
  for (std::string_view word :
       {"is", "was", "to", "for", "set", "changed", "should", "will", "on", "of", "at"}) {
    if (starts_with_word(text, i, word)) return true;
  }
  return false;
}

bool gate_quote_after(std::string_view text, std::size_t pos, std::size_t length) {
  std::size_t i = skip_letters(text, pos + length, 16);
  const std::size_t limit = std::min(text.size(), i + 48);
  // "identified [with plugin] by '": letters and blanks up to the quote.
  while (i < limit && (is_blank(text[i]) || ascii::is_alpha(text[i]) || text[i] == '_')) ++i;
  return i < text.size() && text[i] == '\'';
}

bool gate_named(std::string_view text, std::size_t pos, std::size_t length) {
  if (!gate_assignment(text, pos, length)) return false;
  // "value" in any case: one compare per byte until a 'v' ('V' | 0x20).
  const std::size_t end = std::min(text.size(), pos + length + 128);
  for (std::size_t i = pos + length; i + 5 <= end; ++i) {
    if ((text[i] | 0x20) == 'v' && starts_with_word(text, i + 1, "alue")) return true;
  }
  return false;
}

bool gate_comma_after(std::string_view text, std::size_t pos, std::size_t length) {
  std::size_t i = skip_letters(text, pos + length, 16);
  const std::size_t limit = std::min(text.size(), i + 12);
  while (i < limit && (text[i] == '"' || text[i] == '\'' || text[i] == '`' || text[i] == '\\' ||
                       is_blank(text[i]))) {
    ++i;
  }
  return i < text.size() && text[i] == ',';
}

bool gate_base64_key_after(std::string_view text, std::size_t pos, std::size_t length) {
  std::size_t i = skip_letters(text, pos + length, 16);
  const std::size_t limit = std::min(text.size(), i + 16);
  while (i < limit && !is_alnum(text[i]) && text[i] != '+' && text[i] != '/') ++i;
  std::size_t run = 0;
  while (i < text.size() && run < 86 && (is_alnum(text[i]) || text[i] == '+' || text[i] == '/')) {
    ++i;
    ++run;
  }
  return run >= 86;
}

bool gate_twilio(std::string_view text, std::size_t pos, std::size_t length) {
  if (length != 2) return true;  // the word Twilio
  // "AC" opens only an account SID: 32 lowercase hex bytes.
  if (text.size() - pos < 34) return false;
  for (std::size_t i = pos + 2; i < pos + 34; ++i) {
    const char c = text[i];
    if (!ascii::is_digit(c) && (c < 'a' || c > 'f')) return false;
  }
  return true;
}

bool gate_as_before(std::string_view text, std::size_t pos, std::size_t) {
  const std::size_t from = pos > 24 ? pos - 24 : 0;
  const std::string_view before = text.substr(from, pos - from);
  return before.find(" as ") != std::string_view::npos ||
         before.find(" AS ") != std::string_view::npos;
}

bool gate_suffixed_key(std::string_view text, std::size_t pos, std::size_t length) {
  if (pos == 0 || (text[pos - 1] != '_' && text[pos - 1] != '-')) return false;
  return gate_assignment(text, pos, length);
}

bool gate_verb_before(std::string_view text, std::size_t pos, std::size_t) {
  const std::size_t from = pos > 24 ? pos - 24 : 0;
  for (std::size_t i = from; i < pos; ++i) {
    if (i > 0 && !is_gap(text[i - 1])) continue;  // verbs start words
    const char c = static_cast<char>(text[i] | 0x20);
    if (c != 'w' && c != 'u' && c != 'e' && c != 't') continue;
    for (std::string_view verb : {"with ", "using ", "use ", "enter ", "type "}) {
      if (verb[0] == c && i + verb.size() <= pos && starts_with_word(text, i, verb)) return true;
    }
  }
  return false;
}

bool gate_capital_p_on_line(std::string_view text, std::size_t pos, std::size_t length) {
  return line_contains(text, pos + length, " -P");
}

bool gate_flag(std::string_view text, std::size_t pos, std::size_t length) {
  std::size_t start = pos;
  const std::size_t floor = pos > 48 ? pos - 48 : 0;
  while (start > floor && (is_alnum(text[start - 1]) || text[start - 1] == '-')) --start;
  if (text.substr(start, 2) != "--") return false;
  const std::size_t i = skip_letters(text, pos + length, 16);
  return i < text.size() && is_blank(text[i]);
}

bool gate_switch(std::string_view text, std::size_t pos, std::size_t length) {
  if (pos > 0 && !is_gap(text[pos - 1]) && text[pos - 1] != '"' && text[pos - 1] != '\'') {
    return false;
  }
  const std::size_t i = pos + length;
  return i < text.size() && (is_blank(text[i]) || text[i] == '=');
}

bool gate_scheme(std::string_view text, std::size_t pos, std::size_t length) {
  std::size_t i = pos + length;
  if (i >= text.size() || !is_gap(text[i])) return false;
  while (i < text.size() && is_gap(text[i])) ++i;
  return i < text.size() && (is_alnum(text[i]) || text[i] == '-' || text[i] == '_' ||
                             text[i] == '.' || text[i] == '~' || text[i] == '+' || text[i] == '/');
}

bool gate_url_userinfo(std::string_view text, std::size_t pos, std::size_t length) {
  const std::size_t limit = std::min(text.size(), pos + length + kCheckContext * 4);
  bool colon = false;
  for (std::size_t i = pos + length; i < limit; ++i) {
    const char c = text[i];
    if (c == ':') colon = true;
    if (c == '@') return colon;
    if (is_gap(c) || c == '/' || c == '"' || c == '\'' || c == '<' || c == '>') return false;
  }
  return false;
}

bool gate_p_switch_on_line(std::string_view text, std::size_t pos, std::size_t length) {
  return line_contains(text, pos + length, " -p");
}

bool gate_password_on_line(std::string_view text, std::size_t pos, std::size_t length) {
  return line_contains(text, pos + length, "password");
}

bool gate_kind_before(std::string_view text, std::size_t pos, std::size_t) {
  std::size_t i = pos;
  const std::size_t floor = pos > 16 ? pos - 16 : 0;
  while (i > floor && (is_blank(text[i - 1]) || text[i - 1] == '"' || text[i - 1] == ':')) --i;
  return i >= 4 && starts_with_word(text, i - 4, "kind");
}

bool gate_discord(std::string_view text, std::size_t pos, std::size_t) {
  for (std::size_t offset = 24; offset <= 28; ++offset) {
    if (pos + offset < text.size() && text[pos + offset] == '.') return true;
  }
  return false;
}

bool gate_airtable(std::string_view text, std::size_t pos, std::size_t) {
  return pos + 17 < text.size() && text[pos + 17] == '.';
}

}  // namespace cb::redact
