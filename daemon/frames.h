#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

// The seam between the network (net/) and the protocols served over it (mcp/, admin/): a
// connection delivers whole frames to a FrameHandler and takes frames back through an Outbox.
namespace cb {

// Who is on the other end of a connection (SO_PEERCRED), and the connection's daemon-wide id.
struct Peer {
  std::uint64_t connection_id = 0;
  pid_t pid = -1;
  uid_t uid = static_cast<uid_t>(-1);
};

// What a connection's shim said about the client session it serves (its first line),
// checked against /proc. Connections that sent none (socat, token clients) have none.
struct ClientHello {
  pid_t client_pid = -1;           // the shim's parent, verified
  std::uint64_t client_start = 0;  // its start time (/proc/PID/stat field 22, ticks since boot)
  std::string session_id;          // CLAUDE_CODE_SESSION_ID; empty when the client exports none
  std::string project_dir;         // absolute, canonical
  // The name the person chose; empty when none (validated by the bridge, not here).
  std::string agent;
  // "claude-code", "codex", "gemini-cli", … or the client process's comm; may be empty.
  std::string client;
};

// Where a handler's outgoing frames go. Implemented by the connection and by tests.
class Outbox {
 public:
  virtual ~Outbox() = default;
  // Queues one frame (without newline). Dropped silently once the connection is closing.
  virtual void send(std::string frame) = 0;
  // Flushes what is queued, then closes the connection.
  virtual void close() = 0;
};

class FrameHandler {
 public:
  virtual ~FrameHandler() = default;
  virtual void handle_frame(std::string_view frame) = 0;
  // The peer sent a line longer than `limit`; the connection closes after this.
  virtual void frame_too_long(std::size_t limit) = 0;
  // The connection is gone.
  virtual void closed() = 0;
};

}  // namespace cb
