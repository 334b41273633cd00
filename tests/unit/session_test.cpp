#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "daemon/mcp/session.h"
#include "temp_dir.h"

using namespace cb;
using namespace cb::mcp;

namespace {

struct FakeOutbox : Outbox {
  std::vector<Json> frames;
  bool closed = false;
  void send(std::string frame) override { frames.push_back(Json::parse(frame)); }
  void close() override { closed = true; }
};

struct Fixture {
  asio::io_context io;
  ToolRegistry tools;
  std::shared_ptr<FakeOutbox> out = std::make_shared<FakeOutbox>();
  std::shared_ptr<Session> session;
  bool slow_saw_cancel = false;

  Fixture() {
    tools.add(Tool{"echo", "Echo", "echo back",
                   Json{{"type", "object"},
                        {"properties", {{"message", {{"type", "string"}, {"maxLength", 5}}}}},
                        {"required", {"message"}},
                        {"additionalProperties", false}},
                   Json{{"type", "object"},
                        {"properties", {{"message", {{"type", "string"}}}}},
                        {"required", {"message"}}},
                   {},
                   [](Json args, CallContext&) -> awaitable<ToolResult> {
                     Json result;  // (no brace-init temporaries in coroutines: GCC 12 bug)
                     result["message"] = args["message"];
                     co_return ToolResult::ok(result);
                   }});
    tools.add(Tool{"slow", "Slow", "waits until cancelled, reporting progress",
                   Json{{"type", "object"}}, nullptr, {},
                   [this](Json, CallContext& ctx) -> awaitable<ToolResult> {
                     ctx.progress("started");
                     asio::steady_timer t(co_await asio::this_coro::executor,
                                          std::chrono::hours(1));
                     std::error_code ec;
                     co_await t.async_wait(asio::redirect_error(use_awaitable, ec));
                     slow_saw_cancel = ctx.cancelled();
                     co_return ToolResult::ok(Json::object());
                   }});
    tools.add(Tool{"boom", "Boom", "throws", Json{{"type", "object"}}, nullptr, {},
                   [](Json, CallContext&) -> awaitable<ToolResult> {
                     throw std::runtime_error("library detail that must not leak");
                     co_return ToolResult::ok(Json::object());
                   }});
    session = std::make_shared<Session>(io.get_executor(), tools, ServerInfo{}, out, Peer{});
  }

  Json call(const Json& msg) {
    out->frames.clear();
    session->handle_frame(msg.dump());
    io.poll();
    io.restart();
    REQUIRE(!out->frames.empty());
    return out->frames.back();
  }
  Json init(const char* version = "2025-11-25") {
    return call({{"jsonrpc", "2.0"}, {"id", 0}, {"method", "initialize"},
                 {"params", {{"protocolVersion", version}, {"capabilities", Json::object()},
                             {"clientInfo", {{"name", "t"}, {"version", "1"}}}}}});
  }
  Json tool(const Json& id, const char* name, Json args, Json meta = nullptr) {
    Json params{{"name", name}, {"arguments", std::move(args)}};
    if (!meta.is_null()) params["_meta"] = meta;
    return call({{"jsonrpc", "2.0"}, {"id", id}, {"method", "tools/call"}, {"params", params}});
  }
};

}  // namespace

TEST_CASE("initialize negotiates every supported version and falls back to the latest") {
  const std::pair<const char*, const char*> rows[] = {
      {"2025-11-25", "2025-11-25"}, {"2025-06-18", "2025-06-18"}, {"2025-03-26", "2025-03-26"},
      {"2024-11-05", "2024-11-05"}, {"1999-01-01", "2025-11-25"}, {"2026-07-28", "2025-11-25"}};
  for (auto [asked, expected] : rows) {
    Fixture f;
    Json r = f.init(asked);
    CHECK(r["id"] == 0);
    CHECK(r["result"]["protocolVersion"] == expected);
    CHECK(r["result"]["capabilities"].contains("tools"));
    CHECK(r["result"]["capabilities"].contains("logging"));
  }
}

TEST_CASE("lifecycle: ping any time, nothing else before initialize, no second initialize") {
  Fixture f;
  CHECK(f.call({{"jsonrpc", "2.0"}, {"id", "p"}, {"method", "ping"}})["result"] == Json::object());
  CHECK(f.call({{"jsonrpc", "2.0"}, {"id", 1}, {"method", "tools/list"}})["error"]["code"] ==
        rpc_error::kInvalidRequest);
  f.init();
  CHECK(f.call({{"jsonrpc", "2.0"}, {"id", 2}, {"method", "tools/list"}})["result"]["tools"].size() == 3);
  CHECK(f.init()["error"]["code"] == rpc_error::kInvalidRequest);
  // Notifications never get replies.
  f.out->frames.clear();
  f.session->handle_frame(R"({"jsonrpc":"2.0","method":"notifications/initialized"})");
  f.session->handle_frame(R"({"jsonrpc":"2.0","method":"no/such/notification"})");
  f.io.poll();
  CHECK(f.out->frames.empty());
}

TEST_CASE("server/discover and the stateless 2026-07-28 era") {
  Fixture f;
  const Json meta = {{"io.modelcontextprotocol/protocolVersion", "2026-07-28"},
                     {"io.modelcontextprotocol/clientCapabilities", Json::object()}};
  Json d = f.call({{"jsonrpc", "2.0"}, {"id", "server-discover-probe-1"},
                   {"method", "server/discover"}, {"params", {{"_meta", meta}}}});
  CHECK(d["id"] == "server-discover-probe-1");
  CHECK(d["result"]["resultType"] == "complete");
  CHECK(d["result"]["supportedVersions"][0] == "2026-07-28");
  CHECK(d["result"].contains("ttlMs"));
  CHECK(d["result"]["cacheScope"] == "public");
  CHECK_FALSE(d["result"]["capabilities"].contains("logging"));
  // No claude/channel in this era: the daemon never pushes to a connection it serves here.
  CHECK_FALSE(d["result"]["capabilities"].contains("experimental"));
  Json list = f.call({{"jsonrpc", "2.0"}, {"id", 1}, {"method", "tools/list"},
                      {"params", {{"_meta", meta}}}});
  CHECK(list["result"]["resultType"] == "complete");
  Json r = f.tool(2, "echo", {{"message", "hi"}}, meta);
  CHECK(r["result"]["resultType"] == "complete");
  CHECK(r["result"]["structuredContent"]["message"] == "hi");
  Json bad = f.call({{"jsonrpc", "2.0"}, {"id", 3}, {"method", "tools/list"},
                     {"params", {{"_meta", {{"io.modelcontextprotocol/protocolVersion", "2030-01-01"}}}}}});
  CHECK(bad["error"]["code"] == rpc_error::kUnsupportedVersion);
  CHECK(bad["error"]["data"]["requested"] == "2030-01-01");
  CHECK(bad["error"]["data"]["supported"][0] == "2026-07-28");
  CHECK(f.call({{"jsonrpc", "2.0"}, {"id", 4}, {"method", "ping"}, {"params", {{"_meta", meta}}}})
            ["error"]["code"] == rpc_error::kMethodNotFound);
  // After initialize the connection follows legacy rules, even with _meta present, and the
  // legacy era declares claude/channel (pushes reach initialized connections).
  CHECK(f.init()["result"]["capabilities"]["experimental"].contains("claude/channel"));
  Json legacy = f.call({{"jsonrpc", "2.0"}, {"id", 5}, {"method", "tools/list"},
                        {"params", {{"_meta", meta}}}});
  CHECK_FALSE(legacy["result"].contains("resultType"));
}

TEST_CASE("tools/call: validation failures are isError results naming the field") {
  Fixture f;
  f.init();
  Json r = f.tool(1, "echo", {{"message", "too long"}});
  CHECK(r["result"]["isError"] == true);
  const std::string text = r["result"]["content"][0]["text"];
  CHECK(text.find("message") != std::string::npos);
  CHECK_FALSE(r["result"].contains("structuredContent"));
  r = f.tool(2, "echo", {{"message", "ok"}, {"extra", 1}});
  CHECK(r["result"]["isError"] == true);
  CHECK(std::string(r["result"]["content"][0]["text"]).find("extra") != std::string::npos);
  r = f.tool(3, "echo", {{"message", "ok"}});
  CHECK(r["result"]["isError"] == false);
  CHECK(r["result"]["structuredContent"]["message"] == "ok");
  CHECK(Json::parse(std::string(r["result"]["content"][0]["text"])) == r["result"]["structuredContent"]);
  CHECK(f.tool(4, "nope", Json::object())["error"]["code"] == rpc_error::kInvalidParams);
  CHECK(f.call({{"jsonrpc", "2.0"}, {"id", 5}, {"method", "tools/call"}, {"params", Json::object()}})
            ["error"]["code"] == rpc_error::kInvalidParams);
  CHECK(f.call({{"jsonrpc", "2.0"}, {"id", 6}, {"method", "tools/list"}, {"params", {{"cursor", "x"}}}})
            ["error"]["code"] == rpc_error::kInvalidParams);
}

TEST_CASE("an exception in a tool is -32603 without the library's text") {
  Fixture f;
  f.init();
  Json r = f.tool(9, "boom", Json::object());
  CHECK(r["error"]["code"] == rpc_error::kInternal);
  CHECK(std::string(r["error"]["message"]).find("library detail") == std::string::npos);
  CHECK(f.call({{"jsonrpc", "2.0"}, {"id", 10}, {"method", "ping"}})["result"] == Json::object());
}

TEST_CASE("progress while running; cancellation ends the call with no response") {
  Fixture f;
  f.init();
  f.out->frames.clear();
  f.session->handle_frame(Json{{"jsonrpc", "2.0"}, {"id", 7}, {"method", "tools/call"},
                               {"params", {{"name", "slow"}, {"arguments", Json::object()},
                                           {"_meta", {{"progressToken", "tok"}}}}}}
                              .dump());
  f.io.poll();
  f.io.restart();
  REQUIRE(f.out->frames.size() == 1);
  CHECK(f.out->frames[0]["method"] == "notifications/progress");
  CHECK(f.out->frames[0]["params"]["progressToken"] == "tok");
  CHECK(f.session->calls_in_flight() == 1);
  f.session->handle_frame(R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":7}})");
  f.io.poll();
  f.io.restart();
  CHECK(f.slow_saw_cancel);
  CHECK(f.out->frames.size() == 1);  // no response to a cancelled request
  CHECK(f.session->calls_in_flight() == 0);
  // A cancel of an unknown or finished id is tolerated.
  f.session->handle_frame(R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":7}})");
  CHECK(f.call({{"jsonrpc", "2.0"}, {"id", 8}, {"method", "ping"}})["result"] == Json::object());
}

TEST_CASE("closing the connection cancels running calls") {
  Fixture f;
  f.init();
  f.session->handle_frame(Json{{"jsonrpc", "2.0"}, {"id", 1}, {"method", "tools/call"},
                               {"params", {{"name", "slow"}, {"arguments", Json::object()}}}}
                              .dump());
  f.io.poll();
  f.io.restart();
  f.out->frames.clear();
  f.session->closed();
  f.io.poll();
  CHECK(f.slow_saw_cancel);
  CHECK(f.out->frames.empty());
}

TEST_CASE("logging/setLevel accepts RFC 5424 names only") {
  Fixture f;
  f.init();
  for (const char* level : {"debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"}) {
    CHECK(f.call({{"jsonrpc", "2.0"}, {"id", 1}, {"method", "logging/setLevel"},
                  {"params", {{"level", level}}}})["result"] == Json::object());
  }
  CHECK(f.call({{"jsonrpc", "2.0"}, {"id", 2}, {"method", "logging/setLevel"},
                {"params", {{"level", "loud"}}}})["error"]["code"] == rpc_error::kInvalidParams);
}

TEST_CASE("batches: served in 2025-03-26, refused element by element elsewhere") {
  Fixture f;
  f.init("2025-03-26");
  f.out->frames.clear();
  f.session->handle_frame(R"([{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"notifications/x"},{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"message":"b"}}}])");
  f.io.poll();
  REQUIRE(f.out->frames.size() == 1);
  REQUIRE(f.out->frames[0].is_array());
  REQUIRE(f.out->frames[0].size() == 2);
  // The tool result, serialised ahead as a frame of its own, is an element like the others.
  const Json& batch = f.out->frames[0];
  const Json& tool = batch[0]["id"] == 2 ? batch[0] : batch[1];
  CHECK(tool["id"] == 2);
  CHECK(tool["result"]["structuredContent"]["message"] == "b");
  CHECK(Json::parse(tool["result"]["content"][0]["text"].get<std::string>()) ==
        tool["result"]["structuredContent"]);
  CHECK(tool["result"]["isError"] == false);
  Fixture g;
  g.init();
  Json r = g.call(Json::parse(R"([{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":"z","method":"ping"}])"));
  REQUIRE(r.is_array());
  CHECK(r[0]["error"]["code"] == rpc_error::kInvalidRequest);
  CHECK(r[1]["id"] == "z");
}

TEST_CASE("server-to-client requests: elicitation-style round trip") {
  Fixture f;
  f.tools.add(Tool{"ask", "Ask", "asks the client", Json{{"type", "object"}}, nullptr, {},
                   [](Json, CallContext& ctx) -> awaitable<ToolResult> {
                     Json params;  // (GCC 12 miscompiles brace-init of a string literal in a coroutine)
                     params["message"] = std::string("ok?");
                     auto reply = co_await ctx.request_client("elicitation/create", params);
                     Json result;
                     result["answer"] = reply ? *reply : Json(nullptr);
                     co_return ToolResult::ok(result);
                   }});
  f.init();
  f.out->frames.clear();
  f.session->handle_frame(R"({"jsonrpc":"2.0","id":"c1","method":"tools/call","params":{"name":"ask","arguments":{}}})");
  f.io.poll();
  f.io.restart();
  REQUIRE(f.out->frames.size() == 1);
  const Json req = f.out->frames[0];
  CHECK(req["method"] == "elicitation/create");
  f.session->handle_frame(Json{{"jsonrpc", "2.0"}, {"id", req["id"]}, {"result", {{"action", "accept"}}}}.dump());
  f.io.poll();
  CHECK(f.out->frames.back()["result"]["structuredContent"]["answer"]["action"] == "accept");
}

TEST_CASE("metrics: every request is timed, tool calls per tool, memory bounded") {
  Metrics metrics;
  asio::io_context io;
  ToolRegistry tools;
  tools.add(Tool{"noop", "Noop", "nothing", Json{{"type", "object"}}, nullptr, {},
                 [](Json, CallContext&) -> awaitable<ToolResult> { co_return ToolResult::ok(Json::object()); }});
  auto out = std::make_shared<FakeOutbox>();
  ServerInfo info;
  info.metrics = &metrics;
  auto s = std::make_shared<Session>(io.get_executor(), tools, info, out, Peer{});
  s->handle_frame(R"({"jsonrpc":"2.0","id":1,"method":"ping"})");
  s->handle_frame(R"({"jsonrpc":"2.0","id":2,"method":"initialize","params":{"protocolVersion":"2025-11-25"}})");
  for (int i = 0; i < 5000; ++i) {
    s->handle_frame(R"({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"noop","arguments":{}}})");
    io.poll();
    io.restart();
  }
  const Json summary = metrics.summary();
  CHECK(summary["ping"]["count"] == 1);
  CHECK(summary["tools/call:noop"]["count"] == 5000);
  CHECK(summary["tools/call:noop"]["p99_us"] >= summary["tools/call:noop"]["p50_us"]);

  // Invented method names share one series past the cap: clients cannot grow the daemon.
  for (int i = 0; i < 1000; ++i) {
    s->handle_frame(R"({"jsonrpc":"2.0","id":4,"method":"x/)" + std::to_string(i) + R"("})");
  }
  const Json after = metrics.summary();
  CHECK(after.size() == Metrics::kMaxKeys + 1);
  CHECK(after[Metrics::kOtherKey]["count"].get<int>() > 900);
  CHECK(after["tools/call:noop"]["count"] == 5000);
}

TEST_CASE("validation names every problem, root-level ones included, in one reply") {
  Fixture f;
  f.init();
  Json r = f.tool(1, "echo", {{"message", "far too long"}, {"limt", 5}});
  const std::string text = r["result"]["content"][0]["text"];
  CHECK(text.find("message:") != std::string::npos);
  CHECK(text.find("limt") != std::string::npos);
  CHECK(text.find("..") == std::string::npos);
  CHECK(text.find("Failed to validate against schema associated") == std::string::npos);
  r = f.tool(2, "echo", Json::object());
  CHECK(std::string(r["result"]["content"][0]["text"]).find("message") != std::string::npos);
}

TEST_CASE("an argument object with far more keys than the schema names is refused in one line") {
  Fixture f;
  f.init();
  Json args = {{"message", "hi"}};
  for (int i = 0; i < 500; ++i) args["k" + std::to_string(i)] = i;  // under kMaxObjectMembers
  Json r = f.tool(1, "echo", args);
  CHECK(r["result"]["isError"] == true);
  const std::string text = r["result"]["content"][0]["text"];
  CHECK(text.find("501 properties, but echo takes at most") != std::string::npos);
  CHECK(text.find("unknown: \"k0\"") != std::string::npos);
  CHECK(text.find(", …") != std::string::npos);
  CHECK(text.size() < 400);
}

TEST_CASE("an unlisted tool is absent from tools/list and its pages, and still callable") {
  Fixture f;
  f.init();
  auto names = [&f] {
    const Json listed = f.call({{"jsonrpc", "2.0"}, {"id", 7}, {"method", "tools/list"}});
    std::vector<std::string> out;
    for (const auto& t : listed["result"]["tools"]) out.push_back(t["name"].get<std::string>());
    return out;
  };
  CHECK(names() == std::vector<std::string>{"echo", "slow", "boom"});
  f.tools.set_listed("slow", false);
  CHECK(names() == std::vector<std::string>{"echo", "boom"});
  CHECK(f.tools.find("slow") != nullptr);
  Json echoed = f.tool(8, "echo", Json{{"message", "hi"}});
  CHECK(echoed["result"]["structuredContent"]["message"] == "hi");
  f.tools.set_listed("slow", true);
  CHECK(names() == std::vector<std::string>{"echo", "slow", "boom"});

  // Pages count listed tools only: 60 listed of 61 make one full page and a page of ten.
  ToolRegistry many;
  for (int i = 0; i < 61; ++i) {
    many.add(Tool{"t" + std::to_string(i), "", "", Json{{"type", "object"}}, nullptr, {},
                  [](Json, CallContext&) -> awaitable<ToolResult> {
                    co_return ToolResult::ok(Json::object());
                  }});
  }
  many.set_listed("t0", false);
  const Json first = *many.list_page(nullptr);
  REQUIRE(first["tools"].size() == ToolRegistry::kPageSize);
  CHECK(first["tools"][0]["name"] == "t1");
  const Json second = *many.list_page(first["nextCursor"]);
  CHECK(second["tools"].size() == 10);
  CHECK_FALSE(second.contains("nextCursor"));
}

// The identity handshake (daemon/mcp/client_hello.h): the test process plays the shim (the
// connection's peer pid), its parent the client.
namespace {

struct HelloFixture {
  asio::io_context io;
  ToolRegistry tools;
  std::shared_ptr<FakeOutbox> out = std::make_shared<FakeOutbox>();
  std::shared_ptr<Session> session;
  std::vector<std::pair<std::uint64_t, ClientHello>> hooked;
  TempDir project{"cb-hello"};

  explicit HelloFixture(pid_t peer_pid = ::getpid()) {
    tools.add(Tool{"whoami", "Who am I", "the connection's hello as the tool sees it",
                   Json{{"type", "object"}}, nullptr, {},
                   [](Json, CallContext& ctx) -> awaitable<ToolResult> {
                     Json result = Json::object();
                     if (const ClientHello* h = ctx.hello()) {
                       result["agent"] = h->agent;
                       result["client_pid"] = h->client_pid;
                     }
                     co_return ToolResult::ok(result);
                   }});
    ServerInfo info;
    info.on_hello = [this](std::uint64_t id, const ClientHello& h) { hooked.emplace_back(id, h); };
    session = std::make_shared<Session>(io.get_executor(), tools, info, out,
                                        Peer{7, peer_pid, ::getuid()});
  }

  void frame(const Json& msg) {
    session->handle_frame(msg.dump());
    io.poll();
    io.restart();
  }
  Json hello(std::int64_t client_pid, Json extra = Json::object()) {
    Json params{{"v", 1}, {"client_pid", client_pid},
                {"project_dir", project.path.string() + "/./"}};
    params.update(extra);
    return Json{{"jsonrpc", "2.0"}, {"method", "notifications/claude-bridge/hello"},
                {"params", params}};
  }
  void init() {
    frame({{"jsonrpc", "2.0"}, {"id", 0}, {"method", "initialize"},
           {"params", {{"protocolVersion", "2025-11-25"}, {"capabilities", Json::object()}}}});
  }
  Json whoami() {
    out->frames.clear();
    frame({{"jsonrpc", "2.0"}, {"id", 9}, {"method", "tools/call"},
           {"params", {{"name", "whoami"}, {"arguments", Json::object()}}}});
    REQUIRE(!out->frames.empty());
    return out->frames.back()["result"]["structuredContent"];
  }
};

}  // namespace

TEST_CASE("hello as the first frame: verified, exposed to tools, on_hello called once") {
  HelloFixture f;
  f.frame(f.hello(::getppid(), {{"session_id", "s-1"}, {"agent", "frontend"},
                                {"client", "claude-code"}}));
  CHECK(f.out->frames.empty());  // a notification: never a reply
  const ClientHello* h = f.session->hello();
  REQUIRE(h != nullptr);
  CHECK(h->client_pid == ::getppid());
  CHECK(h->client_start > 0);
  CHECK(h->session_id == "s-1");
  CHECK(h->agent == "frontend");
  CHECK(h->client == "claude-code");
  CHECK(h->project_dir == std::filesystem::canonical(f.project.path).string());
  REQUIRE(f.hooked.size() == 1);
  CHECK(f.hooked[0].first == 7);
  CHECK(f.hooked[0].second.agent == "frontend");
  f.init();
  CHECK(f.whoami() == Json{{"agent", "frontend"}, {"client_pid", ::getppid()}});
  // A second hello changes nothing.
  f.frame(f.hello(::getppid(), {{"agent", "other"}}));
  CHECK(f.session->hello()->agent == "frontend");
  CHECK(f.hooked.size() == 1);
}

TEST_CASE("hello without a client: the client process's comm") {
  HelloFixture f;
  f.frame(f.hello(::getppid()));
  REQUIRE(f.session->hello() != nullptr);
  std::ifstream comm("/proc/" + std::to_string(::getppid()) + "/comm");
  std::string expected;
  std::getline(comm, expected);
  CHECK(f.session->hello()->client == expected);
  CHECK(f.session->hello()->agent.empty());
  CHECK(f.session->hello()->session_id.empty());
}

TEST_CASE("a hello after another frame is ignored: the connection stays unbound") {
  HelloFixture f;
  f.init();
  f.out->frames.clear();
  f.frame(f.hello(::getppid(), {{"agent", "late"}}));
  CHECK(f.out->frames.empty());
  CHECK(f.session->hello() == nullptr);
  CHECK(f.hooked.empty());
  CHECK(f.whoami() == Json::object());
}

TEST_CASE("a hello that does not check out leaves the connection unbound, without a reply") {
  const std::string missing = "/nonexistent-cb-hello-dir";
  const std::vector<std::pair<const char*, Json>> rows = {
      {"forged client_pid (not the peer's parent)", Json{{"client_pid", ::getpid()}}},
      {"client_pid 1", Json{{"client_pid", 1}}},
      {"client_pid not a number", Json{{"client_pid", "x"}}},
      {"relative project_dir", Json{{"project_dir", "relative/dir"}}},
      {"missing project_dir", Json{{"project_dir", missing}}},
      {"project_dir a file", Json{{"project_dir", "/proc/self/stat"}}},
      {"no project_dir", Json{{"project_dir", nullptr}}},
      {"another version", Json{{"v", 2}}},
      {"agent not a string", Json{{"agent", 5}}},
      {"session_id too long", Json{{"session_id", std::string(300, 'x')}}},
  };
  for (const auto& [what, change] : rows) {
    CAPTURE(what);
    HelloFixture f;
    Json msg = f.hello(::getppid());
    msg["params"].update(change);
    f.frame(msg);
    CHECK(f.out->frames.empty());
    CHECK(f.session->hello() == nullptr);
    CHECK(f.hooked.empty());
    f.init();
    CHECK(f.whoami() == Json::object());
  }
  // The peer's parent is what counts: a peer that is not the client's child is refused.
  HelloFixture stranger(/*peer_pid=*/1);
  stranger.frame(stranger.hello(::getppid()));
  CHECK(stranger.session->hello() == nullptr);
  // A hello inside a batch is not a first frame of its own.
  HelloFixture batched;
  batched.frame(Json::array({batched.hello(::getppid())}));
  CHECK(batched.session->hello() == nullptr);
}

TEST_CASE("no hello: unbound, and everything as before") {
  HelloFixture f;
  f.init();
  CHECK(f.out->frames.back()["result"]["protocolVersion"] == "2025-11-25");
  CHECK(f.session->hello() == nullptr);
  CHECK(f.hooked.empty());
  CHECK(f.whoami() == Json::object());
}
