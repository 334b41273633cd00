#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

// JSON-RPC 2.0 envelope: turning one frame into a classified message, and messages into frames.
// Plain code over strings and JSON; no I/O.
namespace cb::mcp {

using Json = nlohmann::json;

namespace rpc_error {
inline constexpr int kParse = -32700;
inline constexpr int kInvalidRequest = -32600;
inline constexpr int kMethodNotFound = -32601;
inline constexpr int kInvalidParams = -32602;
inline constexpr int kInternal = -32603;
inline constexpr int kUnsupportedVersion = -32022;  // 2026-07-28: protocol version not spoken
}  // namespace rpc_error

struct RpcError {
  int code = rpc_error::kInternal;
  std::string message;
  Json id;  // null when the id could not be read
  Json data;  // omitted from the wire when null
};

struct Message {
  enum class Kind { kRequest, kNotification, kResponse };
  Kind kind = Kind::kRequest;
  Json id;          // requests and responses: a string or an integer, never null
  std::string method;
  Json params;      // object, array or null (absent)
  Json result;      // responses
  Json error;       // responses
};

inline constexpr int kMaxJsonDepth = 64;
// Members of one JSON object in a frame. No request of ours needs more than a few dozen; an
// object of 80,000 keys in a 1 MiB frame would otherwise cost the whole loop ~70 ms of parsing
// (a map insertion each) before anything could refuse it.
inline constexpr std::size_t kMaxObjectMembers = 1024;

// Parses one frame. A lone UTF-16 surrogate escape ("\ud83d" without its pair, which
// JSON.stringify writes for a string cut inside an emoji) is read as U+FFFD. Refuses nesting deeper than max_depth and objects of more than
// kMaxObjectMembers members before handing the text to the parser (nlohmann recurses and
// builds a map), then invalid UTF-8 and trailing garbage. On failure the error is a -32700
// with a null id, or for too many members a -32600 with the request's id when its top level
// names one plainly.
std::variant<Json, RpcError> parse_frame(std::string_view frame, int max_depth = kMaxJsonDepth);

// `text` with every \uXXXX escape of a lone surrogate replaced by \ufffd, or nullopt when it
// has none. Escapes are recognised as a JSON string would read them (after an even number of
// backslashes).
std::optional<std::string> replace_lone_surrogates(std::string_view text);

// The shape of `text` without parsing it, ignoring brackets and commas inside strings:
// deepest bracket nesting, and the most members of one object. Stops once either passes its
// limit (reporting limit + 1).
struct JsonShape {
  int depth = 0;
  std::size_t widest_object = 0;
};
JsonShape json_shape(std::string_view text, int depth_limit, std::size_t members_limit);

// Deepest bracket nesting of `text` (json_shape's depth).
int nesting_depth(std::string_view text, int limit);

// Classifies one parsed element (not a batch array). Invalid envelopes yield -32600 with the
// request's id when that id itself is valid, else a null id.
std::variant<Message, RpcError> classify(Json&& value);

// True for a JSON-RPC id MCP allows: a string or an integer.
bool valid_id(const Json& id);

// Frame builders. Output is one line (no raw newline), invalid UTF-8 replaced.
std::string dump(const Json& value);
std::string response_frame(const Json& id, Json result);
std::string error_frame(const RpcError& error);
std::string notification_frame(std::string_view method, Json params);
std::string request_frame(const Json& id, std::string_view method, Json params);
Json error_object(const RpcError& error);
Json response_object(const Json& id, Json result);

}  // namespace cb::mcp
