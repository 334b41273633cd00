#include "ctl/output.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "common/visible.h"

namespace cb::ctl {

Style detect_style(std::FILE* stream) {
  Style s;
  const bool tty = ::isatty(::fileno(stream)) == 1;
  const char* no_color = std::getenv("NO_COLOR");
  const char* term = std::getenv("TERM");
  s.unicode = tty;
  s.color = tty && !(no_color && *no_color) && !(term && std::strcmp(term, "dumb") == 0);
  return s;
}

std::string paint(const Style& style, const char* code, std::string_view text) {
  if (!style.color || !code) return std::string(text);
  return "\033[" + std::string(code) + "m" + std::string(text) + "\033[0m";
}

namespace {
bool continuation(unsigned char c) { return (c & 0xC0) == 0x80; }
}  // namespace

std::size_t width(std::string_view utf8) {
  std::size_t n = 0;
  for (unsigned char c : utf8) {
    if (!continuation(c)) ++n;
  }
  return n;
}

std::string cut(std::string_view utf8, std::size_t max, const Style& style) {
  if (width(utf8) <= max) return std::string(utf8);
  std::size_t points = 0;
  std::size_t i = 0;
  for (; i < utf8.size(); ++i) {
    if (!continuation(static_cast<unsigned char>(utf8[i]))) {
      if (points == max) break;
      ++points;
    }
  }
  return std::string(utf8.substr(0, i)) + (style.unicode ? "…" : "...");
}

std::string one_line(std::string_view utf8, const Style& style) {
  std::string out;
  out.reserve(utf8.size());
  for (;;) {
    const std::size_t nl = utf8.find('\n');
    out += visible(utf8.substr(0, nl), Visible::kLine);
    if (nl == std::string_view::npos) return out;
    out += style.unicode ? "⏎ " : "\\n ";
    utf8.remove_prefix(nl + 1);
  }
}

std::string raw_field(const nlohmann::json& j, const char* key, const char* fallback) {
  if (!j.is_object() || !j.contains(key) || j[key].is_null()) return fallback;
  if (j[key].is_string()) return j[key].get<std::string>();
  return j[key].dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string field(const nlohmann::json& j, const char* key, const char* fallback) {
  return visible(raw_field(j, key, fallback), Visible::kLine);
}

std::string short_time(const nlohmann::json& iso) {
  if (!iso.is_string()) return "-";
  std::string s = iso.get<std::string>();
  if (s.size() >= 20 && s[10] == 'T') {
    return visible(s.substr(0, 10) + " " + s.substr(11, 8) + "Z");
  }
  return visible(s);
}

void Table::print(std::FILE* out, const Style& style, std::string_view indent) const {
  // Every cell through visible(): idempotent on text that already went through it, and the
  // guarantee that no cell can move the cursor or hide a character.
  std::vector<std::vector<Cell>> rows;
  rows.reserve(rows_.size());
  for (const auto& row : rows_) {
    std::vector<Cell> safe;
    for (const auto& cell : row)
      safe.push_back(Cell{visible(cell.text, Visible::kLine), cell.color});
    rows.push_back(std::move(safe));
  }
  std::vector<std::size_t> widths(header_.size(), 0);
  for (std::size_t i = 0; i < header_.size(); ++i) widths[i] = width(header_[i]);
  for (const auto& row : rows) {
    for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], width(row[i].text));
    }
  }
  auto emit = [&](const std::vector<Cell>& row, const char* all_color) {
    std::string line(indent);
    for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      const bool last = i + 1 == row.size() || i + 1 == widths.size();
      line += paint(style, all_color ? all_color : row[i].color, row[i].text);
      if (!last) line += std::string(widths[i] - width(row[i].text) + 2, ' ');
    }
    // No trailing blanks when the last cells are empty.
    while (!line.empty() && line.back() == ' ') line.pop_back();
    std::fprintf(out, "%s\n", line.c_str());
  };
  std::vector<Cell> head;
  for (const auto& h : header_) head.push_back(Cell{h, nullptr});
  emit(head, sgr::kBold);
  for (const auto& row : rows) emit(row, nullptr);
}

void print_json(const nlohmann::json& value) {
  const std::string text = value.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fputc('\n', stdout);
}

}  // namespace cb::ctl
