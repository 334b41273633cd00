#include "daemon/redact/kubernetes_secret.h"

#include <algorithm>

#include "daemon/redact/value_shape.h"

namespace cb::redact {
namespace {

constexpr std::size_t kJsonKindDistance = 4096;
constexpr std::size_t kMaxDataObject = 64 * 1024;

struct Line {
  std::size_t begin;    // first byte of the line
  std::size_t content;  // first byte after the indentation
  std::size_t end;      // the '\n' or text.size()
  std::size_t indent() const { return content - begin; }
};

Line line_at(std::string_view text, std::size_t begin) {
  std::size_t end = text.find('\n', begin);
  if (end == std::string_view::npos) end = text.size();
  std::size_t content = begin;
  while (content < end && (text[content] == ' ' || text[content] == '\t')) ++content;
  return {begin, content, end};
}

// The content of a line without "- " list markers, trailing blanks, '\r' and comments.
std::string_view body(std::string_view text, const Line& line) {
  std::string_view s = text.substr(line.content, line.end - line.content);
  if (s.starts_with("- ")) s.remove_prefix(2);
  const std::size_t comment = s.find(" #");
  if (comment != std::string_view::npos) s = s.substr(0, comment);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

std::string_view unquote(std::string_view s) {
  if (s.size() >= 2 && (s.front() == '"' || s.front() == '\'') && s.back() == s.front()) {
    return s.substr(1, s.size() - 2);
  }
  return s;
}

bool is_secret_kind(std::string_view s) {
  if (!s.starts_with("kind:")) return false;
  s.remove_prefix(5);
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  return unquote(s) == "Secret";
}

void push_value(std::string_view text, std::string_view value, std::vector<Span>* out) {
  if (value.empty() || is_placeholder(value)) return;
  const std::size_t offset = static_cast<std::size_t>(value.data() - text.data());
  out->push_back({offset, offset + value.size()});
}

// Redacts the entries of every data/stringData block of one YAML document [begin, end).
void scan_yaml_document(std::string_view text, std::size_t begin, std::size_t end,
                        std::vector<Span>* out) {
  bool secret = false;
  for (std::size_t pos = begin; pos < end;) {
    const Line line = line_at(text, pos);
    if (is_secret_kind(body(text, line))) secret = true;
    pos = line.end + 1;
  }
  if (!secret) return;
  std::size_t block_indent = 0;
  bool in_block = false;
  std::size_t scalar_indent = 0;
  bool in_scalar = false;  // inside a `key: |` block scalar of a data entry
  for (std::size_t pos = begin; pos < end;) {
    const Line line = line_at(text, pos);
    pos = line.end + 1;
    const std::string_view content = body(text, line);
    if (content.empty()) continue;
    if (in_scalar && line.indent() > scalar_indent) {
      push_value(text, content, out);
      continue;
    }
    in_scalar = false;
    if (in_block && line.indent() <= block_indent) in_block = false;
    if (!in_block) {
      if (content == "data:" || content == "stringData:") {
        in_block = true;
        block_indent = line.indent();
      }
      continue;
    }
    const std::size_t colon = content.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view value = content.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    if (!value.empty() && (value.front() == '|' || value.front() == '>')) {
      in_scalar = true;
      scalar_indent = line.indent();
      continue;
    }
    push_value(text, unquote(value), out);
  }
}

// A line that separates YAML documents: "---" or a markdown code fence.
bool is_document_boundary(std::string_view text, std::size_t line_begin) {
  const std::string_view head = text.substr(line_begin, 3);
  return head == "---" || head == "```";
}

void scan_yaml(std::string_view text, std::vector<Span>* out) {
  std::size_t done = 0;  // everything before this offset has been parsed
  for (std::size_t pos = text.find("Secret"); pos != std::string_view::npos;
       pos = text.find("Secret", pos + 6)) {
    if (pos < done) continue;
    // The line must read `kind: Secret`; its start is at most kCheckContext bytes back.
    std::size_t line = pos;
    const std::size_t floor = pos > kCheckContext ? pos - kCheckContext : 0;
    while (line > floor && text[line - 1] != '\n') --line;
    if (line > 0 && text[line - 1] != '\n') continue;
    if (!is_secret_kind(body(text, line_at(text, line)))) continue;
    // Its document: back and forth to the nearest boundaries (never before `done`).
    std::size_t begin = line;
    while (begin > done) {
      std::size_t start = begin - 1;  // the '\n' that ends the previous line
      while (start > done && text[start - 1] != '\n') --start;
      if (is_document_boundary(text, start)) break;
      begin = start;
    }
    std::size_t end = line_at(text, line).end;
    while (end < text.size() && !is_document_boundary(text, end + 1))
      end = line_at(text, end + 1).end;
    scan_yaml_document(text, begin, std::min(end + 1, text.size()), out);
    done = std::min(end + 1, text.size());
  }
}

std::size_t skip_blanks(std::string_view text, std::size_t pos) {
  while (pos < text.size() &&
         (text[pos] == ' ' || text[pos] == '\t' || text[pos] == '\n' || text[pos] == '\r')) {
    ++pos;
  }
  return pos;
}

// Offsets of `"kind": "Secret"` in text.
std::vector<std::size_t> json_secret_kinds(std::string_view text) {
  std::vector<std::size_t> kinds;
  for (std::size_t pos = text.find("\"kind\""); pos != std::string_view::npos;
       pos = text.find("\"kind\"", pos + 1)) {
    std::size_t p = skip_blanks(text, pos + 6);
    if (p >= text.size() || text[p] != ':') continue;
    p = skip_blanks(text, p + 1);
    if (text.compare(p, 8, "\"Secret\"") == 0) kinds.push_back(pos);
  }
  return kinds;
}

// Redacts the "data"/"stringData" object that starts at `key` (the opening quote of the key).
// Returns the offset after the object, or key + 1 if there is none.
std::size_t scan_json_data(std::string_view text, std::size_t key, std::size_t key_size,
                           std::vector<Span>* out) {
  std::size_t p = skip_blanks(text, key + key_size);
  if (p >= text.size() || text[p] != ':') return key + 1;
  p = skip_blanks(text, p + 1);
  if (p >= text.size() || text[p] != '{') return key + 1;
  // A data object is at most kMaxDataObject bytes; a '{' never closed costs no more than that.
  const std::size_t close = text.substr(0, std::min(text.size(), p + kMaxDataObject)).find('}', p);
  if (close == std::string_view::npos) return key + 1;
  // "name": "value" pairs; values are base64 or plain strings.
  std::size_t q = p + 1;
  while (q < close) {
    const std::size_t key_open = text.find('"', q);
    if (key_open == std::string_view::npos || key_open >= close) break;
    const std::size_t key_close = text.find('"', key_open + 1);
    if (key_close == std::string_view::npos || key_close >= close) break;
    std::size_t v = skip_blanks(text, key_close + 1);
    if (v >= close || text[v] != ':') break;
    v = skip_blanks(text, v + 1);
    if (v >= close || text[v] != '"') break;
    const std::size_t value_close = text.find('"', v + 1);
    if (value_close == std::string_view::npos || value_close > close) break;
    push_value(text, text.substr(v + 1, value_close - v - 1), out);
    q = value_close + 1;
  }
  return close + 1;
}

void scan_json(std::string_view text, std::vector<Span>* out) {
  // Only the neighbourhood of each "kind": "Secret" is searched for data objects; regions are
  // visited in order and never twice.
  std::size_t done = 0;
  for (std::size_t kind : json_secret_kinds(text)) {
    const std::size_t begin =
        std::max(done, kind > kJsonKindDistance ? kind - kJsonKindDistance : 0);
    const std::size_t end = std::min(text.size(), kind + kJsonKindDistance);
    const std::string_view region = text.substr(0, std::min(text.size(), end + 16));
    std::size_t pos = begin;
    while (pos < end) {
      const std::size_t plain = region.find("\"data\"", pos);
      const std::size_t string = region.find("\"stringData\"", pos);
      const std::size_t next = std::min(plain, string);
      if (next == std::string_view::npos || next >= end) break;
      pos = scan_json_data(text, next, next == plain ? 6 : 12, out);
    }
    done = std::max(done, std::max(pos, end));
  }
}

}  // namespace

void scan_kubernetes_secrets(std::string_view text, std::vector<Span>* out) {
  scan_yaml(text, out);
  scan_json(text, out);
}

}  // namespace cb::redact
