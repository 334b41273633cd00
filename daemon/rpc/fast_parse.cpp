#include "daemon/rpc/fast_parse.h"

#include <simdjson.h>

#include <cmath>
#include <cstdint>
#include <string>

namespace cb::mcp {
namespace {

using Json = nlohmann::json;

// False for a value nlohmann would type differently (a negative zero float).
bool convert(const simdjson::dom::element& e, Json& out) {
  switch (e.type()) {
    case simdjson::dom::element_type::OBJECT: {
      out = Json::object();
      // Inserting in order keeps the last of duplicate keys, as nlohmann's parser does.
      for (const auto field : simdjson::dom::object(e)) {
        if (!convert(field.value, out[std::string(field.key)])) return false;
      }
      return true;
    }
    case simdjson::dom::element_type::ARRAY: {
      out = Json::array();
      for (const auto item : simdjson::dom::array(e)) {
        out.push_back(nullptr);
        if (!convert(item, out.back())) return false;
      }
      return true;
    }
    case simdjson::dom::element_type::STRING:
      out = std::string(std::string_view(e));
      return true;
    case simdjson::dom::element_type::INT64: {
      const std::int64_t v = std::int64_t(e);
      // nlohmann's parser reads a number without a minus sign as unsigned.
      if (v >= 0) {
        out = static_cast<std::uint64_t>(v);
      } else {
        out = v;
      }
      return true;
    }
    case simdjson::dom::element_type::UINT64:
      out = std::uint64_t(e);
      return true;
    case simdjson::dom::element_type::DOUBLE: {
      const double v = double(e);
      if (v == 0.0 && std::signbit(v)) return false;
      out = v;
      return true;
    }
    case simdjson::dom::element_type::BOOL:
      out = bool(e);
      return true;
    case simdjson::dom::element_type::NULL_VALUE:
      out = nullptr;
      return true;
  }
  return false;
}

}  // namespace

std::optional<Json> fast_parse(std::string_view text) {
  if (text.size() > kFastParseMaxBytes) return std::nullopt;
  // One parser per thread, its buffers reused from frame to frame (the daemon has one thread).
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  // Copies the text into the parser's padded buffer (simdjson reads a little past the end).
  if (parser.parse(text.data(), text.size()).get(root) != simdjson::SUCCESS) return std::nullopt;
  Json out;
  if (!convert(root, out)) return std::nullopt;
  return out;
}

}  // namespace cb::mcp
