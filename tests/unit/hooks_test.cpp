// The client hooks of issue 24 on the Bridge itself: finding a hook's agent by its ancestor
// processes (Agents::lookup), the "announced up to" mark and the notice (HookNotices), and the
// hook's wait — woken by new mail, replaced by a newer wait, never by mail already handed out —
// and the ctl methods over them (HookCalls). An in-memory database and a fake clock.
#include <doctest/doctest.h>

#include "common/ctl_protocol.h"
#include "daemon/admin/hook_methods.h"
#include "tests/unit/agent_world.h"

using namespace cb;
using namespace cb::bridge;

namespace {

using test::keep_page;
using test::Names;
using Outcome = HookNotices::Outcome;

struct World : test::AgentWorld {
  explicit World(Settings s = Settings{}, bool group_commit = false)
      : AgentWorld(unlimited(s), group_commit) {}
  Caller connect(const std::string& name, pid_t pid, std::uint64_t start = 42,
                 const std::string& session = "") {
    return bind(identity("/p/team", name, pid, start, session));
  }
  void send(const Caller& from, Names to, const std::string& text,
            const std::string& action = "info") {
    REQUIRE(send_message(from, std::move(to), text, action).ok());
    poll();
  }
  Names read(const Caller& who) {
    return bodies(
        test::ok_json(bridge->agent_mail().check_inbox(who, "", std::nullopt, std::nullopt)));
  }
  std::string lookup(std::vector<Agents::Process> ancestors, const std::string& session = "") {
    return bridge->agents().lookup(ancestors, session);
  }
  HookNotices& hooks() { return bridge->hooks(); }
};

// A hook wait as the ctl method keeps it: what it was answered, if anything.
struct Waiting {
  std::optional<Outcome> outcome;
  std::string notice;
  std::unique_ptr<HookNotices::Wait> wait;
  std::string at_once;  // the notice when mail was there already

  Waiting(HookNotices& hooks, const std::string& agent) {
    auto w = hooks.wait(agent, [this](Outcome o, const std::string& n) {
      outcome = o;
      notice = n;
    });
    if (auto* n = std::get_if<std::string>(&w)) {
      at_once = *n;
    } else {
      wait = std::move(std::get<std::unique_ptr<HookNotices::Wait>>(w));
    }
  }
};

}  // namespace

TEST_CASE("lookup: the nearest ancestor that is a live agent's client, with its start time") {
  World w;
  Caller front = w.connect("frontend", 5000, 77);
  Caller back = w.connect("backend", 6000, 88);
  // The hook's parent is a shell (no agent's), its grandparent the client.
  CHECK(w.lookup({{4999, 1}, {5000, 77}, {1200, 3}}) == "frontend");
  CHECK(w.lookup({{6001, 9}, {6000, 88}, {5000, 77}}) == "backend");  // nearest first
  // The same pid started at another time is another process (a reused pid).
  CHECK(w.lookup({{5000, 78}}).empty());
  CHECK(w.lookup({}).empty());
  // Offline: no longer found.
  w.bridge->connection_closed(back.connection_id);
  CHECK(w.lookup({{6000, 88}}).empty());
  CHECK(w.lookup({{5000, 77}}) == front.agent);
}

TEST_CASE("lookup: one client process with two agents needs the session id; never a guess") {
  World w;
  w.connect("one", 7000, 1, "sess-1");
  w.connect("two", 7000, 1, "sess-2");
  CHECK(w.lookup({{7000, 1}}).empty());
  CHECK(w.lookup({{7000, 1}}, "sess-2") == "two");
  CHECK(w.lookup({{7000, 1}}, "sess-9").empty());
  // The nearest client decides: an ambiguous one is not skipped for a farther one.
  w.connect("far", 100, 1, "");
  CHECK(w.lookup({{7000, 1}, {100, 1}}).empty());
  // No ancestor is a client: the session id alone, when exactly one live agent has it.
  CHECK(w.lookup({{1234, 5}}, "sess-1") == "one");
  w.connect("again", 8000, 1, "sess-1");
  CHECK(w.lookup({{1234, 5}}, "sess-1").empty());
}

TEST_CASE("lookup: a reconnect of the same client moves the agent, and the index with it") {
  World w;
  Caller first = w.connect("solo", 9000, 5, "s");
  Caller second = w.connect("solo", 9000, 5, "s");
  CHECK(second.agent == "solo");
  CHECK(w.lookup({{9000, 5}}) == "solo");
  w.bridge->connection_closed(first.connection_id);  // the old connection: nothing changes
  CHECK(w.lookup({{9000, 5}}) == "solo");
  w.bridge->connection_closed(second.connection_id);
  CHECK(w.lookup({{9000, 5}}, "s").empty());
}

TEST_CASE("tell: one notice per message, nothing when quiet, nothing marked read") {
  World w;
  Caller back = w.connect("backend", 100);
  Caller bill = w.connect("billing", 200);
  Caller front = w.connect("frontend", 300);
  CHECK_FALSE(w.hooks().tell("frontend"));

  w.send(back, {"frontend"}, "Which fields do you need on the invoice?", "question");
  auto notice = w.hooks().tell("frontend");
  REQUIRE(notice);
  CHECK(*notice ==
        "claude-bridge: 1 new message from backend (question): 'Which fields do you need on the "
        "invoice?' — read it with check_messages");
  CHECK_FALSE(w.hooks().tell("frontend"));  // told once

  w.send(back, {"frontend"}, "one");
  w.send(bill, {"frontend"}, "two\n\n  lines\tand tabs");
  notice = w.hooks().tell("frontend");
  REQUIRE(notice);
  CHECK(*notice ==
        "claude-bridge: 2 new messages (1 from backend, 1 from billing), the latest from "
        "billing: 'two lines and tabs' — read them with check_messages");
  w.send(back, {"frontend"}, std::string(100, 'x'));
  w.send(back, {"frontend"}, "last");
  notice = w.hooks().tell("frontend");
  REQUIRE(notice);
  CHECK(*notice ==
        "claude-bridge: 2 new messages from backend, the latest: 'last' — read them with "
        "check_messages");

  // Every message is still unread: the notices pointed at them, nothing more.
  CHECK(w.read(front) == Names{"Which fields do you need on the invoice?", "one",
                               "two\n\n  lines\tand tabs", std::string(100, 'x'), "last"});
  CHECK(w.read(front).empty());
  CHECK_FALSE(w.hooks().tell("frontend"));
  // Each agent has its own mark.
  w.send(front, {"backend", "billing"}, "to both");
  CHECK(w.hooks().tell("backend"));
  CHECK(w.hooks().tell("billing"));
  CHECK_FALSE(w.hooks().tell("backend"));
}

TEST_CASE("a restored database's ids are not the marks': everything unread is told again") {
  World w;
  Caller back = w.connect("backend", 100);
  w.connect("frontend", 300);
  w.send(back, {"frontend"}, "before the restore");
  CHECK(w.hooks().tell("frontend"));
  CHECK(w.hooks().mark("frontend") > 0);
  w.bridge->reload_after_restore();
  CHECK(w.hooks().mark("frontend") == 0);
  CHECK(w.hooks().tell("frontend"));
}

TEST_CASE("notice_line: a long body is cut with an ellipsis on a code point") {
  NewMail m;
  m.count = 1;
  m.senders = {{"a", 1}};
  m.latest_from = "a";
  m.latest_action = "info";
  m.latest_body = "short";
  CHECK(notice_line(m) ==
        "claude-bridge: 1 new message from a: 'short' — read it with "
        "check_messages");
  World w;
  Caller a = w.connect("alpha", 10);
  w.connect("beta", 20);
  std::string body;
  for (int i = 0; i < 100; ++i) body += "é";
  w.send(a, {"beta"}, body);
  auto notice = w.hooks().tell("beta");
  REQUIRE(notice);
  std::string cut;
  for (int i = 0; i < HookNotices::kSnippetChars; ++i) cut += "é";
  CHECK(*notice ==
        "claude-bridge: 1 new message from alpha: '" + cut + "…' — read it with check_messages");
}

TEST_CASE("session start names the agent, who is online and its unread mail, and announces it") {
  World w;
  Caller back = w.connect("backend", 100);
  w.connect("frontend", 300);
  Caller gone = w.connect("gone", 400);
  w.bridge->connection_closed(gone.connection_id);
  w.send(back, {"frontend"}, "hello");
  w.send(back, {"frontend"}, "again");
  const std::string text = w.hooks().session_start("frontend");
  CHECK(text.find("you are agent \"frontend\" (project /p/team)") != std::string::npos);
  CHECK(text.find("Online now: backend.") != std::string::npos);
  CHECK(text.find("gone") == std::string::npos);
  CHECK(text.find("You have 2 unread messages (2 from backend)") != std::string::npos);
  CHECK_FALSE(w.hooks().tell("frontend"));  // counted at the start: not told again
  w.send(back, {"frontend"}, "third");
  CHECK(w.hooks().tell("frontend"));
}

TEST_CASE("wait: answered at once with mail there, else on new mail; the answer announces it") {
  World w;
  Caller back = w.connect("backend", 100);
  w.connect("frontend", 300);
  w.send(back, {"frontend"}, "already here");
  {
    Waiting first(w.hooks(), "frontend");
    CHECK_FALSE(first.wait);
    CHECK(first.at_once.find("'already here'") != std::string::npos);
  }
  Waiting waiting(w.hooks(), "frontend");
  REQUIRE(waiting.wait);
  CHECK(w.hooks().waits() == 1);
  CHECK_FALSE(waiting.outcome);
  w.send(back, {"frontend"}, "wake up", "question");
  REQUIRE(waiting.outcome);
  CHECK(*waiting.outcome == Outcome::kMail);
  CHECK(waiting.notice ==
        "claude-bridge: 1 new message from backend (question): 'wake up' — read it with "
        "check_messages");
  CHECK(w.hooks().waits() == 0);
  CHECK_FALSE(w.hooks().tell("frontend"));  // the wake was the notice
  // A hook wait is no blocked wait_for_messages.
  Waiting again(w.hooks(), "frontend");
  REQUIRE(again.wait);
  CHECK_FALSE(w.bridge->presence().waiting(inbox_key("frontend")));
  CHECK(w.bridge->presence().waiters() == 0);
}

TEST_CASE("wait: a newer wait of the agent replaces the older; a dropped wait is gone") {
  World w;
  Caller back = w.connect("backend", 100);
  w.connect("frontend", 300);
  Waiting older(w.hooks(), "frontend");
  Waiting newer(w.hooks(), "frontend");
  REQUIRE(older.outcome);
  CHECK(*older.outcome == Outcome::kReplaced);
  CHECK_FALSE(newer.outcome);
  CHECK(w.hooks().waits() == 1);
  {
    Waiting other(w.hooks(), "backend");  // another agent's wait replaces nothing
    CHECK_FALSE(newer.outcome);
  }
  newer.wait.reset();  // the hook's connection closed
  CHECK(w.hooks().waits() == 0);
  w.send(back, {"frontend"}, "nobody waits");
  CHECK_FALSE(newer.outcome);
  CHECK(w.hooks().tell("frontend"));  // nothing was announced by the dropped wait
}

TEST_CASE("wait: mail a read takes inside the send does not wake it") {
  World w(Settings{}, true);
  Caller back = w.connect("backend", 100);
  Caller front = w.connect("frontend", 300);
  Waiting hook(w.hooks(), "frontend");
  REQUIRE(hook.wait);
  std::optional<Result<InboxPage>> page;
  asio::co_spawn(w.io,
                 keep_page(w.bridge->agent_mail().wait_inbox(front, "", std::nullopt, std::nullopt,
                                                          300, nullptr, [] { return false; }),
                           &page),
                 [](std::exception_ptr e) {
                   if (e) std::rethrow_exception(e);
                 });
  w.poll();
  w.send(back, {"frontend"}, "taken by the wait");
  for (int i = 0; i < 200 && !page; ++i) w.run_for_ms(2);
  REQUIRE(page);
  CHECK(test::ok_json(*page)["messages"].size() == 1);
  CHECK_FALSE(hook.outcome);
  CHECK_FALSE(w.hooks().tell("frontend"));
}

TEST_CASE("wait: mail handed out by an answer that may not have arrived neither tells nor wakes") {
  Settings s;
  s.redeliver_after_seconds = 25;
  World w(s, true);
  w.bridge->mailbox().progress_interval = std::chrono::milliseconds(1);
  Caller back = w.connect("backend", 100);
  Caller front = w.connect("frontend", 300);
  std::optional<Result<InboxPage>> abandoned;
  asio::co_spawn(w.io,
                 keep_page(w.bridge->agent_mail().wait_inbox(front, "", std::nullopt, std::nullopt,
                                                          300, nullptr, [] { return false; }),
                           &abandoned),
                 [](std::exception_ptr e) {
                   if (e) std::rethrow_exception(e);
                 });
  w.poll();
  w.clock.advance_s(40);
  w.run_for_ms(5);
  w.send(back, {"frontend"}, "handed out");
  for (int i = 0; i < 200 && !abandoned; ++i) w.run_for_ms(2);
  REQUIRE(abandoned);
  w.poll();
  // Unread again (offered again on the next read: below), but the agent was handed it.
  CHECK_FALSE(w.hooks().tell("frontend"));
  Waiting hook(w.hooks(), "frontend");
  REQUIRE(hook.wait);
  w.send(back, {"frontend"}, "fresh");
  REQUIRE(hook.outcome);
  CHECK(hook.notice ==
        "claude-bridge: 1 new message from backend: 'fresh' — read it with check_messages");
  CHECK(w.read(front) == Names{"handed out", "fresh"});
}

TEST_CASE("ctl hook methods: agent by ancestors, a call that waits for the binding, a wait") {
  World w;
  std::vector<std::pair<nlohmann::json, Result<nlohmann::json>>> answers;
  admin::HookCalls calls(*w.bridge, [&](const nlohmann::json& id, Result<nlohmann::json> r) {
    answers.emplace_back(id, std::move(r));
  });
  const nlohmann::json whose{{"ancestors", {{4000, 1}, {3000, 9}}}, {"session_id", "s"}};
  calls.handle(ctl_protocol::kHookTell, 1, whose);
  REQUIRE(answers.size() == 1);
  CHECK(answers[0].second->at("agent").is_null());

  nlohmann::json start = whose;
  start["bind_wait"] = true;
  calls.handle(ctl_protocol::kHookSessionStart, 2, start);
  CHECK(answers.size() == 1);  // not bound yet: answered when it binds
  w.connect("other", 7777);
  CHECK(answers.size() == 1);
  Caller me = w.connect("mine", 3000, 9);
  REQUIRE(answers.size() == 2);
  CHECK(answers[1].first == 2);
  CHECK(answers[1].second->at("agent") == "mine");
  CHECK(answers[1].second->at("context").get<std::string>().find("you are agent \"mine\"") !=
        std::string::npos);

  calls.handle(ctl_protocol::kHookAgent, 3, whose);
  CHECK(answers[2].second->at("client_pid") == 3000);
  CHECK(answers[2].second->at("client_start") == 9);

  calls.handle(ctl_protocol::kHookWait, 4, {{"agent", "mine"}});
  CHECK(answers.size() == 3);
  Caller other{2, 7778, 0, "other", false};
  w.send(other, {"mine"}, "ping");
  REQUIRE(answers.size() == 4);
  CHECK(answers[3].second->at("outcome") == "mail");
  CHECK(answers[3].second->at("notice").get<std::string>().find("'ping'") != std::string::npos);

  calls.handle(ctl_protocol::kHookWait, 5, {{"agent", "mine"}});
  calls.drop();  // the connection closed
  CHECK(w.hooks().waits() == 0);
  calls.handle(ctl_protocol::kHookWait, 6, {{"agent", "nobody"}});
  CHECK(answers.back().second.status().code() == "not_found");
  calls.handle(ctl_protocol::kHookTell, 7, {{"ancestors", "nope"}});
  CHECK(answers.back().second.status().code() == "invalid_params");
  (void)me;
}
