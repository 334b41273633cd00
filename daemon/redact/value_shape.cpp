#include "daemon/redact/value_shape.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>

#include "daemon/redact/ascii.h"

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

// Words that stand for a value rather than being one.
constexpr std::array<std::string_view, 34> kStandInWords = {
    "null",   "nil",      "none",     "true",      "false",   "undefined", "empty",
    "string", "str",      "bytes",    "int",       "number",  "bool",      "boolean",
    "object", "any",      "required", "optional",  "secret",  "password",  "passwd",
    "pass",   "pwd",      "token",    "apikey",    "api_key", "api-key",   "key",
    "value",  "changeit", "test",     "secretstr", "char",    "default"};

// Substrings that mark documentation values. Each is long or punctuated enough that a random
// secret contains it with negligible probability (a bare "your" or "xxxx" does not qualify).
constexpr std::array<std::string_view, 24> kStandInFragments = {
    "redacted",  "example",  "placeholder", "your_",        "your-",    "yourkey",
    "yourtoken", "yourpass", "yoursecret",  "yourapi",      "changeme", "change_me",
    "change-me", "replace_", "replace-",    "replaceme",    "insert_",  "insert-",
    "dummy",     "****",     "...",         "\xe2\x80\xa6", "<",        ">"};

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

// Filter for has_stand_in_fragment: a hash set of the lower-cased first three bytes of every
// fragment of three bytes or more. A value none of whose positions hits it holds no such
// fragment; testing it is branch-free, so random values (the common case) pay no mispredicted
// branch per byte.
std::uint32_t fragment_head_hash(unsigned char a, unsigned char b, unsigned char c) {
  const std::uint32_t v =
      (static_cast<std::uint32_t>(a) << 16) | (static_cast<std::uint32_t>(b) << 8) | c;
  return (v * 0x9E3779B1u) >> 16;
}

// What one pass over a value (at most 128 bytes) finds; everything is_placeholder needs but
// the exact fragment and word comparisons.
struct ValueScan {
  bool maybe_fragment = false;  // a position's first three bytes start some fragment, or < >
  bool template_byte = false;   // '{', '}' or '$': may hold {{ }} ${ $( #{
  std::size_t masks = 0;        // mask bytes (x X * #)
  std::size_t longest_run = 0;  // longest run of mask bytes
};

ValueScan scan_value(std::string_view v) {
  using Bits = std::array<std::uint64_t, 1024>;  // 65536 bits
  // Per byte: the byte lower-cased in bits 0-7; bit 8 a mask byte, bit 9 a template byte,
  // bit 10 a one-byte fragment ('<', '>').
  static const std::array<std::uint16_t, 256> info = [] {
    std::array<std::uint16_t, 256> table{};
    for (int c = 0; c < 256; ++c) {
      table[static_cast<std::size_t>(c)] =
          static_cast<unsigned char>(to_lower(static_cast<char>(c)));
    }
    for (char c : {'x', 'X', '*', '#'}) table[static_cast<unsigned char>(c)] |= 0x100;
    for (char c : {'{', '}', '$'}) table[static_cast<unsigned char>(c)] |= 0x200;
    for (std::string_view f : kStandInFragments) {
      if (f.size() < 3) table[static_cast<unsigned char>(f[0])] |= 0x400;
    }
    return table;
  }();
  static const Bits heads = [] {
    Bits bits{};
    for (std::string_view f : kStandInFragments) {
      if (f.size() < 3) continue;
      const std::uint32_t h =
          fragment_head_hash(static_cast<unsigned char>(f[0]), static_cast<unsigned char>(f[1]),
                             static_cast<unsigned char>(f[2]));
      bits[h >> 6] |= std::uint64_t{1} << (h & 63);
    }
    return bits;
  }();
  ValueScan out;
  const auto* p = reinterpret_cast<const unsigned char*>(v.data());
  unsigned kinds = 0;
  std::uint64_t heads_hit = 0;
  std::uint32_t window = 0;  // lower-cased bytes i-2, i-1, i (zeros before the start: a
                             // spurious hit there costs only the exact search)
  std::size_t run = 0;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const unsigned e = info[p[i]];
    kinds |= e;
    const std::size_t mask = (e >> 8) & 1u;
    run = (run + 1) * mask;
    out.longest_run = std::max(out.longest_run, run);
    out.masks += mask;
    window = ((window << 8) | (e & 0xffu)) & 0xffffffu;
    const std::uint32_t h = (window * 0x9E3779B1u) >> 16;
    heads_hit |= heads[h >> 6] >> (h & 63);
  }
  out.template_byte = (kinds & 0x200u) != 0;
  out.maybe_fragment = (heads_hit & 1u) != 0 || (kinds & 0x400u) != 0;
  return out;
}

// Letters only, every capital but the first starting a lowercase word of 3+ letters:
// MySecretApplicationName, refreshTokenRotation. Random mixed-case letters almost always have
// adjacent capitals or short runs between them.
bool is_camel_words(std::string_view v) {
  std::size_t run = 0;       // lowercase letters since the last capital
  std::size_t capitals = 0;
  for (char c : v) {
    if (is_upper(c)) {
      if (capitals > 1 && run < 2) return false;  // the word this capital ends was too short
      if (capitals == 1 && run < 1) return false;
      ++capitals;
      run = 0;
    } else if (is_lower(c)) {
      ++run;
    } else {
      return false;
    }
  }
  return capitals == 0 || run >= 2;
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
  double sum = 0.0;
  if (s.size() < 256) {
    // Nearly every value: counts fit a byte. The second pass adds each distinct byte's term at
    // its first occurrence and clears the count (later occurrences add c_log2_c[0] = 0): the
    // same terms in the same order as below, so the same result, without a branch per byte.
    std::array<std::uint8_t, 256> counts{};
    for (unsigned char c : s) ++counts[c];
    for (unsigned char c : s) {
      sum += c_log2_c[counts[c]];
      counts[c] = 0;
    }
  } else {
    std::array<std::uint32_t, 256> counts{};
    std::array<unsigned char, 256> seen;  // distinct bytes in order of appearance
    std::size_t distinct = 0;
    for (unsigned char c : s) {  // branch-free: a random value's bytes are unpredictable
      seen[distinct] = c;
      distinct += counts[c]++ == 0 ? 1 : 0;
    }
    for (std::size_t i = 0; i < distinct; ++i) {
      const std::uint32_t c = counts[seen[i]];
      sum += c < kTable ? c_log2_c[c] : c * std::log2(static_cast<double>(c));
    }
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
  const ValueScan scan = scan_value(v);
  if (scan.template_byte && (contains(v, "{{") || contains(v, "}}") || contains(v, "${") ||
                             contains(v, "$(") || contains(v, "#{"))) {
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
  if (scan.maybe_fragment && has_stand_in_fragment(v, token)) return true;
  if (!token && v.size() >= 4 && to_lower(v[0]) == 'y' && to_lower(v[1]) == 'o' &&
      to_lower(v[2]) == 'u' && to_lower(v[3]) == 'r') {
    return true;  // YOUR_API_KEY, yourtokenhere
  }
  if (v.size() >= 3 && v.find_first_not_of(v[0]) == std::string_view::npos) return true;
  // Masks: sk-xxxxxxxx, ghp_XXXX..., ****: a long run of mask bytes, or mostly mask bytes.
  return scan.longest_run >= 6 || (scan.masks * 2 >= v.size() && v.size() >= 4);
}

bool looks_random(std::string_view v) {
  if (v.size() < 8) return false;
  // Class of each byte: 0 lower, 1 upper, 2 digit, 3 separator (- _ .), 4 other. Tallied
  // without branches: a random value's classes are unpredictable.
  static const std::array<unsigned char, 256> kClass = [] {
    std::array<unsigned char, 256> table;
    table.fill(4);
    for (int c = 0; c < 256; ++c) {
      const char b = static_cast<char>(c);
      if (is_lower(b)) table[static_cast<std::size_t>(c)] = 0;
      if (is_upper(b)) table[static_cast<std::size_t>(c)] = 1;
      if (is_digit(b)) table[static_cast<std::size_t>(c)] = 2;
    }
    for (char c : {'-', '_', '.'}) table[static_cast<unsigned char>(c)] = 3;
    return table;
  }();
  std::array<std::size_t, 5> tally{};
  std::size_t transitions = 0;
  // Separators and other bytes are one class for transitions.
  unsigned previous_class = std::min<unsigned>(kClass[static_cast<unsigned char>(v[0])], 3);
  for (char c : v) {
    const unsigned cls = kClass[static_cast<unsigned char>(c)];
    ++tally[cls];
    const unsigned merged = std::min<unsigned>(cls, 3);
    transitions += merged != previous_class ? 1 : 0;
    previous_class = merged;
  }
  const std::size_t lower = tally[0], upper = tally[1], digit = tally[2], separators = tally[3];
  const std::size_t letters = lower + upper;
  if (letters == 0) return false;
  const double entropy = shannon_entropy(v);
  const double needed = std::min(3.0, 0.85 * std::log2(static_cast<double>(v.size())));
  if (entropy < needed) return false;
  if (digit == 0) {
    // Letters only: random only if long and both cases churn (not CamelCaseWords).
    if (v.size() < 16 || lower == 0 || upper == 0) return false;
    if (is_camel_words(v)) return false;
    const bool churns = transitions * 10 >= v.size() * 3;
    const bool dense = entropy >= 0.85 * std::log2(static_cast<double>(v.size()));
    if (!churns && !dense) return false;
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

}  // namespace cb::redact
