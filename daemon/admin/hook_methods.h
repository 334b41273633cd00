#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "common/status.h"
#include "daemon/bridge/bridge.h"

// The ctl.sock methods of the client hooks (issue 24; common/ctl_protocol.h kHook*): one per
// ctl connection, since two of them may be answered later — hook_wait when mail arrives, and
// a call with bind_wait when the session's shim binds its agent. A call answered later is
// dropped when its connection closes; the hook process bounds how long it waits.
namespace cb::admin {

class HookCalls {
 public:
  using Json = nlohmann::json;
  // Sends the answer (result or failure) of request `id`.
  using Answer = std::function<void(const Json& id, Result<Json> result)>;

  HookCalls(bridge::Bridge& bridge, Answer answer) : bridge_(bridge), answer_(std::move(answer)) {}
  HookCalls(const HookCalls&) = delete;
  HookCalls& operator=(const HookCalls&) = delete;
  ~HookCalls() { drop(); }

  static bool is_hook_method(const std::string& method);
  // Handles one hook request: answered now, or later through Answer. A newer request of the
  // connection drops one still pending.
  void handle(const std::string& method, const Json& id, const Json& params);
  // The connection closed: a pending call is dropped.
  void drop();

 private:
  bridge::Bridge& bridge_;
  Answer answer_;
  std::unique_ptr<bridge::HookNotices::Wait> wait_;
  int binding_watch_ = 0;  // events subscription while a call waits for its agent to bind
};

}  // namespace cb::admin
