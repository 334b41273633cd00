#pragma once

#include <string>
#include <string_view>

namespace cb {

// `bytes` as a JSON string literal, quotes included, for writers that build a line of JSON
// without a JSON library (the shim). Escapes '"', '\\' and every control character below 0x20;
// each byte that is not part of well-formed UTF-8 becomes \uFFFD (U+FFFD REPLACEMENT
// CHARACTER), so the result is always valid JSON whatever the input (environment values,
// paths). Well-formed UTF-8 passes unchanged.
std::string json_string(std::string_view bytes);

}  // namespace cb
