// The operator's methods (daemon/admin/) called directly, on a fresh store (open_test_store:
// SQLite in memory, or PostgreSQL in unit-admin-pg) and no socket: an expected failure is a
// Status whose code names one of the ctl protocol's errors, and AdminSession answers it as that
// JSON-RPC error, message unchanged.
#include <doctest/doctest.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/ctl_protocol.h"
#include "daemon/admin/admin_api.h"
#include "daemon/admin/approval_methods.h"
#include "daemon/admin/extra_methods.h"
#include "tests/unit/temp_dir.h"
#include "tests/unit/test_store.h"

using namespace cb;
using admin::Json;

namespace {

struct Admin {
  std::unique_ptr<store::Database> db = test::open_test_store();
  FakeClock clock;
  std::unique_ptr<bridge::Bridge> bridge;
  std::unique_ptr<admin::AdminApi> api;
  Peer peer{7, 4242, 1000};

  // `with_database`: whether the daemon hands the admin methods its database (backup, export…).
  explicit Admin(bool with_database = true) {
    bridge = std::make_unique<bridge::Bridge>(*db, clock, std::string(32, 'k'), bridge::Settings{},
                                              redact::Redactor::builtin());
    api = std::make_unique<admin::AdminApi>(
        *bridge, admin::DaemonInfo{nullptr, nullptr, with_database ? db.get() : nullptr});
    admin::register_core_methods(*api);
    admin::register_extra_methods(*api);
    admin::register_approval_methods(*api);
  }

  Result<Json> call(const std::string& method, const Json& params) {
    const admin::AdminApi::Method* m = api->find(method);
    REQUIRE(m != nullptr);
    return (*m)(admin::AdminCall{params, peer});
  }

  std::string new_conversation() {
    auto created = bridge->mailbox().create_conversation(bridge::Caller{1, 100, 1000},
                                                         "backend_dev", "frontend_dev");
    REQUIRE(created.ok());
    return created->conversation_id;
  }
};

// The failure's message, after checking it is a failure with the ctl protocol's `code`.
std::string failure(const Result<Json>& r, int code) {
  REQUIRE_FALSE(r.ok());
  CHECK(admin::ctl_error_code(r.status()) == code);
  return r.status().message();
}

// Frames an AdminSession sends, kept for the test.
struct Captured final : Outbox {
  std::vector<std::string> frames;
  void send(std::string frame) override { frames.push_back(std::move(frame)); }
  void close() override {}
};

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  REQUIRE(out.good());
}

}  // namespace

TEST_CASE("bad params are invalid_params, each naming what is wrong") {
  Admin a;
  using ctl_protocol::kInvalidParams;
  CHECK(failure(a.call(ctl_protocol::kShow, Json::object()), kInvalidParams) ==
        "missing parameter conversation_id");
  CHECK(failure(a.call(ctl_protocol::kTokens, Json{{"conversation_id", 5}}), kInvalidParams) ==
        "missing parameter conversation_id");
  CHECK(failure(a.call(ctl_protocol::kRedact, Json::object()), kInvalidParams) ==
        "missing parameter text");
  CHECK(failure(a.call(ctl_protocol::kAudit, Json{{"limit", 0}}), kInvalidParams) ==
        "limit must be between 1 and 100000");
  CHECK(failure(a.call(ctl_protocol::kAudit, Json{{"limit", "ten"}}), kInvalidParams) ==
        "limit must be an integer");
  CHECK(failure(a.call(ctl_protocol::kExport,
                       Json{{"conversation_id", "conv_0000000000000001"}, {"page_bytes", 0}}),
                kInvalidParams) == "page_bytes must be between 1 and 8388608");
  CHECK(failure(a.call(ctl_protocol::kBackup, Json{{"path", "relative/copy.db"}}),
                kInvalidParams) == "path must be absolute: relative/copy.db");
  CHECK(failure(a.call(ctl_protocol::kRestore, Json::object()), kInvalidParams) ==
        "missing parameter path");
  CHECK(failure(a.call(ctl_protocol::kApprovalDecide, Json{{"id", "ap_1"}, {"decision", "yes"}}),
                kInvalidParams) == "decision must be \"approve\" or \"deny\"");
  CHECK(failure(a.call(ctl_protocol::kApprovalDecide,
                       Json{{"id", "ap_1"}, {"decision", "deny"}, {"argv", Json::array({1})}}),
                kInvalidParams) == "argv must be an array of strings");
  // A parameter of the wrong type is named with the type it needs (these threw type_error,
  // answered as an internal error).
  CHECK(failure(a.call(ctl_protocol::kBackup,
                       Json{{"path", "/nonexistent/copy.db"}, {"overwrite", "yes"}}),
                kInvalidParams) == "overwrite must be true or false");
  CHECK(failure(a.call(ctl_protocol::kRestore,
                       Json{{"path", "/nonexistent/copy.db"}, {"check_only", 1}}),
                kInvalidParams) == "check_only must be true or false");
  CHECK(failure(a.call(ctl_protocol::kAudit, Json{{"conversation_id", 5}}), kInvalidParams) ==
        "conversation_id must be a string");
  CHECK(failure(a.call(ctl_protocol::kAudit, Json{{"conversation_id", Json::array()}}),
                kInvalidParams) == "conversation_id must be a string");
  // Absent or null is the default.
  CHECK(a.call(ctl_protocol::kAudit, Json{{"conversation_id", nullptr}}).ok());
  // The Status's own code is the error's name, for callers that test values, not numbers.
  const Result<Json> r = a.call(ctl_protocol::kShow, Json::object());
  CHECK(r.status().code() == admin::errors::kInvalidParams);
}

TEST_CASE("an unknown conversation or approval is not_found; an unused database is failed") {
  Admin a;
  using ctl_protocol::kNotFound;
  const Json unknown{{"conversation_id", "conv_00000000000000ff"}};
  CHECK(failure(a.call(ctl_protocol::kShow, unknown), kNotFound).find("conv_00000000000000ff") !=
        std::string::npos);
  CHECK(failure(a.call(ctl_protocol::kTokens, unknown), kNotFound).find("conv_00000000000000ff") !=
        std::string::npos);
  const std::string exported = failure(a.call(ctl_protocol::kExport, unknown), kNotFound);
  CHECK(exported.find("see: claude-bridgectl list") != std::string::npos);
  failure(a.call(ctl_protocol::kApprovalDecide, Json{{"id", "ap_nothing"}, {"decision", "deny"}}),
          kNotFound);

  Admin bare(false);
  CHECK(failure(bare.call(ctl_protocol::kBackup, Json{{"path", "/nonexistent/copy.db"}}),
                ctl_protocol::kFailed) == "backup is not available in this daemon");
  CHECK(failure(bare.call(ctl_protocol::kIntegrity, Json::object()), ctl_protocol::kFailed) ==
        "integrity is not available in this daemon");
  CHECK(failure(bare.call(ctl_protocol::kImport, Json{{"path", "/nonexistent/doc.json"}}),
                ctl_protocol::kFailed) == "import is not available in this daemon");
}

TEST_CASE("import: an unusable file is bad_input_file, a missing one failed, a clash failed") {
  Admin a;
  TempDir dir("cb-admin");
  const auto doc = dir.path / "doc.json";

  write_file(doc, "{not json");
  CHECK(failure(a.call(ctl_protocol::kImport, Json{{"path", doc.string()}}),
                ctl_protocol::kBadInputFile) == doc.string() + ": not valid JSON");
  write_file(doc, R"({"format": "claude-bridge-conversation", "format_version": 2})");
  CHECK(failure(a.call(ctl_protocol::kImport, Json{{"path", doc.string()}}),
                ctl_protocol::kBadInputFile) ==
        doc.string() + ": format_version 2 is not supported (this daemon reads version 1)");

  // A "format" that is not a string is not an export document (it threw type_error).
  write_file(doc, R"({"format": 5, "format_version": 1})");
  CHECK(failure(a.call(ctl_protocol::kImport, Json{{"path", doc.string()}}),
                ctl_protocol::kBadInputFile) ==
        doc.string() +
            ": not an export document (\"format\" must be \"claude-bridge-conversation\")");

  const auto missing = (dir.path / "missing.json").string();
  CHECK(failure(a.call(ctl_protocol::kImport, Json{{"path", missing}}), ctl_protocol::kFailed)
            .rfind(missing + ": cannot read (as the daemon sees the file system): ", 0) == 0);

  // A page of the export names its field that is wrong once edited.
  const std::string id = a.new_conversation();
  Result<Json> page = a.call(ctl_protocol::kExport, Json{{"conversation_id", id}});
  REQUIRE(page.ok());
  Json edited = *page;
  edited["messages"] = Json::array({Json{{"from", "c"}}});
  write_file(doc, edited.dump());
  CHECK(failure(a.call(ctl_protocol::kImport, Json{{"path", doc.string()}}),
                ctl_protocol::kBadInputFile) ==
        doc.string() + ": messages[0].from must be a, b or system");

  // The same conversation again: the id is taken.
  write_file(doc, page->dump());
  failure(a.call(ctl_protocol::kImport, Json{{"path", doc.string()}}), ctl_protocol::kFailed);
}

TEST_CASE("AdminSession answers a failed Status as the JSON-RPC error, and a result as before") {
  Admin a;
  auto out = std::make_shared<Captured>();
  auto session = std::make_shared<admin::AdminSession>(*a.api, out, a.peer);
  session->handle_frame(R"({"jsonrpc":"2.0","id":1,"method":"show","params":{}})");
  session->handle_frame(
      R"({"jsonrpc":"2.0","id":2,"method":"show","params":{"conversation_id":"conv_00000000000000ff"}})");
  session->handle_frame(R"({"jsonrpc":"2.0","id":3,"method":"ping"})");
  session->handle_frame(R"({"jsonrpc":"2.0","id":4,"method":"nope"})");
  REQUIRE(out->frames.size() == 4);

  CHECK(
      out->frames[0] ==
      R"({"error":{"code":-32602,"message":"missing parameter conversation_id"},"id":1,"jsonrpc":"2.0"})");
  const Json not_found = Json::parse(out->frames[1]);
  CHECK(not_found["error"]["code"] == ctl_protocol::kNotFound);
  CHECK(not_found["id"] == 2);
  CHECK_FALSE(not_found["error"].contains("data"));
  CHECK(out->frames[2] == R"({"id":3,"jsonrpc":"2.0","result":{}})");
  CHECK(Json::parse(out->frames[3])["error"]["code"] == ctl_protocol::kMethodNotFound);
  session->closed();
}

TEST_CASE(
    "AdminSession: params of the wrong shape are -32602 naming the parameter, and the "
    "connection keeps serving") {
  Admin a;
  auto out = std::make_shared<Captured>();
  auto session = std::make_shared<admin::AdminSession>(*a.api, out, a.peer);
  // `watch` threw out of handle_frame here, and the client got no answer at all.
  session->handle_frame(
      R"({"jsonrpc":"2.0","id":1,"method":"watch","params":{"conversation_id":5}})");
  session->handle_frame(R"({"jsonrpc":"2.0","id":2,"method":"audit","params":["conv_1"]})");
  session->handle_frame(R"({"jsonrpc":"2.0","id":3,"method":"watch","params":[]})");
  session->handle_frame(
      R"({"jsonrpc":"2.0","id":4,"method":"backup","params":{"path":"/nonexistent/b.db","overwrite":"no"}})");
  session->handle_frame(R"({"jsonrpc":"2.0","id":5,"method":"ping"})");
  session->handle_frame(R"({"jsonrpc":"2.0","id":6,"method":"watch","params":{}})");
  REQUIRE(out->frames.size() == 6);
  CHECK(
      out->frames[0] ==
      R"({"error":{"code":-32602,"message":"conversation_id must be a string"},"id":1,"jsonrpc":"2.0"})");
  const std::string not_object =
      R"({"error":{"code":-32602,"message":"params must be an object of named parameters"},"id":)";
  CHECK(out->frames[1] == not_object + R"(2,"jsonrpc":"2.0"})");
  CHECK(out->frames[2] == not_object + R"(3,"jsonrpc":"2.0"})");
  CHECK(
      out->frames[3] ==
      R"({"error":{"code":-32602,"message":"overwrite must be true or false"},"id":4,"jsonrpc":"2.0"})");
  CHECK(out->frames[4] == R"({"id":5,"jsonrpc":"2.0","result":{}})");
  CHECK(out->frames[5] == R"({"id":6,"jsonrpc":"2.0","result":{"watching":null}})");
  session->closed();
}

namespace {

// An agent bound to a new connection, as a verified hello binds it.
bridge::Caller bind_agent(Admin& a, std::uint64_t connection, const std::string& name,
                          const std::string& project) {
  bridge::ClientIdentity who;
  who.client_pid = static_cast<pid_t>(2000 + connection);
  who.client_start = 42;
  who.project_dir = project;
  who.agent = name;
  who.client = "claude-code";
  bridge::Caller c;
  c.connection_id = connection;
  c.pid = who.client_pid + 1;
  auto bound = a.bridge->bind_agent(connection, who);
  REQUIRE(bound.ok());
  c.agent = bound->name;
  return c;
}

std::int64_t send(Admin& a, const bridge::Caller& from, std::vector<std::string> to,
                  const std::string& text, std::optional<std::int64_t> reply_to = std::nullopt) {
  auto sent = a.bridge->agent_mail().send_message(
      from, bridge::AgentMail::Recipients{std::move(to), ""}, text, "info", {}, reply_to);
  REQUIRE(sent.ok());
  return sent->message_id;
}

}  // namespace

TEST_CASE("agents, list, show and tokens see named agents and their conversations") {
  Admin a;
  const std::string token_conv = a.new_conversation();
  const auto alice = bind_agent(a, 1, "alice", "/p/one");
  const auto bob = bind_agent(a, 2, "bob", "/p/two");
  const std::int64_t first = send(a, alice, {"bob"}, "first");
  send(a, alice, {"bob"}, "second");
  const std::int64_t answer = send(a, bob, {"alice"}, "answer", first);
  a.bridge->connection_closed(bob.connection_id);

  auto agents = a.call(ctl_protocol::kAgents, Json::object());
  REQUIRE(agents.ok());
  const Json& list = (*agents)["agents"];
  REQUIRE(list.size() == 2);
  CHECK(list[0]["name"] == "alice");
  CHECK(list[0]["project"] == "/p/one");
  CHECK(list[0]["client"] == "claude-code");
  CHECK(list[0]["presence"] == "connected");
  CHECK(list[0]["unread"] == 1);
  CHECK(list[1]["name"] == "bob");
  CHECK(list[1]["presence"] == "offline");
  CHECK(list[1]["unread"] == 2);
  CHECK(list[1]["status"].is_null());
  CHECK(list[1]["last_seen"].is_string());

  auto convs = a.call(ctl_protocol::kList, Json::object());
  REQUIRE(convs.ok());
  Json group;
  for (const Json& c : (*convs)["conversations"]) {
    if (c["conversation_id"] == token_conv) {
      CHECK(c["kind"] == "token");
      CHECK_FALSE(c.contains("members"));
    } else {
      group = c;
    }
  }
  REQUIRE(group.is_object());
  CHECK(group["kind"] == "agents");
  CHECK(group["messages"] == 3);
  CHECK(group["connected"] == Json::array({"alice"}));
  REQUIRE(group["members"].size() == 2);
  CHECK(group["members"][0] ==
        Json{{"agent", "alice"}, {"read_up_to", 0}, {"unread", 1}, {"connected", true}});
  CHECK(group["members"][1]["agent"] == "bob");
  CHECK(group["members"][1]["unread"] == 2);
  CHECK(group["members"][1]["connected"] == false);

  const std::string id = group["conversation_id"];
  auto shown = a.call(ctl_protocol::kShow, Json{{"conversation_id", id}});
  REQUIRE(shown.ok());
  CHECK((*shown)["kind"] == "agents");
  CHECK((*shown)["members"] == group["members"]);
  const Json& messages = (*shown)["messages"];
  REQUIRE(messages.size() == 3);
  CHECK(messages[0]["from"] == "alice");
  CHECK(messages[0]["reply_to"].is_null());
  CHECK(messages[2]["id"] == answer);
  CHECK(messages[2]["from"] == "bob");
  CHECK(messages[2]["reply_to"] == first);

  auto token_show = a.call(ctl_protocol::kShow, Json{{"conversation_id", token_conv}});
  REQUIRE(token_show.ok());
  CHECK((*token_show)["kind"] == "token");
  CHECK_FALSE(token_show->contains("members"));

  CHECK(failure(a.call(ctl_protocol::kTokens, Json{{"conversation_id", id}}), ctl_protocol::kFailed)
            .find("is a conversation of agents; it has no tokens") != std::string::npos);
  CHECK(a.call(ctl_protocol::kTokens, Json{{"conversation_id", token_conv}}).ok());

  auto audit = a.call(ctl_protocol::kAudit, Json{{"limit", 20}});
  REQUIRE(audit.ok());
  bool listed = false;
  for (const Json& e : (*audit)["entries"]) listed = listed || e["action"] == "admin_agents";
  CHECK(listed);
}

TEST_CASE("export and import carry an agents' conversation's members, read positions, reply_to") {
  Admin a;
  TempDir dir("cb-admin");
  const auto alice = bind_agent(a, 1, "alice", "/p/one");
  const auto bob = bind_agent(a, 2, "bob", "/p/two");
  const std::int64_t first = send(a, alice, {"bob"}, "first");
  const std::int64_t second = send(a, alice, {"bob"}, "second");
  REQUIRE(a.bridge->agent_mail().check_inbox(bob, "", std::nullopt, std::nullopt).ok());
  send(a, bob, {"alice"}, "answer", first);

  auto convs = a.call(ctl_protocol::kList, Json::object());
  REQUIRE(convs.ok());
  REQUIRE((*convs)["conversations"].size() == 1);
  const std::string id = (*convs)["conversations"][0]["conversation_id"];
  auto page = a.call(ctl_protocol::kExport, Json{{"conversation_id", id}});
  REQUIRE(page.ok());
  const Json& doc = *page;
  CHECK(doc["conversation"]["kind"] == "agents");
  CHECK(doc["conversation"]["member_key"] == "alice,bob");
  REQUIRE(doc["members"].size() == 2);
  CHECK(doc["members"][1] == Json{{"agent", "bob"},
                                  {"seat", ""},
                                  {"read_up_to", second},
                                  {"joined_ms", a.clock.now_ms()}});
  CHECK(doc["messages"][2]["reply_to"] == first);

  // Imported under another id (the original keeps its own and its members' address).
  Json copy = doc;
  copy.erase("page");
  const std::string other = "conv_00000000000000ab";
  copy["conversation"]["conversation_id"] = other;
  const auto file = dir.path / "agents.json";
  write_file(file, copy.dump());
  REQUIRE(a.call(ctl_protocol::kImport, Json{{"path", file.string()}}).ok());
  auto shown = a.call(ctl_protocol::kShow, Json{{"conversation_id", other}});
  REQUIRE(shown.ok());
  CHECK((*shown)["kind"] == "agents");
  const Json& messages = (*shown)["messages"];
  REQUIRE(messages.size() == 3);
  CHECK(messages[0]["from"] == "alice");
  CHECK(messages[2]["from"] == "bob");
  CHECK(messages[2]["reply_to"] == messages[0]["id"]);
  const Json& members = (*shown)["members"];
  REQUIRE(members.size() == 2);
  CHECK(members[0]["agent"] == "alice");
  CHECK(members[0]["read_up_to"] == 0);
  CHECK(members[0]["unread"] == 1);
  CHECK(members[1]["agent"] == "bob");
  CHECK(members[1]["read_up_to"] == messages[1]["id"]);
  CHECK(members[1]["unread"] == 0);
  auto row = a.db->conversations().find(other);
  REQUIRE(row.has_value());
  CHECK(row->member_key.empty());  // "alice,bob" still names the original

  // A token conversation's document has none of these fields.
  const std::string token_conv = a.new_conversation();
  auto token_doc = a.call(ctl_protocol::kExport, Json{{"conversation_id", token_conv}});
  REQUIRE(token_doc.ok());
  CHECK_FALSE(token_doc->contains("members"));
  CHECK_FALSE((*token_doc)["conversation"].contains("kind"));
  CHECK_FALSE((*token_doc)["conversation"].contains("member_key"));
}
