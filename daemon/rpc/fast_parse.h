#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

// A fast path in front of nlohmann's parser for frames (parse_frame). simdjson checks the text
// (structure, UTF-8, escapes, numbers) in a few thousand instructions and the result becomes the
// nlohmann::json that nlohmann's parser would have built, without its lexer, which copies every
// character twice (13% of the daemon's instructions per delivered message). Whatever
// simdjson refuses, nlohmann parses and judges as before, so the fast path changes how fast a
// valid frame is read, never what is accepted or what an error says.
namespace cb::mcp {

// Frames longer than this go to nlohmann: simdjson's parser keeps buffers sized for the
// largest document it has seen.
inline constexpr std::size_t kFastParseMaxBytes = 64 * 1024;

// The value, or nullopt: text simdjson refuses (invalid, or a number it cannot hold exactly,
// such as integers past 64 bits), text past kFastParseMaxBytes, or -0.0 (nlohmann reads "-0"
// as an integer, simdjson as a float: left to nlohmann to keep its types).
std::optional<nlohmann::json> fast_parse(std::string_view text);

}  // namespace cb::mcp
