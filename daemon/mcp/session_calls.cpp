// Session's tools/call handling (each call's context, cancellation and result) and its
// requests to the client (request_client and the responses that answer them).
#include "daemon/mcp/session.h"

#include "daemon/mcp/session_internal.h"
#include "daemon/mcp/client_hello.h"

#include <spdlog/spdlog.h>

namespace cb::mcp {

class Session::CallContextImpl : public CallContext {
 public:
  CallContextImpl(std::shared_ptr<Session> session, std::shared_ptr<Call> call,
                  Json progress_token, Json client_caps)
      : session_(std::move(session)),
        call_(std::move(call)),
        progress_token_(std::move(progress_token)),
        client_caps_(std::move(client_caps)) {}

  const Peer& peer() const override { return session_->peer_; }
  bool has_progress_token() const override { return !progress_token_.is_null(); }
  const ClientHello* hello() const override { return session_->hello(); }
  void progress(std::string message) override {
    if (progress_token_.is_null() || call_->cancelled) return;
    ++progress_;
    session_->notify("notifications/progress", Json{{"progressToken", progress_token_},
                                                     {"progress", progress_},
                                                     {"message", std::move(message)}});
  }
  const Json& client_capabilities() const override { return client_caps_; }
  awaitable<std::optional<Json>> request_client(std::string method, Json params) override {
    return session_->request_client(std::move(method), std::move(params));
  }
  asio::cancellation_slot cancellation_slot() override { return call_->signal.slot(); }
  bool cancelled() const override { return call_->cancelled; }

 private:
  std::shared_ptr<Session> session_;
  std::shared_ptr<Call> call_;
  Json progress_token_;
  Json client_caps_;
  std::int64_t progress_ = 0;
};

void Session::call_tool(Message msg, bool modern, Json client_caps, const Reply& reply) {
  const Json id = msg.id;
  auto fail = [&](std::string message) {
    reply(error_object(RpcError{rpc_error::kInvalidParams, std::move(message), id, nullptr}));
  };
  const Json& params = msg.params;
  if (!params.is_object() || !params.contains("name") || !params["name"].is_string()) {
    fail("Invalid params: tools/call needs \"name\" (a string)");
    return;
  }
  const std::string name = params["name"].get<std::string>();
  const Tool* tool = tools_.find(name);
  if (!tool) {
    fail("Unknown tool: " + name + "; call tools/list for the tools this server offers");
    return;
  }
  Json arguments = params.value("arguments", Json::object());
  if (arguments.is_null()) arguments = Json::object();
  if (!arguments.is_object()) {
    fail("Invalid params: \"arguments\" must be an object");
    return;
  }
  const std::string key = dump(id);
  if (in_flight_.count(key)) {
    reply(error_object(RpcError{rpc_error::kInvalidRequest,
                                "Invalid Request: id " + key + " is already in use by a running call",
                                id, nullptr}));
    return;
  }
  if (auto problems = tools_.validate(*tool, arguments); !problems.empty()) {
    std::string text = "Invalid arguments for " + name + ": ";
    for (std::size_t i = 0; i < problems.size(); ++i) text += (i ? "; " : "") + problems[i];
    text += ". Fix these and call " + name + " again.";
    reply(ReplyBody::serialized(ToolResult::error(std::move(text)).response_frame(id, modern)));
    return;
  }
  Json progress_token;
  if (const Json* meta = meta_of(params)) {
    if (auto it = meta->find("progressToken"); it != meta->end() && valid_id(*it)) {
      progress_token = *it;
    }
  }
  auto call = std::make_shared<Call>();
  in_flight_[key] = call;
  auto self = shared_from_this();
  auto ctx = std::make_shared<CallContextImpl>(self, call, std::move(progress_token),
                                               std::move(client_caps));
  // The call's signal reaches whatever the handler is waiting on (cancel, disconnect).
  asio::co_spawn(
      ex_, run_tool(tool, ctx, std::move(arguments)),
      asio::bind_cancellation_slot(call->signal.slot(), [self, call, key, id, name, reply, modern](
                                                            std::exception_ptr error,
                                                            ToolResult result) {
        if (auto it = self->in_flight_.find(key); it != self->in_flight_.end() && it->second == call) {
          self->in_flight_.erase(it);
        }
        if (call->cancelled || self->closed_) return;  // cancelled requests get no response
        if (error) {
          try {
            std::rethrow_exception(error);
          } catch (const std::exception& e) {
            spdlog::error("tool {} (request {}) failed: {}", name, dump(id), e.what());
          } catch (...) {
            spdlog::error("tool {} (request {}) failed with a non-standard exception", name,
                          dump(id));
          }
          reply(error_object(RpcError{rpc_error::kInternal,
                                      "Internal error while running " + name +
                                          "; the daemon logged the details under request id " +
                                          dump(id),
                                      id, nullptr}));
          return;
        }
        reply(ReplyBody::serialized(result.response_frame(id, modern)));
      }));
}

// A coroutine's state must live in its parameters: a lambda's captures die with the lambda
// object, long before the coroutine finishes.
awaitable<ToolResult> Session::run_tool(const Tool* tool, std::shared_ptr<CallContext> ctx,
                                        Json arguments) {
  co_return co_await tool->handler(std::move(arguments), *ctx);
}

void Session::handle_notification(const Message& msg) {
  if (msg.method == kHelloMethod) {
    spdlog::debug("connection {}: a hello that is not the connection's first frame is ignored",
                  peer_.connection_id);
    return;
  }
  if (msg.method == "notifications/cancelled") {
    if (!msg.params.is_object()) return;
    auto it = msg.params.find("requestId");
    if (it == msg.params.end() || !valid_id(*it)) return;
    auto call = in_flight_.find(dump(*it));
    if (call == in_flight_.end()) return;  // unknown or finished: tolerated
    auto c = call->second;
    in_flight_.erase(call);
    c->cancelled = true;
    c->signal.emit(asio::cancellation_type::terminal);
  }
  // notifications/initialized and anything else: nothing to do, never a reply.
}

void Session::handle_response(const Message& msg) {
  if (!msg.id.is_number_integer()) return;
  auto it = pending_.find(msg.id.get<std::int64_t>());
  if (it == pending_.end()) return;
  auto p = it->second;
  pending_.erase(it);
  p->answered = true;
  if (msg.error.is_null()) p->result = msg.result;
  p->done.notify();
}

// Kept out of the coroutine below: GCC 12 miscompiles brace-initialised temporaries inside
// coroutine bodies, so coroutines in this code base build JSON through plain functions.
void Session::notify_cancelled(std::int64_t id) {
  notify("notifications/cancelled", Json{{"requestId", id}, {"reason", "request cancelled"}});
}

awaitable<std::optional<Json>> Session::request_client(std::string method, Json params) {
  if (closed_) co_return std::nullopt;
  const std::int64_t id = next_request_id_++;
  auto p = std::make_shared<PendingRequest>(ex_);
  pending_[id] = p;
  send(request_frame(id, method, std::move(params)));
  auto self = shared_from_this();
  // A cancelled call cancels this wait too (the call's cancellation slot reaches it).
  co_await p->done.wait();
  if (!p->answered) {
    pending_.erase(id);
    // Tell the client we no longer need the answer.
    if (!closed_) notify_cancelled(id);
    co_return std::nullopt;
  }
  co_return p->result;
}

}  // namespace cb::mcp
