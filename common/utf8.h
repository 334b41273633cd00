#pragma once

#include <cstddef>
#include <string_view>

namespace cb {

// Number of Unicode code points in UTF-8 text.
std::size_t code_points(std::string_view utf8);

}  // namespace cb
