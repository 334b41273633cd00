#pragma once

#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "common/ctl_protocol.h"
#include "daemon/bridge/bridge.h"
#include "daemon/frames.h"
#include "daemon/store/database.h"

// The methods served on ctl.sock for claude-bridgectl. Reachable only through that socket, so no
// MCP client can call them whatever it sends.
namespace cb::admin {

using Json = nlohmann::json;

// A failed admin call: becomes a JSON-RPC error whose message is one line for the operator.
struct AdminError : std::runtime_error {
  AdminError(int code_, const std::string& message) : std::runtime_error(message), code(code_) {}
  int code;
};
inline constexpr int kNotFound = ctl_protocol::kNotFound;
inline constexpr int kFailed = ctl_protocol::kFailed;

// What admin methods may ask of the daemon besides the bridge.
struct DaemonInfo {
  std::function<Json()> runtime_stats;  // connections, uptime, latency ...
  std::function<Json()> paths;          // socket dir, state dir, db, config
  store::Database* database = nullptr;  // the live database (backup, restore, export, import)
};

struct AdminCall {
  const Json& params;
  const Peer& peer;
  // The caller, as audit details: {"uid": …, "pid": …}.
  Json who() const { return Json{{"uid", peer.uid}, {"pid", peer.pid}}; }
};

class AdminApi {
 public:
  using Method = std::function<Json(const AdminCall& call)>;

  AdminApi(bridge::Bridge& bridge, DaemonInfo info);

  void add(const std::string& name, Method method);
  const Method* find(const std::string& name) const;
  bridge::Bridge& bridge() { return bridge_; }
  const DaemonInfo& info() const { return info_; }

 private:
  bridge::Bridge& bridge_;
  DaemonInfo info_;
  std::map<std::string, Method> methods_;
};

// One ctl.sock connection: JSON-RPC requests in, responses out; `watch` turns the connection
// into a live event stream until it closes.
class AdminSession : public FrameHandler, public std::enable_shared_from_this<AdminSession> {
 public:
  AdminSession(AdminApi& api, std::shared_ptr<Outbox> out, Peer peer);
  ~AdminSession() override;
  void handle_frame(std::string_view frame) override;
  void frame_too_long(std::size_t limit) override;
  void closed() override;

 private:
  AdminApi& api_;
  std::shared_ptr<Outbox> out_;
  Peer peer_;
  int watch_id_ = 0;
  bool closed_ = false;
};

// Registers list, show, tokens, audit, audit_verify, cleanup, stats, redact, ping, version.
void register_core_methods(AdminApi& api);

// Helpers for methods reading params.
std::string required_string(const Json& params, const char* key);
std::int64_t optional_int(const Json& params, const char* key, std::int64_t fallback,
                          std::int64_t min, std::int64_t max);

}  // namespace cb::admin
