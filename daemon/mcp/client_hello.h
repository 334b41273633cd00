#pragma once

#include "common/status.h"
#include "daemon/frames.h"
#include "daemon/rpc/jsonrpc.h"

// The identity handshake's daemon side (docs/protocol.md, "Identity"): the shim's first line
// names the client session it serves; what can be checked is checked against /proc.
namespace cb::mcp {

inline constexpr std::string_view kHelloMethod = "notifications/claude-bridge/hello";

// Longest session_id, agent and client accepted (project_dir: PATH_MAX).
inline constexpr std::size_t kMaxHelloField = 256;

// The ClientHello that `params` (of a hello notification) describes, for the connection whose
// SO_PEERCRED is `peer`, or a Status (code bad_hello) whose message says, in one line, what did
// not match. Verified: params.v is 1; the peer process's parent (/proc/<peer.pid>/stat) is the
// claimed client_pid, whose start time is read from /proc; project_dir is an absolute path of an
// existing directory (returned canonical, realpath). An absent client is the client process's
// comm.
Result<ClientHello> verify_hello(const Json& params, const Peer& peer);

}  // namespace cb::mcp
