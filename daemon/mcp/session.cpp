#include "daemon/mcp/session.h"

#include "daemon/mcp/session_internal.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <utility>

#include "common/one_line.h"
#include "daemon/mcp/client_hello.h"

namespace cb::mcp {
namespace {

// RFC 5424 severities as MCP names them, least severe first.
constexpr std::array<std::string_view, 8> kLevels = {
    "debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"};

int level_index(std::string_view level) {
  for (std::size_t i = 0; i < kLevels.size(); ++i) {
    if (kLevels[i] == level) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace

const std::vector<std::string>& legacy_versions() {
  static const std::vector<std::string> v = {"2025-11-25", "2025-06-18", "2025-03-26",
                                             "2024-11-05"};
  return v;
}

const std::vector<std::string>& all_versions() {
  static const std::vector<std::string> v = [] {
    std::vector<std::string> all{std::string(kModernVersion)};
    for (const auto& l : legacy_versions()) all.push_back(l);
    return all;
  }();
  return v;
}

std::string negotiate_version(std::string_view requested) {
  const auto& v = legacy_versions();
  if (std::find(v.begin(), v.end(), requested) != v.end()) return std::string(requested);
  return std::string(kLatestLegacyVersion);
}

// Collects the replies of a JSON-RPC batch (2025-03-26 only) into one array frame.
struct Session::Batch {
  std::weak_ptr<Session> session;
  Json replies = Json::array();
  std::size_t outstanding = 0;
  void add(Json reply) {
    replies.push_back(std::move(reply));
    finish_one();
  }
  void finish_one() {
    if (--outstanding > 0) return;
    auto s = session.lock();
    if (s && !replies.empty()) s->send(dump(replies));
  }
};

Session::Session(Executor ex, const ToolRegistry& tools, ServerInfo info,
                 std::shared_ptr<Outbox> out, Peer peer)
    : ex_(std::move(ex)), tools_(tools), info_(std::move(info)), out_(std::move(out)), peer_(peer) {}

Session::~Session() = default;

void Session::send(std::string frame) {
  if (!closed_) out_->send(std::move(frame));
}

void Session::notify(std::string_view method, Json params) {
  send(notification_frame(method, std::move(params)));
}

void Session::log_to_client(std::string_view level, Json data) {
  const int idx = level_index(level);
  if (idx < 0 || idx < log_level_ || !initialized_) return;
  notify("notifications/message",
         Json{{"level", level}, {"logger", "claude-bridge"}, {"data", std::move(data)}});
}

void Session::frame_too_long(std::size_t limit) {
  send(error_frame(RpcError{rpc_error::kInvalidRequest,
                            "Invalid Request: message longer than " + std::to_string(limit) +
                                " bytes; the connection is closed — send smaller messages",
                            nullptr, nullptr}));
  out_->close();
}

void Session::closed() {
  if (closed_) return;
  closed_ = true;
  auto calls = std::move(in_flight_);
  for (auto& [key, call] : calls) {
    call->cancelled = true;
    call->signal.emit(asio::cancellation_type::terminal);
  }
  auto pending = std::move(pending_);
  for (auto& [id, p] : pending) p->done.notify();
}

void Session::handle_frame(std::string_view frame) {
  const bool first = std::exchange(first_frame_, false);
  auto parsed = parse_frame(frame);
  if (auto* err = std::get_if<RpcError>(&parsed)) {
    send(error_frame(*err));
    return;
  }
  Json value = std::move(std::get<Json>(parsed));
  auto self = shared_from_this();
  if (!value.is_array()) {
    handle_value(
        std::move(value),
        [self](ReplyBody reply) {
          self->send(reply.frame.empty() ? dump(reply.value) : std::move(reply.frame));
        },
        first);
    return;
  }
  if (value.empty()) {
    send(error_frame(RpcError{rpc_error::kInvalidRequest, "Invalid Request: empty batch",
                              nullptr, nullptr}));
    return;
  }
  // Batches existed only in 2025-03-26. Elsewhere each element gets its own error, in one
  // array, so a client can match every id it sent.
  if (version_ != "2025-03-26") {
    const std::string why =
        "Invalid Request: JSON-RPC batches are not supported" +
        (version_.empty() ? std::string(" before initialize")
                          : " in protocol version " + version_) +
        "; send one message per line";
    Json replies = Json::array();
    for (const auto& element : value) {
      Json id = nullptr;
      if (element.is_object() && element.contains("id") && valid_id(element["id"])) {
        id = element["id"];
      }
      replies.push_back(error_object(RpcError{rpc_error::kInvalidRequest, why, id, nullptr}));
    }
    send(dump(replies));
    return;
  }
  auto batch = std::make_shared<Batch>();
  batch->session = self;
  batch->outstanding = 1;  // held until every element is dispatched
  for (auto& element : value) {
    // Requests (and invalid elements) reply exactly once, maybe later; notifications and
    // responses never do.
    ++batch->outstanding;
    // A reply serialised ahead (a tool result) is parsed back into the batch's array: batches
    // are a 2025-03-26 rarity, not worth a second way to assemble frames.
    if (!handle_value(std::move(element), [batch](ReplyBody reply) {
          batch->add(reply.frame.empty() ? std::move(reply.value) : Json::parse(reply.frame));
        })) {
      --batch->outstanding;
    }
  }
  batch->finish_one();
}

bool Session::handle_value(Json value, const Reply& reply, bool first) {
  auto classified = classify(std::move(value));
  if (auto* err = std::get_if<RpcError>(&classified)) {
    reply(error_object(*err));
    return true;
  }
  Message msg = std::move(std::get<Message>(classified));
  switch (msg.kind) {
    case Message::Kind::kRequest:
      handle_request(std::move(msg), reply);
      return true;
    case Message::Kind::kNotification:
      if (first && msg.method == kHelloMethod) {
        accept_hello(msg.params);
      } else {
        handle_notification(msg);
      }
      return false;
    case Message::Kind::kResponse:
      handle_response(msg);
      return false;
  }
  return false;
}

// A hello that fails verification leaves the connection unbound, as if none had come: the
// client is never told (it is a notification), the log says what did not match.
void Session::accept_hello(const Json& params) {
  auto verified = verify_hello(params, peer_);
  if (!verified.ok()) {
    spdlog::warn("connection {} (pid {}): hello not accepted, the connection stays unbound: {}",
                 peer_.connection_id, peer_.pid, verified.status().message());
    return;
  }
  hello_ = std::move(*verified);
  spdlog::debug(
      "connection {} (pid {}): hello verified: client_pid {} ({}), start {}, project_dir {}, "
      "agent {}, session_id {}",
      peer_.connection_id, peer_.pid, hello_->client_pid, one_line(hello_->client),
      hello_->client_start, one_line(hello_->project_dir), one_line(hello_->agent),
      one_line(hello_->session_id));
  if (info_.on_hello) info_.on_hello(peer_.connection_id, *hello_);
}

// claude/channel is declared only in the legacy era: the daemon pushes only to initialized
// connections, and Claude Code drops claude/channel from servers it talks to in the 2026-07-28
// era, so declaring it there would promise a push that never arrives (docs/protocol.md, Push).
Json Session::capabilities(bool modern) const {
  Json caps{{"tools", Json{{"listChanged", false}}}};
  if (!modern) caps["logging"] = Json::object();
  if (info_.channel_push && !modern) {
    caps["experimental"] = Json{{"claude/channel", Json::object()}};
  }
  return caps;
}

Json Session::discover() const {
  Json result{{"resultType", "complete"},
              {"supportedVersions", all_versions()},
              {"capabilities", capabilities(true)},
              {"_meta", Json{{kMetaServerInfo, Json{{"name", info_.name},
                                                    {"title", info_.title},
                                                    {"version", info_.version}}}}},
              {"ttlMs", 3600000},
              {"cacheScope", "public"}};
  if (!info_.instructions.empty()) result["instructions"] = info_.instructions;
  return result;
}

Json Session::initialize(const Json& params) {
  std::string requested;
  if (params.is_object()) {
    if (auto it = params.find("protocolVersion"); it != params.end() && it->is_string()) {
      requested = it->get<std::string>();
    }
    if (auto it = params.find("capabilities"); it != params.end() && it->is_object()) {
      client_capabilities_ = *it;
    }
  }
  version_ = negotiate_version(requested);
  initialized_ = true;
  Json result{{"protocolVersion", version_},
              {"capabilities", capabilities(false)},
              {"serverInfo", Json{{"name", info_.name},
                                  {"title", info_.title},
                                  {"version", info_.version}}}};
  if (!info_.instructions.empty()) result["instructions"] = info_.instructions;
  return result;
}

void Session::handle_request(Message msg, const Reply& reply) {
  if (info_.metrics) {
    // Every request is timed from dispatch to reply; tool calls per tool.
    std::string key = msg.method;
    if (key == "tools/call" && msg.params.is_object() && msg.params.contains("name") &&
        msg.params["name"].is_string()) {
      key = "tools/call:" + msg.params["name"].get<std::string>();
    }
    Metrics* metrics = info_.metrics;
    const auto start = std::chrono::steady_clock::now();
    Reply timed = [metrics, key, start, reply](ReplyBody r) {
      metrics->record(key, std::chrono::steady_clock::now() - start);
      reply(std::move(r));
    };
    dispatch_request(std::move(msg), timed);
    return;
  }
  dispatch_request(std::move(msg), reply);
}

void Session::dispatch_request(Message msg, const Reply& reply) {
  const Json id = msg.id;
  auto fail = [&](int code, std::string message, Json data = nullptr) {
    reply(error_object(RpcError{code, std::move(message), id, std::move(data)}));
  };
  if (!msg.params.is_null() && !msg.params.is_object()) {
    fail(rpc_error::kInvalidParams, "Invalid params: \"params\" must be an object");
    return;
  }
  const Json* meta = meta_of(msg.params);
  if (msg.method == "server/discover") {
    reply(response_object(id, discover()));
    return;
  }
  // A request that names its protocol version in _meta is served statelessly (2026-07-28),
  // unless this connection already chose the legacy era with initialize.
  const bool modern = !initialized_ && meta && meta->contains(kMetaProtocolVersion) &&
                      msg.method != "initialize";
  Json client_caps = client_capabilities_;
  if (modern) {
    const Json& v = (*meta)[std::string(kMetaProtocolVersion)];
    if (!v.is_string() || v.get<std::string>() != kModernVersion) {
      fail(rpc_error::kUnsupportedVersion,
           "Unsupported protocol version: this server speaks " + std::string(kModernVersion) +
               " statelessly, or 2024-11-05..2025-11-25 after initialize",
           Json{{"supported", Json::array({std::string(kModernVersion)})}, {"requested", v}});
      return;
    }
    if (auto it = meta->find(kMetaClientCapabilities); it != meta->end() && it->is_object()) {
      client_caps = *it;
    } else {
      client_caps = Json::object();
    }
    if (msg.method == "ping" || msg.method == "logging/setLevel") {
      fail(rpc_error::kMethodNotFound,
           "Method not found: " + msg.method + " is not part of protocol " +
               std::string(kModernVersion));
      return;
    }
  } else if (msg.method == "initialize") {
    if (initialized_) {
      fail(rpc_error::kInvalidRequest, "Invalid Request: this connection is already initialized");
      return;
    }
    reply(response_object(id, initialize(msg.params)));
    return;
  } else if (msg.method == "ping") {
    reply(response_object(id, Json::object()));
    return;
  } else if (!initialized_) {
    fail(rpc_error::kInvalidRequest,
         "Invalid Request: send initialize first (or name protocol version " +
             std::string(kModernVersion) + " in params._meta)");
    return;
  }

  auto finish = [modern, id, &reply](Json result) {
    if (modern) result["resultType"] = "complete";
    reply(response_object(id, std::move(result)));
  };
  if (msg.method == "tools/list") {
    Json cursor = msg.params.is_object() ? msg.params.value("cursor", Json()) : Json();
    auto page = tools_.list_page(cursor);
    if (!page) {
      fail(rpc_error::kInvalidParams,
           "Invalid params: unknown cursor; call tools/list without a cursor to start over");
      return;
    }
    if (modern) {
      (*page)["ttlMs"] = 3600000;
      (*page)["cacheScope"] = "public";
    }
    finish(std::move(*page));
  } else if (msg.method == "tools/call") {
    call_tool(std::move(msg), modern, std::move(client_caps), reply);
  } else if (msg.method == "logging/setLevel") {
    set_log_level(msg, reply);
  } else {
    fail(rpc_error::kMethodNotFound, "Method not found: " + msg.method);
  }
}

void Session::set_log_level(const Message& msg, const Reply& reply) {
  std::string level;
  if (msg.params.is_object() && msg.params.contains("level") && msg.params["level"].is_string()) {
    level = msg.params["level"].get<std::string>();
  }
  const int idx = level_index(level);
  if (idx < 0) {
    reply(error_object(RpcError{
        rpc_error::kInvalidParams,
        "Invalid params: level must be one of debug, info, notice, warning, error, critical, "
        "alert, emergency",
        msg.id, nullptr}));
    return;
  }
  log_level_ = idx;
  reply(response_object(msg.id, Json::object()));
}

}  // namespace cb::mcp
