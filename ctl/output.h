#pragma once

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

// How claude-bridgectl writes for people: aligned tables, colour and Unicode marks only on a
// terminal (NO_COLOR respected), texts cut by code points, never in the middle of a character.
namespace cb::ctl {

struct Style {
  bool color = false;    // ANSI SGR colours
  bool unicode = false;  // ✓ ✗ → … instead of ASCII
};

// Colour when `stream` is a terminal, NO_COLOR is unset or empty and TERM is not "dumb";
// Unicode marks when it is a terminal.
Style detect_style(std::FILE* stream);

namespace sgr {
inline constexpr const char* kBold = "1";
inline constexpr const char* kDim = "2";
inline constexpr const char* kRed = "31";
inline constexpr const char* kGreen = "32";
inline constexpr const char* kYellow = "33";
inline constexpr const char* kCyan = "36";
}  // namespace sgr

// `text` wrapped in the SGR sequence when the style has colour.
std::string paint(const Style& style, const char* code, std::string_view text);

// Number of code points (the width a terminal gives most text).
std::size_t width(std::string_view utf8);
// At most `max` code points; an ellipsis (… or ...) marks a cut.
std::string cut(std::string_view utf8, std::size_t max, const Style& style);
// Text an agent controls, for a person: cb::visible() (common/visible.h) with newlines shown
// as ⏎ (or \n) so a message stays on one table row. Table::print passes every cell through
// cb::visible() as well, so a table row is one line whatever the daemon sent.
std::string one_line(std::string_view utf8, const Style& style);
// A member of `j` as a person should see it: a string through cb::visible() (one line), other
// JSON values dumped, `fallback` when absent or null.
std::string field(const nlohmann::json& j, const char* key, const char* fallback = "-");
// The same member exactly as the daemon sent it, for comparisons and for callers that escape
// it in another way (a message body through cb::visible(kLines), an argument quoted for bash).
std::string raw_field(const nlohmann::json& j, const char* key, const char* fallback = "-");
// "2026-11-24T08:00:00.123Z" → "2026-11-24 08:00:00Z"; anything else unchanged.
std::string short_time(const nlohmann::json& iso);

// A table printed with columns padded to their widest cell; the last column is not padded.
class Table {
 public:
  struct Cell {
    std::string text;
    const char* color = nullptr;  // SGR code, applied only when the style has colour
  };
  explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}
  void add(std::vector<Cell> row) { rows_.push_back(std::move(row)); }
  bool empty() const { return rows_.empty(); }
  void print(std::FILE* out, const Style& style, std::string_view indent = "") const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<Cell>> rows_;
};

// Pretty JSON (2-space indent, invalid UTF-8 replaced) and a newline on stdout.
void print_json(const nlohmann::json& value);

}  // namespace cb::ctl
