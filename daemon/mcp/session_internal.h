// Internal to daemon/mcp/session*.cpp: the pieces of Session that session.cpp (the
// lifecycle and dispatch) and session_calls.cpp (tools/call and server-to-client
// requests) share. Not part of the session's API.
#pragma once

#include "daemon/mcp/session.h"

#include <optional>

namespace cb::mcp {

inline const Json* meta_of(const Json& params) {
  if (!params.is_object()) return nullptr;
  auto it = params.find("_meta");
  return (it != params.end() && it->is_object()) ? &*it : nullptr;
}

// A running tools/call.
struct Session::Call {
  asio::cancellation_signal signal;
  bool cancelled = false;
};

// A request this server sent to the client, waiting for the client's response.
struct Session::PendingRequest {
  explicit PendingRequest(const Executor& ex) : done(ex) {}
  Event done;
  bool answered = false;
  std::optional<Json> result;
};

}  // namespace cb::mcp
