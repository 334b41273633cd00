#include "daemon/mcp/quick_check.h"

#include <algorithm>
#include <bitset>
#include <cstdint>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cb::mcp {

namespace {

enum TypeBit : unsigned {
  kString = 1u << 0,
  kInteger = 1u << 1,
  kNumber = 1u << 2,
  kBoolean = 1u << 3,
  kNull = 1u << 4,
  kObject = 1u << 5,
  kArray = 1u << 6,
};

std::optional<unsigned> type_bit(const Json& name) {
  if (!name.is_string()) return std::nullopt;
  const auto& n = name.get_ref<const std::string&>();
  if (n == "string") return kString;
  if (n == "integer") return kInteger;
  if (n == "number") return kNumber;
  if (n == "boolean") return kBoolean;
  if (n == "null") return kNull;
  if (n == "object") return kObject;
  if (n == "array") return kArray;
  return std::nullopt;
}

bool type_matches(unsigned types, const Json& v) {
  // valijson with strong types (its default, and ours): "number" takes integers too.
  switch (v.type()) {
    case Json::value_t::string:
      return (types & kString) != 0;
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
      return (types & (kInteger | kNumber)) != 0;
    case Json::value_t::number_float:
      return (types & kNumber) != 0;
    case Json::value_t::boolean:
      return (types & kBoolean) != 0;
    case Json::value_t::null:
      return (types & kNull) != 0;
    case Json::value_t::object:
      return (types & kObject) != 0;
    case Json::value_t::array:
      return (types & kArray) != 0;
    default:
      return false;
  }
}

std::optional<std::uint64_t> count_of(const Json& v) {
  if (!v.is_number_integer() || v.get<std::int64_t>() < 0) return std::nullopt;
  return v.get<std::uint64_t>();
}

// valijson counts characters with u8_strlen on the string's c_str(): one per lead byte and the
// continuation bytes after it, stopping at a NUL. This count never falls below that one: the
// first byte counts whatever it is, then every byte that is not a UTF-8 continuation byte
// (10xxxxxx), NULs included. It is exact for valid UTF-8 without NULs.
std::uint64_t characters_at_least(std::string_view s) {
  if (s.empty()) return 0;
  std::uint64_t n = 1;
  for (std::size_t i = 1; i < s.size(); ++i) {
    n += (static_cast<unsigned char>(s[i]) & 0xC0u) != 0x80u;
  }
  return n;
}

// Whether valijson's u8_strlen of `s` reaches `wanted`, walking the string exactly the way it
// does (valijson/utils/utf8_utils.hpp) but stopping once it has seen enough.
bool has_characters(const std::string& s, std::uint64_t wanted) {
  static constexpr std::uint32_t kOffsets[4] = {0x00000000u, 0x00003080u, 0x000E2080u, 0x03C82080u};
  const char* p = s.c_str();
  std::uint64_t seen = 0;
  std::size_t i = 0;
  while (seen < wanted) {
    if (p[i] == 0) return false;
    std::uint64_t ch = 0;
    int size = 0;
    do {
      ch = (ch << 6) + static_cast<unsigned char>(p[i++]);
      ++size;
    } while (p[i] != 0 && (static_cast<unsigned char>(p[i]) & 0xC0u) == 0x80u);
    if (size > 4) return false;  // valijson reads past its table here: not ours to guess
    if (ch - kOffsets[size - 1] == 0) return false;
    ++seen;
  }
  return true;
}

// A pattern of fixed length: "^", then literal characters and bracket classes ([a-f0-9]), each
// optionally repeated {n} times, then "$" (our ids and tokens: ^conv_[a-f0-9]{16}$). Such a
// pattern matches exactly the strings of that length whose every character is in its position's
// set, which a position-by-position test decides in a few instructions where std::regex_search
// took ~3,500. Any other pattern is left to std::regex.
class FixedPattern {
 public:
  static std::optional<FixedPattern> parse(std::string_view p) {
    if (p.size() < 2 || p.front() != '^' || p.back() != '$') return std::nullopt;
    p = p.substr(1, p.size() - 2);
    FixedPattern out;
    std::size_t i = 0;
    while (i < p.size()) {
      std::bitset<256> set;
      if (p[i] == '[') {
        const std::size_t close = p.find(']', i + 1);
        if (close == std::string_view::npos || close == i + 1) return std::nullopt;
        const std::string_view body = p.substr(i + 1, close - i - 1);
        for (std::size_t k = 0; k < body.size(); ++k) {
          if (!plain(body[k])) return std::nullopt;
          if (k + 2 < body.size() && body[k + 1] == '-') {
            if (!plain(body[k + 2]) || body[k + 2] < body[k]) return std::nullopt;
            for (int c = body[k]; c <= body[k + 2]; ++c) set.set(static_cast<std::size_t>(c));
            k += 2;
          } else {
            set.set(static_cast<unsigned char>(body[k]));
          }
        }
        i = close + 1;
      } else if (plain(p[i])) {
        set.set(static_cast<unsigned char>(p[i]));
        ++i;
      } else {
        return std::nullopt;
      }
      std::size_t count = 1;
      if (i < p.size() && p[i] == '{') {
        const std::size_t close = p.find('}', i + 1);
        const std::string_view digits =
            close == std::string_view::npos ? std::string_view() : p.substr(i + 1, close - i - 1);
        if (digits.empty() || digits.size() > 4 ||
            digits.find_first_not_of("0123456789") != std::string_view::npos) {
          return std::nullopt;  // {n,m}, {,m} and the like: not a fixed length
        }
        count = std::stoul(std::string(digits));
        i = close + 1;
      }
      for (std::size_t n = 0; n < count; ++n) out.positions_.push_back(set);
    }
    return out;
  }

  bool matches(std::string_view s) const {
    if (s.size() != positions_.size()) return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (!positions_[i].test(static_cast<unsigned char>(s[i]))) return false;
    }
    return true;
  }

 private:
  // Letters, digits and '_': characters that mean only themselves in an ECMAScript pattern,
  // inside a class or out.
  static bool plain(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_';
  }
  std::vector<std::bitset<256>> positions_;
};

// valijson compares numbers as doubles: a float as it is, an integer through int64_t.
double as_double(const Json& v) {
  return v.is_number_float() ? v.get<double>() : static_cast<double>(v.get<std::int64_t>());
}

}  // namespace

struct QuickCheck::Node {
  unsigned types = 0;  // 0: any
  // Sorted by name, the order nlohmann keeps an object's members in.
  std::vector<std::pair<std::string, std::unique_ptr<Node>>> properties;
  std::vector<bool> required;  // per property
  std::size_t required_count = 0;
  bool closed = false;  // additionalProperties: false
  std::optional<std::vector<std::string>> enum_strings;
  std::optional<std::uint64_t> min_length;
  std::optional<std::uint64_t> max_length;
  std::optional<FixedPattern> fixed_pattern;  // when the pattern is one (see above)
  std::optional<std::regex> pattern;          // otherwise
  std::optional<double> minimum;
  std::optional<double> maximum;
  std::unique_ptr<Node> items;
  std::optional<std::uint64_t> min_items;
  std::optional<std::uint64_t> max_items;

  static std::unique_ptr<Node> compile(const Json& schema);
  bool passes(const Json& v) const;
  bool passes_object(const Json& v) const;
};

std::unique_ptr<QuickCheck::Node> QuickCheck::Node::compile(const Json& schema) {
  if (!schema.is_object()) return nullptr;
  auto node = std::make_unique<Node>();
  const Json* required = nullptr;
  for (const auto& [key, value] : schema.items()) {
    if (key == "description" || key == "title" || key == "default" || key == "examples" ||
        key == "$comment") {
      continue;
    } else if (key == "type") {
      if (value.is_string()) {
        const auto bit = type_bit(value);
        if (!bit) return nullptr;
        node->types = *bit;
      } else if (value.is_array() && !value.empty()) {
        for (const Json& name : value) {
          const auto bit = type_bit(name);
          if (!bit) return nullptr;
          node->types |= *bit;
        }
      } else {
        return nullptr;
      }
    } else if (key == "properties") {
      if (!value.is_object()) return nullptr;
      for (const auto& [name, sub] : value.items()) {
        auto child = compile(sub);
        if (!child) return nullptr;
        node->properties.emplace_back(name, std::move(child));
      }
    } else if (key == "required") {
      if (!value.is_array()) return nullptr;
      required = &value;
    } else if (key == "additionalProperties") {
      if (!value.is_boolean()) return nullptr;
      node->closed = !value.get<bool>();
    } else if (key == "enum") {
      if (!value.is_array() || value.empty()) return nullptr;
      node->enum_strings.emplace();
      for (const Json& member : value) {
        if (!member.is_string()) return nullptr;
        node->enum_strings->push_back(member.get<std::string>());
      }
    } else if (key == "minLength" || key == "maxLength" || key == "minItems" || key == "maxItems") {
      const auto n = count_of(value);
      if (!n) return nullptr;
      (key == "minLength"   ? node->min_length
       : key == "maxLength" ? node->max_length
       : key == "minItems"  ? node->min_items
                            : node->max_items) = *n;
    } else if (key == "pattern") {
      if (!value.is_string()) return nullptr;
      node->fixed_pattern = FixedPattern::parse(value.get_ref<const std::string&>());
      if (node->fixed_pattern) continue;
      try {
        node->pattern.emplace(value.get<std::string>());  // as valijson builds it
      } catch (const std::regex_error&) {
        return nullptr;
      }
    } else if (key == "minimum" || key == "maximum") {
      if (!value.is_number()) return nullptr;
      (key == "minimum" ? node->minimum : node->maximum) = value.get<double>();
    } else if (key == "items") {
      node->items = compile(value);
      if (!node->items) return nullptr;
    } else {
      return nullptr;  // a keyword this check does not apply: leave the schema to valijson
    }
  }
  std::sort(node->properties.begin(), node->properties.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  node->required.assign(node->properties.size(), false);
  if (required != nullptr) {
    for (const Json& name : *required) {
      if (!name.is_string()) return nullptr;
      const auto it = std::find_if(node->properties.begin(), node->properties.end(),
                                   [&](const auto& p) { return p.first == name; });
      // A required name without a property schema is legal JSON Schema, but not worth a
      // second lookup path here.
      if (it == node->properties.end()) return nullptr;
      const auto index = static_cast<std::size_t>(it - node->properties.begin());
      if (!node->required[index]) ++node->required_count;
      node->required[index] = true;
    }
  }
  return node;
}

bool QuickCheck::Node::passes_object(const Json& v) const {
  // One merge walk over two name-sorted lists: the value's members and the schema's properties.
  std::size_t p = 0;
  std::size_t required_seen = 0;
  for (auto it = v.begin(); it != v.end(); ++it) {
    const std::string& name = it.key();
    while (p < properties.size() && properties[p].first < name) ++p;
    if (p < properties.size() && properties[p].first == name) {
      if (!properties[p].second->passes(it.value())) return false;
      if (required[p]) ++required_seen;
      ++p;
    } else if (closed) {
      return false;
    }
  }
  return required_seen == required_count;
}

bool QuickCheck::Node::passes(const Json& v) const {
  if (types != 0 && !type_matches(types, v)) return false;
  switch (v.type()) {
    case Json::value_t::string: {
      const auto& s = v.get_ref<const std::string&>();
      if (enum_strings &&
          std::find(enum_strings->begin(), enum_strings->end(), s) == enum_strings->end()) {
        return false;
      }
      if (max_length && characters_at_least(s) > *max_length) return false;
      if (min_length && !has_characters(s, *min_length)) return false;
      if (fixed_pattern && !fixed_pattern->matches(s)) return false;
      if (pattern && !std::regex_search(s, *pattern)) return false;
      return true;
    }
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float: {
      if (enum_strings) return false;
      const double d = as_double(v);
      if (minimum && d < *minimum) return false;
      if (maximum && d > *maximum) return false;
      return true;
    }
    case Json::value_t::array: {
      if (enum_strings) return false;
      if (min_items && v.size() < *min_items) return false;
      if (max_items && v.size() > *max_items) return false;
      if (items) {
        for (const Json& item : v) {
          if (!items->passes(item)) return false;
        }
      }
      return true;
    }
    case Json::value_t::object:
      return !enum_strings && passes_object(v);
    case Json::value_t::boolean:
    case Json::value_t::null:
      return !enum_strings;
    default:
      return false;
  }
}

QuickCheck::QuickCheck() = default;
QuickCheck::QuickCheck(const Json& schema) : root_(Node::compile(schema)) {}
QuickCheck::~QuickCheck() = default;
QuickCheck::QuickCheck(QuickCheck&&) noexcept = default;
QuickCheck& QuickCheck::operator=(QuickCheck&&) noexcept = default;

bool QuickCheck::passes(const Json& value) const { return root_ && root_->passes(value); }

}  // namespace cb::mcp
