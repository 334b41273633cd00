#pragma once

#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "common/ctl_protocol.h"
#include "common/status.h"
#include "daemon/admin/hook_methods.h"
#include "daemon/bridge/bridge.h"
#include "daemon/frames.h"
#include "daemon/store/database.h"

// The methods served on ctl.sock for claude-bridgectl. Reachable only through that socket, so no
// MCP client can call them whatever it sends.
namespace cb::admin {

using Json = nlohmann::json;

// An admin method's expected failure (bad params, an unknown conversation, a refused file…) is
// a Status whose code names one of the ctl protocol's error codes (common/ctl_protocol.h);
// AdminSession answers it as that JSON-RPC error, with the Status's message. Exceptions out of a
// method are bugs or storage faults: AdminSession logs them and answers an internal error.
namespace errors {
inline constexpr const char* kFailed = "failed";                 // ctl_protocol::kFailed
inline constexpr const char* kNotFound = "not_found";            // ctl_protocol::kNotFound
inline constexpr const char* kBadInputFile = "bad_input_file";   // ctl_protocol::kBadInputFile
inline constexpr const char* kInvalidParams = "invalid_params";  // ctl_protocol::kInvalidParams
}  // namespace errors

inline Status failed(std::string message) {
  return Status::error(errors::kFailed, std::move(message));
}
inline Status not_found(std::string message) {
  return Status::error(errors::kNotFound, std::move(message));
}
inline Status bad_input_file(std::string message) {
  return Status::error(errors::kBadInputFile, std::move(message));
}
inline Status invalid_params(std::string message) {
  return Status::error(errors::kInvalidParams, std::move(message));
}

// The ctl protocol's error code for a failed Status: the one its code names, and
// ctl_protocol::kFailed for any other code (a product Status passed on unmapped).
int ctl_error_code(const Status& failure);

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
  // A method answers its result document, or the Status saying why it cannot.
  using Method = std::function<Result<Json>(const AdminCall& call)>;

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
  // `watch`: subscribes this connection to the event stream (of one conversation, if named).
  Result<Json> start_watch(const Json& params);

  AdminApi& api_;
  std::shared_ptr<Outbox> out_;
  Peer peer_;
  HookCalls hooks_;  // the client hooks' calls (issue 24), some answered later
  int watch_id_ = 0;
  bool closed_ = false;
};

// Registers list, show, tokens, audit, audit_verify, cleanup, stats, redact, ping, version.
void register_core_methods(AdminApi& api);

// Helpers for methods reading params; a missing or malformed one is invalid_params, whose
// message names the parameter and the type it needs. An optional one absent or null is
// `fallback`. AdminSession refuses params that are not an object before any method sees them.
Result<std::string> required_string(const Json& params, const char* key);
Result<std::string> optional_string(const Json& params, const char* key);  // fallback ""
Result<bool> optional_bool(const Json& params, const char* key, bool fallback);
Result<std::int64_t> optional_int(const Json& params, const char* key, std::int64_t fallback,
                                  std::int64_t min, std::int64_t max);

}  // namespace cb::admin
