// The token and keyed-secret checks: provider tokens and their shapes (JWT, PEM, Basic,
// Discord, AWS, Twilio), and secret/key assignments judged by randomness.
#include "daemon/redact/checks.h"

#include <algorithm>
#include <array>

#include "daemon/redact/checks_text.h"
#include "daemon/redact/value_shape.h"

namespace cb::redact {

using namespace checks_internal;  // NOLINT(google-build-using-namespace): the shared helpers

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
  // Branch-free: a body alternates base64 runs and line breaks at irregular points.
  static const std::array<unsigned char, 256> kBase64Byte = [] {
    std::array<unsigned char, 256> table{};
    for (int c = 0; c < 256; ++c) {
      const char b = static_cast<char>(c);
      table[static_cast<std::size_t>(c)] = is_alnum(b) || b == '+' || b == '/' ? 1 : 0;
    }
    return table;
  }();
  std::size_t run = 0, longest = 0, base64 = 0;
  for (char c : v) {
    const std::size_t in = kBase64Byte[static_cast<unsigned char>(c)];
    run = (run + 1) * in;
    base64 += in;
    longest = std::max(longest, run);
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
