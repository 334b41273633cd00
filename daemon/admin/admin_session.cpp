#include <spdlog/spdlog.h>

#include "common/ctl_protocol.h"
#include "daemon/admin/admin_api.h"
#include "daemon/rpc/jsonrpc.h"

namespace cb::admin {

static_assert(ctl_protocol::kInvalidParams == mcp::rpc_error::kInvalidParams);
static_assert(ctl_protocol::kMethodNotFound == mcp::rpc_error::kMethodNotFound);

AdminApi::AdminApi(bridge::Bridge& bridge, DaemonInfo info)
    : bridge_(bridge), info_(std::move(info)) {}

void AdminApi::add(const std::string& name, Method method) { methods_[name] = std::move(method); }

const AdminApi::Method* AdminApi::find(const std::string& name) const {
  auto it = methods_.find(name);
  return it == methods_.end() ? nullptr : &it->second;
}

int ctl_error_code(const Status& failure) {
  const std::string& code = failure.code();
  if (code == errors::kNotFound) return ctl_protocol::kNotFound;
  if (code == errors::kBadInputFile) return ctl_protocol::kBadInputFile;
  if (code == errors::kInvalidParams) return ctl_protocol::kInvalidParams;
  return ctl_protocol::kFailed;
}

Result<std::string> required_string(const Json& params, const char* key) {
  if (!params.is_object() || !params.contains(key) || !params[key].is_string()) {
    return invalid_params(std::string("missing parameter ") + key);
  }
  return params[key].get<std::string>();
}

Result<std::string> optional_string(const Json& params, const char* key) {
  if (!params.is_object() || !params.contains(key) || params[key].is_null()) return std::string();
  if (!params[key].is_string()) return invalid_params(std::string(key) + " must be a string");
  return params[key].get<std::string>();
}

Result<bool> optional_bool(const Json& params, const char* key, bool fallback) {
  if (!params.is_object() || !params.contains(key) || params[key].is_null()) return fallback;
  if (!params[key].is_boolean()) return invalid_params(std::string(key) + " must be true or false");
  return params[key].get<bool>();
}

Result<std::int64_t> optional_int(const Json& params, const char* key, std::int64_t fallback,
                                  std::int64_t min, std::int64_t max) {
  if (!params.is_object() || !params.contains(key) || params[key].is_null()) return fallback;
  if (!params[key].is_number_integer()) {
    return invalid_params(std::string(key) + " must be an integer");
  }
  const auto v = params[key].get<std::int64_t>();
  if (v < min || v > max) {
    return invalid_params(std::string(key) + " must be between " + std::to_string(min) + " and " +
                          std::to_string(max));
  }
  return v;
}

AdminSession::AdminSession(AdminApi& api, std::shared_ptr<Outbox> out, Peer peer)
    : api_(api),
      out_(std::move(out)),
      peer_(peer),
      hooks_(api.bridge(), [this](const Json& id, Result<Json> result) {
        if (closed_) return;
        if (!result) {
          out_->send(mcp::error_frame(mcp::RpcError{ctl_error_code(result.status()),
                                                    result.status().message(), id, nullptr}));
          return;
        }
        out_->send(mcp::response_frame(id, std::move(result).value()));
      }) {}

AdminSession::~AdminSession() {
  if (watch_id_) api_.bridge().events().unsubscribe(watch_id_);
}

void AdminSession::frame_too_long(std::size_t limit) {
  out_->send(mcp::error_frame(
      mcp::RpcError{mcp::rpc_error::kInvalidRequest,
                    "request longer than " + std::to_string(limit) + " bytes", nullptr, nullptr}));
  out_->close();
}

void AdminSession::closed() {
  closed_ = true;
  hooks_.drop();
  if (watch_id_) {
    api_.bridge().events().unsubscribe(watch_id_);
    watch_id_ = 0;
  }
}

void AdminSession::handle_frame(std::string_view frame) {
  auto parsed = mcp::parse_frame(frame);
  if (auto* err = std::get_if<mcp::RpcError>(&parsed)) {
    out_->send(mcp::error_frame(*err));
    return;
  }
  auto classified = mcp::classify(std::move(std::get<mcp::Json>(parsed)));
  if (auto* err = std::get_if<mcp::RpcError>(&classified)) {
    out_->send(mcp::error_frame(*err));
    return;
  }
  auto& msg = std::get<mcp::Message>(classified);
  if (msg.kind != mcp::Message::Kind::kRequest) return;
  auto fail = [&](int code, const std::string& message) {
    out_->send(mcp::error_frame(mcp::RpcError{code, message, msg.id, nullptr}));
  };
  if (HookCalls::is_hook_method(msg.method)) {
    if (!msg.params.is_null() && !msg.params.is_object()) {
      fail(mcp::rpc_error::kInvalidParams, "params must be an object of named parameters");
      return;
    }
    try {
      hooks_.handle(msg.method, msg.id, msg.params.is_null() ? Json::object() : msg.params);
    } catch (const std::exception& e) {
      spdlog::error("admin {} (pid {}) failed: {}", msg.method, peer_.pid, e.what());
      fail(mcp::rpc_error::kInternal, "internal error in " + msg.method + "; see the daemon log");
    }
    return;
  }
  const bool watch = msg.method == ctl_protocol::kWatch;
  const AdminApi::Method* method = watch ? nullptr : api_.find(msg.method);
  if (!watch && !method) {
    fail(mcp::rpc_error::kMethodNotFound, "unknown admin method " + msg.method);
    return;
  }
  // Every admin method takes named parameters; JSON-RPC's by-position array is refused here,
  // so that no method reads an array as if it were an object.
  if (!msg.params.is_null() && !msg.params.is_object()) {
    fail(mcp::rpc_error::kInvalidParams, "params must be an object of named parameters");
    return;
  }
  const Json params = msg.params.is_null() ? Json::object() : msg.params;
  // The one edge where an admin method's exceptions stop: bugs and storage faults
  // (docs/architecture.md, "Errors"). Expected failures come back as a Status.
  try {
    Result<Json> result = watch ? start_watch(params) : (*method)(AdminCall{params, peer_});
    if (!result) {
      fail(ctl_error_code(result.status()), result.status().message());
      return;
    }
    // What the operator changed is committed before the answer says it was done.
    api_.bridge().database().flush();
    out_->send(mcp::response_frame(msg.id, std::move(result).value()));
  } catch (const std::exception& e) {
    spdlog::error("admin {} (pid {}) failed: {}", msg.method, peer_.pid, e.what());
    fail(mcp::rpc_error::kInternal, "internal error in " + msg.method + "; see the daemon log");
  }
}

Result<Json> AdminSession::start_watch(const Json& params) {
  Result<std::string> named = optional_string(params, "conversation_id");
  if (!named) return named.status();
  const std::string conv = std::move(named).value();
  if (watch_id_) api_.bridge().events().unsubscribe(watch_id_);
  std::weak_ptr<AdminSession> weak = shared_from_this();
  watch_id_ = api_.bridge().events().subscribe([weak, conv](const Json& event) {
    auto self = weak.lock();
    if (!self || self->closed_) return;
    if (!conv.empty() && event.value("conversation_id", "") != conv) return;
    self->out_->send(mcp::notification_frame(ctl_protocol::kEvent, event));
  });
  api_.bridge().ops().audit_admin("admin_watch", conv, "ok",
                                  Json{{"uid", peer_.uid}, {"pid", peer_.pid}});
  return Json{{"watching", conv.empty() ? Json(nullptr) : Json(conv)}};
}

}  // namespace cb::admin
