#include "daemon/mcp/jsonrpc.h"

namespace cb::mcp {

int nesting_depth(std::string_view text, int limit) {
  int depth = 0;
  int deepest = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        break;
      case '[':
      case '{':
        if (++depth > deepest) {
          deepest = depth;
          if (deepest > limit) return limit + 1;
        }
        break;
      case ']':
      case '}':
        if (depth > 0) --depth;
        break;
      default:
        break;
    }
  }
  return deepest;
}

std::variant<Json, RpcError> parse_frame(std::string_view frame, int max_depth) {
  if (nesting_depth(frame, max_depth) > max_depth) {
    return RpcError{rpc_error::kParse,
                    "Parse error: JSON nested deeper than " + std::to_string(max_depth) +
                        " levels; flatten the message",
                    nullptr, nullptr};
  }
  Json value = Json::parse(frame.begin(), frame.end(), nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) {
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
