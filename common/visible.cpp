#include "common/visible.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <utility>

#include "common/utf8.h"

namespace cb {
namespace {

// Unicode 15.1, general category Cf, plus U+2028 (Zl) and U+2029 (Zp). Sorted, inclusive.
// tests/e2e/test_operator.py checks it against Python's unicodedata.
constexpr std::array<std::pair<char32_t, char32_t>, 21> kFormat{{
    {0x00AD, 0x00AD},   {0x0600, 0x0605},   {0x061C, 0x061C},   {0x06DD, 0x06DD},
    {0x070F, 0x070F},   {0x0890, 0x0891},   {0x08E2, 0x08E2},   {0x180E, 0x180E},
    {0x200B, 0x200F},   {0x2028, 0x202E},   {0x2060, 0x2064},   {0x2066, 0x206F},
    {0xFEFF, 0xFEFF},   {0xFFF9, 0xFFFB},   {0x110BD, 0x110BD}, {0x110CD, 0x110CD},
    {0x13430, 0x1343F}, {0x1BCA0, 0x1BCA3}, {0x1D173, 0x1D17A}, {0xE0001, 0xE0001},
    {0xE0020, 0xE007F},
}};

constexpr char kHex[] = "0123456789ABCDEF";

void hex(std::string& out, std::uint32_t value, int digits) {
  for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4)
    out.push_back(kHex[(value >> shift) & 0xF]);
}

}  // namespace

bool is_hidden_code_point(char32_t c) {
  if (c < 0x20 || (c >= 0x7F && c <= 0x9F)) return true;
  if (c < 0xAD) return false;
  const auto it = std::upper_bound(kFormat.begin(), kFormat.end(), c,
                                   [](char32_t v, const auto& r) { return v < r.first; });
  return it != kFormat.begin() && c <= std::prev(it)->second;
}

std::string visible(std::string_view text, Visible mode) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const auto [cp, len] = decode_utf8(text, i);
    if (len == 0) {
      out += "\\x";
      hex(out, static_cast<unsigned char>(text[i]), 2);
      ++i;
      continue;
    }
    if (!is_hidden_code_point(cp)) {
      if (mode == Visible::kShellQuoted && (cp == '\\' || cp == '\'')) out.push_back('\\');
      out.append(text, i, len);
    } else if (cp == '\n' || cp == '\t') {
      if (mode == Visible::kLines) {
        out.push_back(static_cast<char>(cp));
      } else {
        out += cp == '\n' ? "\\n" : "\\t";
      }
    } else if (cp == '\r') {
      out += "\\r";
    } else if (cp < 0x80) {
      out += "\\x";
      hex(out, cp, 2);
    } else if (cp <= 0xFFFF) {
      out += "\\u";
      hex(out, cp, 4);
    } else {
      out += "\\U";
      hex(out, cp, 8);
    }
    i += len;
  }
  return out;
}

bool is_visible(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const auto [cp, len] = decode_utf8(text, i);
    if (len == 0 || is_hidden_code_point(cp)) return false;
    i += len;
  }
  return true;
}

}  // namespace cb
