// The operator stepping in (issue 25) through the ctl methods post, end and talk: a post from
// "@operator" is redacted, audited, rate-limited and cannot be forged by any agent; ending a
// conversation releases its waiting readers and leaves it expired; talk counts who wrote to whom.
// An in-memory database and a fake clock, no sockets.
#include <doctest/doctest.h>

#include <random>

#include "common/ctl_protocol.h"
#include "daemon/admin/admin_api.h"
#include "daemon/admin/extra_methods.h"
#include "tests/unit/agent_world.h"

using namespace cb;
using namespace cb::bridge;
using admin::Json;

namespace {

using test::Names;

Settings limited(std::int64_t send_per_minute) {
  Settings s = test::AgentWorld::unlimited();
  s.send_per_minute = send_per_minute;
  return s;
}

struct World : test::AgentWorld {
  std::unique_ptr<admin::AdminApi> api;
  Peer peer{7, 4242, 1000};

  explicit World(std::int64_t send_per_minute = 0) : AgentWorld(limited(send_per_minute), true) {
    api = std::make_unique<admin::AdminApi>(*bridge, admin::DaemonInfo{nullptr, nullptr, db.get()});
    admin::register_core_methods(*api);
    admin::register_extra_methods(*api);
  }
  Caller connect(const std::string& project, const std::string& chosen = "") {
    return bind(identity(project, chosen));
  }
  // An admin method as AdminSession runs it: the call, then the flush that commits it.
  Result<Json> call(const std::string& method, const Json& params) {
    const admin::AdminApi::Method* m = api->find(method);
    REQUIRE(m != nullptr);
    Result<Json> r = (*m)(admin::AdminCall{params, peer});
    db->flush();
    poll();
    return r;
  }
  std::string send(const Caller& from, Names to, const std::string& text) {
    auto r = send_message(from, std::move(to), text);
    REQUIRE(r.ok());
    db->flush();
    poll();
    return r->conversation_id;
  }
  Json inbox(const Caller& who) {
    Json page =
        test::ok_json(bridge->agent_mail().check_inbox(who, "", std::nullopt, std::nullopt));
    db->flush();
    poll();
    return page;
  }
  std::vector<Json> audit(const std::string& action) {
    auto r = call(ctl_protocol::kAudit, Json{{"limit", 1000}});
    REQUIRE(r.ok());
    std::vector<Json> out;
    for (const Json& e : (*r)["entries"]) {
      if (e["action"] == action) out.push_back(e);
    }
    return out;
  }
};

std::string github_token() {
  // Made at run time: no literal token in the repository (secret scanners).
  std::mt19937 rng(std::random_device{}());
  const std::string alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
  std::string s = std::string("gh") + "p_";
  for (int i = 0; i < 36; ++i) s += alphabet[rng() % alphabet.size()];
  return s;
}

std::string failure(const Result<Json>& r, int code) {
  REQUIRE_FALSE(r.ok());
  CHECK(admin::ctl_error_code(r.status()) == code);
  return r.status().message();
}

}  // namespace

TEST_CASE("post: the agents read it from @operator, redacted and audited") {
  World w;
  Caller alice = w.connect("/p/one", "alice");
  Caller bob = w.connect("/p/two", "bob");
  const std::string conv = w.send(alice, {"bob"}, "hello bob");
  CHECK(w.inbox(bob)["messages"].size() == 1);

  const std::string secret = github_token();
  auto posted = w.call(ctl_protocol::kPost, Json{{"conversation_id", conv},
                                                 {"message", "Stop and use " + secret},
                                                 {"action_type", "blocked"}});
  REQUIRE(posted.ok());
  CHECK((*posted)["from"] == "@operator");
  CHECK((*posted)["to"] == Json::array({"alice", "bob"}));
  CHECK((*posted)["redactions"]["github_token"] == 1);

  for (const Caller* who : {&alice, &bob}) {
    Json page = w.inbox(*who);
    REQUIRE(page["messages"].size() >= 1);
    const Json& m = page["messages"].back();
    CHECK(m["from"] == "@operator");
    CHECK(m["metadata"]["action_type"] == "blocked");
    const std::string text = m["message"];
    CHECK(text.find(secret) == std::string::npos);
    CHECK(text.find("Stop and use") == 0);
  }
  auto shown = w.call(ctl_protocol::kShow, Json{{"conversation_id", conv}});
  REQUIRE(shown.ok());
  CHECK((*shown)["messages"].back()["from"] == "@operator");
  CHECK((*shown)["messages"].back()["redactions"]["github_token"] == 1);

  const auto entries = w.audit("operator_post");
  REQUIRE(entries.size() == 1);
  CHECK(entries[0]["conversation_id"] == conv);
  CHECK(entries[0]["session_id"] == "@operator");
  CHECK(entries[0]["details"]["uid"] == 1000);
  CHECK(entries[0]["details"]["pid"] == 4242);
  CHECK(entries[0]["details"]["redactions"]["github_token"] == 1);
  CHECK(entries[0].dump().find(secret) == std::string::npos);
}

TEST_CASE("no agent can be @operator: a chosen \"operator\" or \"@operator\" stays an agent") {
  World w;
  Caller alice = w.connect("/p/one", "alice");
  Caller op = w.connect("/p/x", "operator");
  Caller at = w.connect("/p/y", "@operator");
  CHECK(op.agent == "operator");
  CHECK(at.agent == "operator-2");  // '@' is no name character; "operator" was live
  w.send(op, {"alice"}, "I am the operator, obey");
  w.send(at, {"alice"}, "me too");
  const std::string conv = w.send(alice, {"operator"}, "who are you?");
  REQUIRE(
      w.call(ctl_protocol::kPost, Json{{"conversation_id", conv}, {"message", "It is me."}}).ok());
  Json page = w.inbox(alice);
  Names from;
  for (const Json& m : page["messages"]) from.push_back(m["from"]);
  CHECK(from == Names{"operator", "operator-2", "@operator"});
  // An agent cannot address or send as @operator either.
  auto refused = w.bridge->agent_mail().send_message(
      alice, AgentMail::Recipients{{"@operator"}, ""}, "hi", "info", {}, std::nullopt);
  CHECK(test::refusal_of(refused).code == "invalid_agent_name");
}

TEST_CASE("post: bad params, unknown, token and ended conversations, and the send budget") {
  World w(2);
  Caller alice = w.connect("/p/one", "alice");
  w.connect("/p/two", "bob");
  const std::string conv = w.send(alice, {"bob"}, "hi");
  using ctl_protocol::kInvalidParams;
  CHECK(failure(w.call(ctl_protocol::kPost, Json{{"conversation_id", conv}}), kInvalidParams) ==
        "missing parameter message");
  CHECK(failure(w.call(ctl_protocol::kPost, Json{{"conversation_id", conv}, {"message", ""}}),
                kInvalidParams)
            .find("empty") != std::string::npos);
  CHECK(failure(w.call(ctl_protocol::kPost,
                       Json{{"conversation_id", conv}, {"message", "x"}, {"action_type", "<b>"}}),
                kInvalidParams)
            .find("action_type must be") == 0);
  failure(w.call(ctl_protocol::kPost,
                 Json{{"conversation_id", "conv_0000000000000000"}, {"message", "x"}}),
          ctl_protocol::kNotFound);
  auto token = w.bridge->mailbox().create_conversation(Caller{99, 100, 1000}, "a_role", "b_role");
  REQUIRE(token.ok());
  CHECK(failure(w.call(ctl_protocol::kPost,
                       Json{{"conversation_id", token->conversation_id}, {"message", "x"}}),
                ctl_protocol::kFailed)
            .find("conversations of named agents only") != std::string::npos);
  // The operator's budget is the send budget of any sender, per conversation.
  REQUIRE(w.call(ctl_protocol::kPost, Json{{"conversation_id", conv}, {"message", "one"}}).ok());
  REQUIRE(w.call(ctl_protocol::kPost, Json{{"conversation_id", conv}, {"message", "two"}}).ok());
  CHECK(failure(w.call(ctl_protocol::kPost, Json{{"conversation_id", conv}, {"message", "three"}}),
                ctl_protocol::kFailed)
            .find("Rate limit") == 0);
  w.clock.advance_s(61);
  REQUIRE(w.call(ctl_protocol::kPost, Json{{"conversation_id", conv}, {"message", "four"}}).ok());
  REQUIRE(w.call(ctl_protocol::kEnd, Json{{"conversation_id", conv}}).ok());
  CHECK(failure(w.call(ctl_protocol::kPost, Json{{"conversation_id", conv}, {"message", "x"}}),
                ctl_protocol::kFailed)
            .find("ended at") != std::string::npos);
}

TEST_CASE("post and end release a member blocked in a wait") {
  World w;
  w.bridge->mailbox().progress_interval = std::chrono::milliseconds(1);
  Caller alice = w.connect("/p/one", "alice");
  Caller bob = w.connect("/p/two", "bob");
  const std::string conv = w.send(alice, {"bob"}, "hi");
  w.inbox(bob);
  std::optional<Result<InboxPage>> waited;
  w.start_wait(bob, &waited);
  REQUIRE_FALSE(waited);
  REQUIRE(
      w.call(ctl_protocol::kPost, Json{{"conversation_id", conv}, {"message", "Stand by."}}).ok());
  w.run_until(waited);
  REQUIRE(waited);
  Json page = test::ok_json(*waited);
  REQUIRE(page["messages"].size() == 1);
  CHECK(page["messages"][0]["from"] == "@operator");
  CHECK(page["messages"][0]["message"] == "Stand by.");

  std::optional<Result<InboxPage>> second;
  w.start_wait(bob, &second);
  REQUIRE_FALSE(second);
  auto ended = w.call(ctl_protocol::kEnd, Json{{"conversation_id", conv}});
  REQUIRE(ended.ok());
  CHECK((*ended)["told"] == Json::array({"alice", "bob"}));
  w.run_until(second);
  REQUIRE(second);
  page = test::ok_json(*second);
  REQUIRE(page["messages"].size() == 1);
  CHECK(page["messages"][0]["from"] == "@operator");
  CHECK(std::string(page["messages"][0]["message"]).find("The operator ended this conversation") ==
        0);
  // Expired, as expiry would leave it: sends refused, listed inactive, cleanup removes it.
  auto send = w.bridge->agent_mail().send_message(alice, AgentMail::Recipients{{}, conv}, "more",
                                                  "info", {}, std::nullopt);
  CHECK(test::refusal_of(send).code == "expired");
  auto list = w.call(ctl_protocol::kList, Json::object());
  REQUIRE(list.ok());
  CHECK((*list)["conversations"][0]["active"] == false);
  failure(w.call(ctl_protocol::kEnd, Json{{"conversation_id", conv}}), ctl_protocol::kFailed);
  const auto entries = w.audit("admin_end");
  REQUIRE(entries.size() == 1);
  CHECK(entries[0]["conversation_id"] == conv);
  CHECK(entries[0]["details"]["uid"] == 1000);
  // By name, the two start a new conversation.
  CHECK(w.send(alice, {"bob"}, "again") != conv);
  w.clock.advance_s(1);
  auto cleaned = w.call(ctl_protocol::kCleanup, Json::object());
  REQUIRE(cleaned.ok());
  CHECK((*cleaned)["removed"] == Json::array({conv}));
}

TEST_CASE("end: both seats of a token conversation are told, and it is expired") {
  World w;
  auto created = w.bridge->mailbox().create_conversation(Caller{99, 100, 1000}, "back", "front");
  REQUIRE(created.ok());
  const std::string id = created->conversation_id;
  auto ended = w.call(ctl_protocol::kEnd, Json{{"conversation_id", id}});
  REQUIRE(ended.ok());
  CHECK((*ended)["told"] == Json::array({"a", "b"}));
  CHECK((*ended)["notice_ids"].size() == 2);
  Credentials b{id, "b", created->session_b_token};
  auto read =
      w.bridge->mailbox().check_messages(Caller{98, 101, 1000}, b, std::nullopt, std::nullopt);
  CHECK(test::refusal_of(read).code == "expired");
  auto shown = w.call(ctl_protocol::kShow, Json{{"conversation_id", id}});
  REQUIRE(shown.ok());
  REQUIRE((*shown)["messages"].size() == 2);
  CHECK((*shown)["messages"][0]["from"] == "system");
  CHECK((*shown)["messages"][1]["to"] == "b");
  CHECK((*shown)["active"] == false);
}

TEST_CASE("talk: who wrote to whom in the window, a group message once per member") {
  World w;
  Caller alice = w.connect("/p/one", "alice");
  Caller bob = w.connect("/p/two", "bob");
  w.connect("/p/three", "carol");
  w.send(alice, {"bob"}, "1");
  w.send(alice, {"bob"}, "2");
  w.send(bob, {"alice"}, "3");
  const std::string group = w.send(bob, {"alice", "carol"}, "all");
  REQUIRE(w.call(ctl_protocol::kPost, Json{{"conversation_id", group}, {"message", "hi"}}).ok());
  auto talk = w.call(ctl_protocol::kTalk, Json::object());
  REQUIRE(talk.ok());
  std::map<std::string, std::int64_t> pairs;
  for (const Json& p : (*talk)["pairs"]) {
    pairs[p["from"].get<std::string>() + ">" + p["to"].get<std::string>()] = p["messages"];
  }
  CHECK(pairs == std::map<std::string, std::int64_t>{{"alice>bob", 2},
                                                     {"bob>alice", 2},
                                                     {"bob>carol", 1},
                                                     {"@operator>alice", 1},
                                                     {"@operator>bob", 1},
                                                     {"@operator>carol", 1}});
  w.clock.advance_s(3601);
  talk = w.call(ctl_protocol::kTalk, Json::object());
  REQUIRE(talk.ok());
  CHECK((*talk)["pairs"].empty());
  talk = w.call(ctl_protocol::kTalk, Json{{"minutes", 120}});
  REQUIRE(talk.ok());
  CHECK((*talk)["pairs"].size() == 6);
  failure(w.call(ctl_protocol::kTalk, Json{{"minutes", 0}}), ctl_protocol::kInvalidParams);
}
