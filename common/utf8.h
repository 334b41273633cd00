#pragma once

#include <cstddef>
#include <string_view>
#include <utility>

namespace cb {

// Number of Unicode code points in UTF-8 text.
std::size_t code_points(std::string_view utf8);

// The code point starting at text[i] (i < text.size()) and its length in bytes; length 0 when
// the bytes there are not well-formed UTF-8 (Unicode's table 3-7: no overlong forms, no
// surrogates, nothing beyond U+10FFFF, no cut sequence).
std::pair<char32_t, std::size_t> decode_utf8(std::string_view text, std::size_t i);

}  // namespace cb
