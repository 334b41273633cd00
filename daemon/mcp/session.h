#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/async.h"
#include "daemon/frames.h"
#include "daemon/rpc/jsonrpc.h"
#include "daemon/mcp/metrics.h"
#include "daemon/mcp/tool.h"
#include "daemon/mcp/tool_registry.h"

namespace cb::mcp {

inline constexpr std::string_view kModernVersion = "2026-07-28";
inline constexpr std::string_view kLatestLegacyVersion = "2025-11-25";
inline constexpr std::string_view kMetaProtocolVersion = "io.modelcontextprotocol/protocolVersion";
inline constexpr std::string_view kMetaClientCapabilities =
    "io.modelcontextprotocol/clientCapabilities";
inline constexpr std::string_view kMetaServerInfo = "io.modelcontextprotocol/serverInfo";

// Legacy-era versions we speak, newest first.
const std::vector<std::string>& legacy_versions();
// Every version we speak, newest first (what server/discover lists).
const std::vector<std::string>& all_versions();
// The version to answer an initialize with: the requested one when we speak it, else our latest.
std::string negotiate_version(std::string_view requested);

struct ServerInfo {
  std::string name = "claude-bridge";
  std::string title = "Claude Bridge";
  std::string version;
  std::string instructions;
  bool channel_push = true;  // declare experimental["claude/channel"]
  Metrics* metrics = nullptr;  // request latencies, when the owner wants them
  // Called once per connection, when its first frame is a hello that passed verification
  // (daemon/mcp/client_hello.h), before any other frame of that connection is handled.
  std::function<void(std::uint64_t connection_id, const ClientHello&)> on_hello;
};


// The MCP protocol state of one connection: era and version, lifecycle, in-flight tool calls,
// requests the server sent to the client. Never sees a socket: frames in, frames out.
class Session : public FrameHandler, public std::enable_shared_from_this<Session> {
 public:
  Session(Executor ex, const ToolRegistry& tools, ServerInfo info, std::shared_ptr<Outbox> out,
          Peer peer);
  ~Session() override;

  // One complete frame from the client.
  void handle_frame(std::string_view frame) override;
  // The client sent a line longer than `limit`: answer with an error and close.
  void frame_too_long(std::size_t limit) override;
  // The connection is gone: cancel every running call, fail every pending client request.
  void closed() override;

  // Sends a notification to the client (push, log messages). No-op once closed.
  void notify(std::string_view method, Json params);
  // Sends notifications/message when `level` is at or above what the client asked for.
  void log_to_client(std::string_view level, Json data);

  const Peer& peer() const { return peer_; }
  // The client session this connection serves, from a verified hello; nullptr when unbound.
  const ClientHello* hello() const { return hello_ ? &*hello_ : nullptr; }
  bool initialized() const { return initialized_; }
  const std::string& version() const { return version_; }
  std::size_t calls_in_flight() const { return in_flight_.size(); }
  bool is_closed() const { return closed_; }

 private:
  struct Call;
  class CallContextImpl;
  struct Batch;
  struct PendingRequest;
  // A reply: a JSON-RPC response object, or one already serialised (tool results:
  // ToolResult::response_frame).
  struct ReplyBody {
    ReplyBody(Json v) : value(std::move(v)) {}  // NOLINT(google-explicit-constructor)
    static ReplyBody serialized(std::string frame) {
      ReplyBody r(nullptr);
      r.frame = std::move(frame);
      return r;
    }
    Json value;
    std::string frame;  // when not empty, the reply as sent
  };
  using Reply = std::function<void(ReplyBody)>;

  // Returns whether `reply` will be called (now or later) for this element. `first`: the
  // element is the connection's whole first frame (where a hello counts).
  bool handle_value(Json value, const Reply& reply, bool first = false);
  void accept_hello(const Json& params);
  void handle_request(Message msg, const Reply& reply);
  void dispatch_request(Message msg, const Reply& reply);
  void handle_notification(const Message& msg);
  void handle_response(const Message& msg);
  Json initialize(const Json& params);
  Json capabilities(bool modern) const;
  Json discover() const;
  void call_tool(Message msg, bool modern, Json client_caps, const Reply& reply);
  void set_log_level(const Message& msg, const Reply& reply);
  awaitable<std::optional<Json>> request_client(std::string method, Json params);
  void send(std::string frame);
  static awaitable<ToolResult> run_tool(const Tool* tool, std::shared_ptr<CallContext> ctx,
                                        Json arguments);
  void notify_cancelled(std::int64_t id);

  Executor ex_;
  const ToolRegistry& tools_;
  ServerInfo info_;
  std::shared_ptr<Outbox> out_;
  Peer peer_;
  bool initialized_ = false;  // an initialize was answered: legacy rules from now on
  bool closed_ = false;
  bool first_frame_ = true;
  std::optional<ClientHello> hello_;
  std::string version_;
  Json client_capabilities_ = Json::object();
  int log_level_ = 8;  // index into kLevels; 8 = nothing sent until setLevel
  std::map<std::string, std::shared_ptr<Call>> in_flight_;  // key: id.dump()
  std::int64_t next_request_id_ = 1;
  std::map<std::int64_t, std::shared_ptr<PendingRequest>> pending_;
};

}  // namespace cb::mcp
