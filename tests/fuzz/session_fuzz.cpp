// libFuzzer target: a whole MCP connection. Each input is a sequence of frames (lines) handed
// to a fresh mcp::Session wired to the real tools, Bridge and an in-memory database (see
// fuzz_world.h for the @CONV@/@TA@/@TB@ placeholders that let inputs authenticate). The event
// loop runs after every frame; at the end the connection closes, as when a client goes away.
//
// Checked on every frame the session sends:
//  - it is one line of valid JSON: an object, or (2025-03-26 batches) an array of objects;
//  - responses have jsonrpc "2.0", a valid or null id and exactly one of result/error; errors
//    carry an integer code and a non-empty message; tool results carry content[0].text;
//  - no library exception text reaches the wire (nlohmann's "[json.exception", SQLite's
//    messages, valijson's internals) unless the client itself sent that text;
//  - no -32603 internal error: every handler failure reachable from client input must be an
//    expected refusal (isError) or a protocol error, never an escaped exception. Set
//    CB_FUZZ_ALLOW_INTERNAL=1 to tolerate them while investigating something else.
// After close: no call remains in flight and nothing stays scheduled on the loop.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <set>
#include <string>
#include <string_view>

#include "daemon/mcp/session.h"
#include "daemon/tools/bridge_tools.h"
#include "tests/fuzz/fuzz_check.h"
#include "daemon/tools/mailbox_render.h"
#include "tests/fuzz/fuzz_world.h"

using namespace cb;
using namespace cb::mcp;

namespace {

bool allow_internal() {
  static const bool allow = [] {
    const char* v = std::getenv("CB_FUZZ_ALLOW_INTERNAL");
    return v && *v == '1';
  }();
  return allow;
}

void check_reply_object(const Json& m) {
  FUZZ_CHECK(m.is_object());
  FUZZ_CHECK(m.value("jsonrpc", "") == "2.0");
  if (m.contains("method")) {  // a notification or a request to the client
    FUZZ_CHECK(m["method"].is_string());
    return;
  }
  FUZZ_CHECK(m.contains("id"));
  FUZZ_CHECK(m["id"].is_null() || m["id"].is_string() || m["id"].is_number_integer());
  FUZZ_CHECK(m.contains("result") != m.contains("error"));
  if (m.contains("error")) {
    const Json& e = m["error"];
    FUZZ_CHECK(e.is_object() && e["code"].is_number_integer());
    FUZZ_CHECK(e["message"].is_string() && !e["message"].get<std::string>().empty());
    if (e["code"].get<int>() == rpc_error::kInternal && !allow_internal()) {
      std::fprintf(stderr, "internal error on the wire: %s\n", m.dump().c_str());
      FUZZ_CHECK(!"a -32603 internal error is reachable from client input");
    }
    return;
  }
  const Json& r = m["result"];
  FUZZ_CHECK(r.is_object());
  if (r.contains("content")) {
    FUZZ_CHECK(r["content"].is_array() && !r["content"].empty());
    FUZZ_CHECK(r["content"][0]["text"].is_string());
    if (!r.value("isError", false)) FUZZ_CHECK(r.contains("structuredContent"));
  }
}

constexpr const char* kLibraryText[] = {"[json.exception", "SQLite", "sqlite3", "valijson",
                                       "basic_string", "std::", "what()"};

struct CheckingOutbox final : Outbox {
  // Library words some client of this world has sent: a message stored by an earlier input
  // legitimately comes back in a later input's check_messages.
  explicit CheckingOutbox(const std::set<std::string>& sent) : client_words(sent) {}
  const std::set<std::string>& client_words;
  bool closed = false;
  std::size_t frames = 0;
  void send(std::string frame) override {
    FUZZ_CHECK(!closed);
    ++frames;
    FUZZ_CHECK(frame.find('\n') == std::string::npos);
    for (const char* leak : kLibraryText) {
      if (frame.find(leak) != std::string::npos && !client_words.count(leak)) {
        std::fprintf(stderr, "library text on the wire: %s\n", frame.c_str());
        FUZZ_CHECK(!"library text on the wire");
      }
    }
    const Json j = Json::parse(frame, nullptr, false);
    FUZZ_CHECK(!j.is_discarded());
    if (j.is_array()) {
      for (const auto& element : j) check_reply_object(element);
    } else {
      check_reply_object(j);
    }
  }
  void close() override { closed = true; }
};

struct Notifier final : bridge::Notifier {
  std::weak_ptr<Session> session;
  void mail_waiting(std::uint64_t, const bridge::MailNotice& notice) override {
    if (auto s = session.lock(); s && s->initialized()) {
      tools::Push push = tools::render_push(notice);
      s->notify(push.method, std::move(push.params));
    }
  }
};

struct Harness {
  asio::io_context io;
  std::unique_ptr<fuzz::World> world;
  Notifier notifier;
  Metrics metrics;
  std::uint64_t next_connection = 100;
  std::size_t runs = 0;
  std::set<std::string> client_words;  // see CheckingOutbox

  void renew() {
    client_words.clear();
    world = std::make_unique<fuzz::World>();
    world->bridge->set_notifier(&notifier);
    metrics = Metrics{};
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Harness h;
  // A fresh database now and then keeps memory flat over millions of runs.
  if (h.runs++ % 20000 == 0) h.renew();
  fuzz::World& w = *h.world;

  const std::string input = w.expand(std::string(reinterpret_cast<const char*>(data), size));
  for (const char* word : kLibraryText) {
    if (input.find(word) != std::string::npos) h.client_words.insert(word);
  }
  auto out = std::make_shared<CheckingOutbox>(h.client_words);
  ServerInfo info;
  info.version = "0.0.0-fuzz";
  info.instructions = tools::server_instructions();
  info.metrics = &h.metrics;
  Peer peer{h.next_connection++, 4242, 1000};
  auto session = std::make_shared<Session>(h.io.get_executor(), w.tools, info, out, peer);
  h.notifier.session = session;

  std::size_t start = 0;
  while (start < input.size() && !out->closed) {
    std::size_t nl = input.find('\n', start);
    if (nl == std::string::npos) nl = input.size();
    const std::string_view frame(input.data() + start, nl - start);
    start = nl + 1;
    if (frame.empty()) continue;
    session->handle_frame(frame);
    h.io.poll();
    h.io.restart();
  }
  session->closed();
  w.bridge->connection_closed(peer.connection_id);
  h.io.poll();
  h.io.restart();
  FUZZ_CHECK(session->calls_in_flight() == 0);
  FUZZ_CHECK(w.bridge->presence().waiters() == 0);
  // Nothing may stay scheduled once the connection is gone (a leaked timer or coroutine).
  FUZZ_CHECK(h.io.poll() == 0);
  h.io.restart();
  return 0;
}
