#pragma once

#include <string>
#include <string_view>

namespace cb {

// `text` made fit for a one-line message: control characters written as escapes (\n, \r, \t,
// \xNN), everything else as it is. For errors that quote what a user wrote (a config file's
// bytes, a redaction pattern) — those may hold any byte, and an error is one line.
std::string one_line(std::string_view text);

}  // namespace cb
