#include "daemon/rpc/jsonrpc.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "daemon/rpc/fast_parse.h"

namespace cb::mcp {

JsonShape json_shape(std::string_view text, int depth_limit, std::size_t members_limit) {
  // Member counts of the open containers, kept for the first kTracked levels (0 for arrays).
  constexpr int kTracked = 128;
  std::array<std::size_t, kTracked> members{};
  std::array<bool, kTracked> is_object{};
  JsonShape shape;
  int depth = 0;
  auto member = [&](int level) {
    if (level <= 0 || level > kTracked || !is_object[static_cast<std::size_t>(level - 1)]) return;
    const std::size_t n = ++members[static_cast<std::size_t>(level - 1)];
    shape.widest_object = std::max(shape.widest_object, n);
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    switch (c) {
      case '"': {
        // Skip the string in one go (memchr to each quote): it ends at the first quote after
        // an even number of backslashes. Most of a frame's bytes are inside strings.
        const std::size_t open = i;
        for (;;) {
          const void* q = std::memchr(text.data() + i + 1, '"', text.size() - i - 1);
          if (q == nullptr) return shape;  // unterminated: the parser will say so
          i = static_cast<std::size_t>(static_cast<const char*>(q) - text.data());
          std::size_t backslashes = 0;
          while (i - backslashes - 1 > open && text[i - backslashes - 1] == '\\') ++backslashes;
          if (backslashes % 2 == 0) break;
        }
        break;
      }
      case '[':
      case '{':
        ++depth;
        if (depth <= kTracked) {
          members[static_cast<std::size_t>(depth - 1)] = 0;
          is_object[static_cast<std::size_t>(depth - 1)] = c == '{';
        }
        if (depth > shape.depth) {
          shape.depth = depth;
          if (shape.depth > depth_limit) {
            shape.depth = depth_limit + 1;
            return shape;
          }
        }
        break;
      case ']':
      case '}':
        if (depth > 0) --depth;
        break;
      case ':':  // one per member, at the member's own object level
        member(depth);
        if (shape.widest_object > members_limit) {
          shape.widest_object = members_limit + 1;
          return shape;
        }
        break;
      default:
        break;
    }
  }
  return shape;
}

int nesting_depth(std::string_view text, int limit) {
  return json_shape(text, limit, static_cast<std::size_t>(-1)).depth;
}

namespace {

bool space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// The request's id when the frame's top-level object names one plainly (a string or an
// integer), for refusals made before parsing; null otherwise.
Json top_level_id(std::string_view text) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  std::size_t start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (!in_string) {
      if (c == '"') {
        in_string = true;
        start = i;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        --depth;
      }
      continue;
    }
    if (escaped) {
      escaped = false;
      continue;
    }
    if (c == '\\') {
      escaped = true;
      continue;
    }
    if (c != '"') continue;
    in_string = false;
    if (depth != 1 || text.substr(start, i + 1 - start) != "\"id\"") continue;
    std::size_t j = i + 1;
    while (j < text.size() && space(text[j])) ++j;
    if (j >= text.size() || text[j] != ':') continue;  // a value "id", not the key
    ++j;
    while (j < text.size() && space(text[j])) ++j;
    std::size_t k = j;
    if (k < text.size() && text[k] == '"') {
      for (bool esc = false; ++k < text.size();) {
        if (esc) {
          esc = false;
        } else if (text[k] == '\\') {
          esc = true;
        } else if (text[k] == '"') {
          ++k;
          break;
        }
      }
    } else {
      while (k < text.size() && text[k] != ',' && text[k] != '}' && !space(text[k])) ++k;
    }
    Json id = Json::parse(text.substr(j, k - j), nullptr, /*allow_exceptions=*/false);
    return !id.is_discarded() && valid_id(id) ? id : Json();
  }
  return Json();
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The UTF-16 code unit of the \uXXXX escape whose backslash is at `i`, or -1.
int escaped_unit(std::string_view text, std::size_t i) {
  if (i + 6 > text.size() || text[i] != '\\' || text[i + 1] != 'u') return -1;
  int unit = 0;
  for (std::size_t k = i + 2; k < i + 6; ++k) {
    const int d = hex_digit(text[k]);
    if (d < 0) return -1;
    unit = unit * 16 + d;
  }
  return unit;
}

}  // namespace

std::optional<std::string> replace_lone_surrogates(std::string_view text) {
  std::string out;
  std::size_t copied = 0;  // text[copied, i) is not yet in out
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\') continue;
    const int unit = escaped_unit(text, i);
    if (unit < 0xD800 || unit > 0xDFFF) {
      ++i;  // skips the escaped character: in "\\ud800" the escape is a backslash
      continue;
    }
    if (unit <= 0xDBFF) {
      const int next = escaped_unit(text, i + 6);
      if (next >= 0xDC00 && next <= 0xDFFF) {  // a proper pair
        i += 11;
        continue;
      }
    }
    out.append(text, copied, i - copied);
    out += "\\ufffd";
    copied = i + 6;
    i += 5;
  }
  if (copied == 0) return std::nullopt;
  out.append(text, copied, text.size() - copied);
  return out;
}

std::variant<Json, RpcError> parse_frame(std::string_view frame, int max_depth) {
  const JsonShape shape = json_shape(frame, max_depth, kMaxObjectMembers);
  if (shape.depth > max_depth) {
    return RpcError{rpc_error::kParse,
                    "Parse error: JSON nested deeper than " + std::to_string(max_depth) +
                        " levels; flatten the message",
                    nullptr, nullptr};
  }
  if (shape.widest_object > kMaxObjectMembers) {
    return RpcError{rpc_error::kInvalidRequest,
                    "Invalid Request: an object in this message has more than " +
                        std::to_string(kMaxObjectMembers) +
                        " members; no method of this server takes that many",
                    top_level_id(frame), nullptr};
  }
  if (auto fast = fast_parse(frame)) return std::move(*fast);
  Json value = Json::parse(frame.begin(), frame.end(), nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) {
    // JavaScript strings may hold a lone surrogate (a string cut in the middle of an emoji), and
    // JSON.stringify writes it as an escape that both parsers refuse. Refusing would answer with
    // id null and leave the client's call hanging, so it becomes U+FFFD, as decoders of UTF-16
    // commonly do. Only frames that failed to parse are scanned.
    if (auto repaired = replace_lone_surrogates(frame)) {
      value = Json::parse(repaired->begin(), repaired->end(), nullptr, false);
      if (!value.is_discarded()) return value;
    }
    return RpcError{rpc_error::kParse,
                    "Parse error: the line is not one valid JSON value (check quoting, "
                    "UTF-8 and that each message is on a single line)",
                    nullptr, nullptr};
  }
  return value;
}

bool valid_id(const Json& id) { return id.is_string() || id.is_number_integer(); }

std::variant<Message, RpcError> classify(Json&& value) {
  if (!value.is_object()) {
    return RpcError{rpc_error::kInvalidRequest,
                    "Invalid Request: a JSON-RPC message must be an object", nullptr, nullptr};
  }
  Json id = nullptr;
  const bool has_id = value.contains("id");
  if (has_id && valid_id(value["id"])) id = value["id"];
  auto invalid = [&](std::string why) {
    return RpcError{rpc_error::kInvalidRequest, "Invalid Request: " + std::move(why), id, nullptr};
  };
  auto jsonrpc = value.find("jsonrpc");
  if (jsonrpc == value.end() || !jsonrpc->is_string() || *jsonrpc != "2.0") {
    return invalid("\"jsonrpc\" must be \"2.0\"");
  }
  if (has_id && !valid_id(value["id"])) {
    return invalid("\"id\" must be a string or an integer (not null, a fraction or a boolean)");
  }
  Message msg;
  auto method = value.find("method");
  if (method != value.end()) {
    if (!method->is_string()) return invalid("\"method\" must be a string");
    msg.method = method->get<std::string>();
    auto params = value.find("params");
    if (params != value.end()) {
      if (!params->is_object() && !params->is_array()) {
        return invalid("\"params\" must be an object");
      }
      msg.params = std::move(*params);
    }
    msg.kind = has_id ? Message::Kind::kRequest : Message::Kind::kNotification;
    msg.id = std::move(id);
    return msg;
  }
  const bool has_result = value.contains("result");
  const bool has_error = value.contains("error");
  if (!has_id) return invalid("a request needs \"method\"; a response needs \"id\"");
  if (has_result == has_error) {
    return invalid("a request needs \"method\"; a response needs exactly one of \"result\" or \"error\"");
  }
  msg.kind = Message::Kind::kResponse;
  msg.id = std::move(id);
  if (has_result) msg.result = std::move(value["result"]);
  if (has_error) msg.error = std::move(value["error"]);
  return msg;
}

std::string dump(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Json response_object(const Json& id, Json result) {
  return Json{{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}};
}

Json error_object(const RpcError& error) {
  Json err{{"code", error.code}, {"message", error.message}};
  if (!error.data.is_null()) err["data"] = error.data;
  return Json{{"jsonrpc", "2.0"}, {"id", error.id}, {"error", std::move(err)}};
}

std::string response_frame(const Json& id, Json result) {
  return dump(response_object(id, std::move(result)));
}

std::string error_frame(const RpcError& error) { return dump(error_object(error)); }

std::string notification_frame(std::string_view method, Json params) {
  Json msg{{"jsonrpc", "2.0"}, {"method", method}};
  if (!params.is_null()) msg["params"] = std::move(params);
  return dump(msg);
}

std::string request_frame(const Json& id, std::string_view method, Json params) {
  Json msg{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}};
  if (!params.is_null()) msg["params"] = std::move(params);
  return dump(msg);
}

}  // namespace cb::mcp
