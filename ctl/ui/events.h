#pragma once

#include <sys/types.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

// The console's fan-out: one `watch` subscription per console process feeds every open page's
// server-sent-events stream. Knows nothing of HTTP: a Stream is a byte queue with two hooks the
// server gives it (park: suspend the connection; unpark: resume it).
namespace cb::ctl::ui {

using Json = nlohmann::json;

// One page's event stream.
class Stream {
 public:
  // A page that reads slower than events come falls this far behind, then is cut off (its
  // EventSource reconnects and re-reads the state): a slow reader costs only its own memory.
  static constexpr std::size_t kMaxPending = std::size_t{1} << 20;

  Stream(std::function<void()> park, std::function<void()> unpark)
      : park_(std::move(park)), unpark_(std::move(unpark)) {}

  // The HTTP side's read: copies up to `max` pending bytes into `buf` and returns how many.
  // With nothing pending it calls park() under the lock (so no unpark() can come before it) and
  // returns 0; -1 when the stream ended (dropped or the console stops).
  ssize_t take(char* buf, std::size_t max);
  // Appends one frame; resumes a parked reader.
  void push(std::string_view frame);
  // Ends the stream; resumes a parked reader so it sees the end.
  void end();
  // The connection is gone: never call the hooks again.
  void detach();

 private:
  std::mutex m_;
  std::string pending_;
  std::size_t offset_ = 0;
  bool parked_ = false;
  bool ended_ = false;
  bool detached_ = false;
  std::function<void()> park_;
  std::function<void()> unpark_;
};

class Hub {
 public:
  // A new stream, which gets every frame published from now on.
  std::shared_ptr<Stream> open(std::function<void()> park, std::function<void()> unpark);
  void close(const Stream* stream);
  // One server-sent event `name` whose data is `data` as one line of JSON.
  void publish(std::string_view name, const Json& data);
  // A comment line: keeps idle streams alive and lets the server notice closed pages.
  void heartbeat();
  // Ends every stream (the console is stopping).
  void end_all();
  std::size_t size();

  // The SSE frame for an event (exposed for the unit tests).
  static std::string frame(std::string_view name, const Json& data);

 private:
  void broadcast(const std::string& frame);

  std::mutex m_;
  std::vector<std::shared_ptr<Stream>> streams_;
};

}  // namespace cb::ctl::ui
