// Named agents (issue 23): binding, names, restart with unread mail, conversations by name and
// of many, the whole inbox, joined seats, expiry, accept_from, and redelivery of answers that
// may not have reached the model — an in-memory database and a fake clock, no sockets.
#include <doctest/doctest.h>

#include "tests/unit/agent_world.h"

using namespace cb;
using namespace cb::bridge;

namespace {

using test::keep_page;
using test::Names;

struct Agents4 : test::AgentWorld {
  explicit Agents4(Settings s = Settings{}, bool group_commit = false)
      : AgentWorld(unlimited(s), group_commit) {}
  // A new connection of a client in `project` (optionally with a chosen name).
  Caller connect(const std::string& project, const std::string& chosen = "", pid_t pid = 0,
                 const std::string& session = "") {
    return bind(identity(project, chosen, pid, 42, session));
  }
  void disconnect(const Caller& c) { bridge->connection_closed(c.connection_id); }
  Result<MessageReceipt> send(const Caller& from, Names to, const std::string& text,
                              std::optional<std::int64_t> reply_to = std::nullopt) {
    return send_message(from, std::move(to), text, "info", reply_to);
  }
  Result<MessageReceipt> send_to(const Caller& from, const std::string& conv,
                                 const std::string& text) {
    return bridge->agent_mail().send_message(from, AgentMail::Recipients{{}, conv}, text, "info",
                                             {}, std::nullopt);
  }
  // Ends `conv` as the operator of another daemon of a team would, behind AgentMail's back.
  void end_elsewhere(const std::string& conv) {
    {
      store::WriteTransaction tx(*db);
      db->conversations().set_expiry(conv, clock.now_ms());
      tx.commit();
    }
    poll();
  }
  // The audit chain's send_message entries of `conv`.
  int audited_sends(const std::string& conv) {
    const Json audit = test::as_json(bridge->ops().audit_entries(conv, 10));
    int n = 0;
    for (const auto& e : audit["entries"]) n += e["action"] == "send_message";
    return n;
  }
  Json inbox(const Caller& who, const std::string& conv = "") {
    return test::ok_json(bridge->agent_mail().check_inbox(who, conv, std::nullopt, std::nullopt));
  }
};

}  // namespace

TEST_CASE("names: the chosen name, else the project's base name; a live holder means -2") {
  Agents4 w;
  CHECK(w.connect("/home/u/work/frontend").agent == "frontend");
  CHECK(w.connect("/home/u/work/frontend").agent == "frontend-2");
  CHECK(w.connect("/srv/My Backend API").agent == "my-backend-api");
  CHECK(w.connect("/srv/x", "Reviewer").agent == "reviewer");
  CHECK(w.connect("/srv/123").agent == "agent");
  CHECK(Agents::valid_name("a"));
  CHECK(Agents::valid_name("api_v2-b"));
  CHECK_FALSE(Agents::valid_name("2fast"));
  CHECK_FALSE(Agents::valid_name("Upper"));
  CHECK_FALSE(Agents::valid_name(std::string(33, 'a')));
  CHECK(Agents::name_from(std::string(40, 'q') + "-tail").size() == 32);
}

TEST_CASE("an agent restarted in the same project takes its name back with its unread mail") {
  Agents4 w;
  Caller front = w.connect("/p/frontend");
  Caller back = w.connect("/p/backend");
  REQUIRE(w.send(back, {"frontend"}, "first").ok());
  REQUIRE(w.send(back, {"frontend"}, "second").ok());
  w.disconnect(front);
  Json listed = test::ok_json(w.bridge->agent_mail().list_agents(back, false));
  REQUIRE(listed["agents"].size() == 2);
  CHECK(listed["agents"][1]["name"] == "frontend");
  CHECK(listed["agents"][1]["connected"] == false);  // no ghost
  Caller again = w.connect("/p/frontend");
  CHECK(again.agent == "frontend");
  CHECK(w.last_bound.restored);
  CHECK(w.last_bound.unread == 2);
  CHECK(Agents4::bodies(w.inbox(again)) == Names{"first", "second"});
  CHECK(w.inbox(again)["messages"].empty());
  // Another project's agent does not get "frontend" even while it is offline.
  w.disconnect(again);
  CHECK(w.connect("/elsewhere/frontend").agent == "frontend-2");
}

TEST_CASE("the same client reconnecting moves its name; the same session id finds its agent") {
  Agents4 w;
  Caller one = w.connect("/p/app", "", 777);
  Caller two = w.connect("/p/app", "", 777);  // the same client process, a new connection
  CHECK(two.agent == "app");
  CHECK(w.bridge->agents().name_of(one.connection_id).empty());
  CHECK(w.bridge->agents().name_of(two.connection_id) == "app");
  Caller resumed_other = w.connect("/p/other", "", 0, "sess-1");
  w.disconnect(resumed_other);
  // Claude Code resumed the session somewhere else: the session id wins over the directory.
  CHECK(w.connect("/p/moved", "", 0, "sess-1").agent == "other");
}

TEST_CASE("send_message by names: one conversation per set of members, only members read it") {
  Agents4 w;
  Caller a = w.connect("/p/alpha");
  Caller b = w.connect("/p/beta");
  Caller c = w.connect("/p/gamma");
  auto first = w.send(a, {"beta"}, "hello beta");
  REQUIRE(first.ok());
  auto second = w.send(b, {"alpha"}, "hello alpha");
  REQUIRE(second.ok());
  CHECK(first->conversation_id == second->conversation_id);  // the same two members
  CHECK(first->to == Names{"beta"});
  auto group = w.send(a, {"gamma", "beta", "beta"}, "to both");
  REQUIRE(group.ok());
  CHECK(group->conversation_id != first->conversation_id);
  CHECK(group->to == Names{"beta", "gamma"});
  Json page = w.inbox(b);
  CHECK(Agents4::bodies(page) == Names{"hello beta", "to both"});
  CHECK(page["messages"][0]["from"] == "alpha");
  CHECK(page["messages"][0]["conversation_id"] == first->conversation_id);
  CHECK(page.contains("note"));
  CHECK(Agents4::bodies(w.inbox(c)) == Names{"to both"});
  CHECK(Agents4::bodies(w.inbox(a)) == Names{"hello alpha"});
  // gamma is not a member of alpha and beta's conversation.
  auto refused =
      w.bridge->agent_mail().check_inbox(c, first->conversation_id, std::nullopt, std::nullopt);
  CHECK(test::refusal_of(refused).code == "not_member");
  CHECK(test::refusal_of(w.send_to(c, first->conversation_id, "let me in")).code == "not_member");
  // A reply by conversation id reaches every other member, with reply_to.
  auto reply = w.bridge->agent_mail().send_message(
      c, AgentMail::Recipients{{}, group->conversation_id}, "ok", "info", {}, group->message_id);
  REQUIRE(reply.ok());
  CHECK(reply->to == Names{"alpha", "beta"});
  Json got = w.inbox(a);
  REQUIRE(got["messages"].size() == 1);
  CHECK(got["messages"][0]["reply_to"] == group->message_id);
  CHECK(test::refusal_of(w.send(a, {"beta"}, "x", group->message_id)).code == "invalid_reply_to");
}

TEST_CASE(
    "send by names: the conversation remembered is checked; one ended or removed elsewhere is not "
    "used") {
  Agents4 w;
  Caller a = w.connect("/p/alpha");
  Caller b = w.connect("/p/beta");
  auto first = w.send(a, {"beta"}, "one");
  REQUIRE(first.ok());
  auto again = w.send(a, {"beta"}, "two");  // from memory
  REQUIRE(again.ok());
  CHECK(again->conversation_id == first->conversation_id);
  // Ended behind this daemon's back (the operator of another daemon of a team): the next send
  // starts a new conversation, and the ended one gets nothing.
  w.end_elsewhere(first->conversation_id);
  auto after_end = w.send(a, {"beta"}, "three");
  REQUIRE(after_end.ok());
  CHECK(after_end->conversation_id != first->conversation_id);
  CHECK(w.db->messages().all(first->conversation_id).size() == 2);
  // Removed behind its back: the same.
  {
    store::WriteTransaction tx(*w.db);
    CHECK(w.db->conversations().remove(after_end->conversation_id));
    tx.commit();
  }
  auto after_removal = w.send(a, {"beta"}, "four");
  REQUIRE(after_removal.ok());
  CHECK(after_removal->conversation_id != after_end->conversation_id);
  CHECK(Agents4::bodies(w.inbox(b)) == Names{"one", "two", "four"});
  // The refused attempts stored nothing and wrote no audit entry of their own.
  CHECK(w.audited_sends(after_removal->conversation_id) == 1);
}

TEST_CASE(
    "send by names in a group: ended before the commit, the message is not stored and the send "
    "runs again into a new conversation") {
  Agents4 w(Settings{}, true);
  Caller a = w.connect("/p/alpha");
  Caller b = w.connect("/p/beta");
  auto first = w.send(a, {"beta"}, "one");
  REQUIRE(first.ok());
  w.poll();
  const std::string ended = first->conversation_id;
  w.end_elsewhere(ended);
  auto send = [&] {
    return w.bridge->agent_mail().send_message(a, AgentMail::Recipients{{"beta"}, ""}, "two",
                                               "info", {}, std::nullopt);
  };
  auto two = send();  // to the conversation remembered
  REQUIRE(two.ok());
  if (two->stored_id) {
    // A team's store checks it as the group commits, under the team's lock: nothing stored,
    // and the tool runs the send again (tools::Answer::settle), which looks the names up anew.
    w.poll();
    CHECK(two->stored_id->value_or(-1) == 0);
    CHECK(two->conversation_id == ended);
    two = send();
    REQUIRE(two.ok());
    w.poll();
    REQUIRE(two->stored_id);
    CHECK(two->stored_id->value_or(0) > 0);
  } else {
    CHECK(two->message_id > 0);  // checked at once, and sent again at once
  }
  w.poll();
  CHECK(two->conversation_id != ended);
  CHECK(w.db->messages().all(ended).size() == 1);
  CHECK(Agents4::bodies(w.inbox(b)) == Names{"one", "two"});
  CHECK(w.audited_sends(ended) == 1);  // the refused attempt wrote no entry
}

TEST_CASE(
    "send by names to a member waiting here, after the conversation was ended: the wait takes "
    "the message in the new one") {
  Agents4 w(Settings{}, true);
  Caller a = w.connect("/p/alpha");
  Caller b = w.connect("/p/beta");
  auto first = w.send(a, {"beta"}, "one");
  REQUIRE(first.ok());
  CHECK(Agents4::bodies(w.inbox(b)) == Names{"one"});
  w.poll();
  const std::string ended = first->conversation_id;
  w.end_elsewhere(ended);
  std::optional<Result<InboxPage>> waited;
  w.start_wait(b, &waited);
  REQUIRE_FALSE(waited);
  // The wait takes the message in the send's transaction; on a team's store the message is
  // written for it first, refused there (the remembered conversation ended), and sent again.
  auto two = w.bridge->agent_mail().send_message(a, AgentMail::Recipients{{"beta"}, ""}, "two",
                                                 "info", {}, std::nullopt);
  REQUIRE(two.ok());
  CHECK(two->conversation_id != ended);
  CHECK(two->message_id > 0);
  w.run_until(waited);
  REQUIRE(waited);
  CHECK(Agents4::bodies(test::ok_json(*waited)) == Names{"two"});
  CHECK(w.db->messages().all(ended).size() == 1);
}

TEST_CASE("send by names: the names' conversation is looked up once, then remembered") {
  Agents4 w;
  Caller a = w.connect("/p/alpha");
  Caller b = w.connect("/p/beta");
  w.connect("/p/gamma");
  // Conversations made by another daemon of a team, expiring as a send here would set them (so
  // that no send rewrites the expiry).
  auto made_elsewhere = [&](const std::string& id, const std::string& other) {
    store::WriteTransaction tx(*w.db);
    store::ConversationRow conv;
    conv.id = id;
    conv.kind = "agents";
    conv.member_key = "alpha," + other;
    conv.created_ms = w.clock.now_ms();
    conv.expires_ms = w.clock.now_ms() + Settings{}.ttl_seconds * 1000;
    w.db->conversations().insert(conv);
    w.db->members().insert({"alpha", conv.id, "", 0, conv.created_ms});
    w.db->members().insert({other, conv.id, "", 0, conv.created_ms});
    tx.commit();
  };
  made_elsewhere("conv_with_beta", "beta");
  made_elsewhere("conv_with_gamma", "gamma");
  // Every statement of both ways prepared once (a first use costs a round trip of its own).
  REQUIRE(w.send(a, {"gamma"}, "warm-up").ok());
  REQUIRE(w.send(a, {"gamma"}, "warm-up").ok());
  auto* pg = dynamic_cast<store::pg::PgDatabase*>(w.db.get());
  auto trips = [&] { return pg ? pg->connection().round_trips() : 0; };
  const std::uint64_t t0 = trips();
  auto first = w.send(a, {"beta"}, "looked up");
  const std::uint64_t t1 = trips();
  auto second = w.send(a, {"beta"}, "remembered");
  const std::uint64_t t2 = trips();
  REQUIRE(first.ok());
  REQUIRE(second.ok());
  CHECK(first->conversation_id == "conv_with_beta");
  CHECK(second->conversation_id == "conv_with_beta");
  // On a team's store the second send skips the lookup: one round trip fewer.
  if (pg) CHECK(t2 - t1 + 1 == t1 - t0);
  CHECK(Agents4::bodies(w.inbox(b)) == Names{"looked up", "remembered"});
}

TEST_CASE("sending to a name nobody holds lists the live agents; without a name no agent tool") {
  Agents4 w;
  Caller a = w.connect("/p/alpha");
  w.connect("/p/beta");
  auto r = test::refusal_of(w.send(a, {"nobody"}, "hi"));
  CHECK(r.code == "unknown_agent");
  CHECK(r.message.find("online: alpha, beta") != std::string::npos);
  CHECK(test::refusal_of(w.send(a, {"Bad Name"}, "hi")).code == "invalid_agent_name");
  CHECK(test::refusal_of(w.send(a, {"alpha"}, "hi")).code == "invalid_params");
  Caller unbound;
  unbound.connection_id = 99;
  CHECK(test::refusal_of(w.send(unbound, {"alpha"}, "hi")).code == "not_bound");
  CHECK(test::refusal_of(w.bridge->agent_mail().list_agents(unbound, false)).code == "not_bound");
  Names fifty;
  for (int i = 0; i < 50; ++i) fifty.push_back("n" + std::to_string(i));
  CHECK(test::refusal_of(w.send(a, fifty, "hi")).code == "too_many_recipients");
}

TEST_CASE("list_agents: you first, presence, waiting, status and note, unread from each") {
  Agents4 w(Settings{}, true);
  Caller a = w.connect("/p/app", "alpha");
  Caller b = w.connect("/p/app", "beta");
  Caller c = w.connect("/q/gamma");
  REQUIRE(w.send(b, {"alpha"}, "1").ok());
  REQUIRE(w.send(b, {"alpha", "gamma"}, "2").ok());
  REQUIRE(w.send(c, {"alpha"}, "3").ok());
  w.poll();
  w.inbox(c);  // gamma has read what it got, so its wait blocks
  w.poll();
  REQUIRE(w.bridge->agent_mail().update_agent_status(b, "working", "implementing GET /users").ok());
  std::optional<Result<InboxPage>> waiting;
  w.start_wait(c, &waiting);
  Json all = test::ok_json(w.bridge->agent_mail().list_agents(a, false));
  CHECK(all["you"]["name"] == "alpha");
  CHECK(all["you"]["project"] == "/p/app");
  REQUIRE(all["agents"].size() == 3);
  CHECK(all["agents"][0]["name"] == "alpha");
  CHECK(all["agents"][1]["name"] == "beta");
  CHECK(all["agents"][1]["unread_from_them"] == 2);
  CHECK(all["agents"][1]["status"] == "working");
  CHECK(all["agents"][1]["note"] == "implementing GET /users");
  CHECK(all["agents"][1]["client"] == "claude-code");
  CHECK(all["agents"][2]["unread_from_them"] == 1);
  CHECK(all["agents"][2]["waiting"] == true);
  CHECK(all["agents"][2]["connected"] == true);
  Json project = test::ok_json(w.bridge->agent_mail().list_agents(a, true));
  CHECK(project["agents"].size() == 2);  // gamma works in /q
}

TEST_CASE("accept_from = project: agents of different projects cannot start a conversation") {
  Settings s;
  s.accept_from_project_only = true;
  Agents4 w(s);
  Caller a = w.connect("/p/alpha");
  w.connect("/p/alpha", "helper");
  w.connect("/q/other");
  CHECK(w.send(a, {"helper"}, "same project").ok());
  CHECK(test::refusal_of(w.send(a, {"other"}, "across")).code == "other_project");
  Json entry = test::as_json(w.bridge->ops().audit_entries("", 1))["entries"][0];
  CHECK(entry["action"] == "send_message");
  CHECK(entry["outcome"] == "refused");
  CHECK(entry["details"]["reason"] == "other_project");
}

TEST_CASE("create_conversation with members, and a conversation of agents slides its expiry") {
  Settings s;
  s.ttl_seconds = 100;
  Agents4 w(s);
  Caller a = w.connect("/p/alpha");
  w.connect("/p/beta");
  Caller c = w.connect("/p/gamma");
  auto group = w.bridge->agent_mail().create_group(a, {"beta", "gamma"});
  REQUIRE(group.ok());
  CHECK(group->members == Names{"alpha", "beta", "gamma"});
  Json rendered = test::as_json(*group);
  CHECK_FALSE(rendered.contains("session_a_token"));
  for (int i = 0; i < 3; ++i) {
    w.clock.advance_s(90);  // each message moves the expiry 100 s past itself
    REQUIRE(w.send_to(c, group->conversation_id, "still here").ok());
  }
  w.clock.advance_s(101);
  CHECK(test::refusal_of(w.send_to(c, group->conversation_id, "late")).code == "expired");
  // The same names then make a new conversation.
  auto fresh = w.send(a, {"beta", "gamma"}, "new");
  REQUIRE(fresh.ok());
  CHECK(fresh->conversation_id != group->conversation_id);
}

TEST_CASE("join_conversation binds a token seat once; its mail joins the agent's inbox") {
  Agents4 w;
  Caller agent = w.connect("/p/alpha");
  Caller token_client;
  token_client.connection_id = 500;
  Json created =
      test::ok_json(w.bridge->mailbox().create_conversation(token_client, "lead", "worker"));
  Credentials b_seat{created["conversation_id"], "b", created["session_b_token"]};
  Credentials a_seat{created["conversation_id"], "a", created["session_a_token"]};
  Json joined = test::ok_json(w.bridge->agent_mail().join(agent, b_seat));
  CHECK(joined["session_id"] == "b");
  CHECK(joined["my_role"] == "worker");
  REQUIRE(w.bridge->mailbox().send(token_client, a_seat, "do it", "info", {}).ok());
  Json page = w.inbox(agent);
  REQUIRE(page["messages"].size() == 1);
  CHECK(page["messages"][0]["message"] == "do it");
  CHECK(page["messages"][0]["from"] == "lead");
  // Later calls need the id only.
  auto sent = w.send_to(agent, b_seat.conversation_id, "done");
  REQUIRE(sent.ok());
  CHECK(sent->to == Names{"lead"});
  Json back = test::ok_json(w.bridge->mailbox().check_messages(token_client, a_seat, {}, {}));
  CHECK(Agents4::bodies(back) == Names{"done"});
  // Another agent cannot take the seat.
  Caller other = w.connect("/p/beta");
  CHECK(test::refusal_of(w.bridge->agent_mail().join(other, b_seat)).code == "seat_taken");
  CHECK(test::refusal_of(w.send_to(other, b_seat.conversation_id, "x")).code == "not_joined");
}

TEST_CASE("the whole inbox: one conversation or many and a seat, in id order, pages counted") {
  Agents4 w;
  Caller a = w.connect("/p/alpha");
  Caller b = w.connect("/p/beta");
  Caller c = w.connect("/p/gamma");
  // b in one conversation only (the store's single-range path).
  REQUIRE(w.send(a, {"beta"}, "a1").ok());
  REQUIRE(w.send(a, {"beta"}, "a2").ok());
  Json page = w.inbox(b);
  CHECK(Agents4::bodies(page) == Names{"a1", "a2"});
  CHECK(page["unread_remaining"] == 0);
  CHECK(w.inbox(b)["messages"].empty());
  // Then in three: with a, with c, and a token seat it joined; their mail interleaves.
  Caller token_client;
  token_client.connection_id = 500;
  Json created =
      test::ok_json(w.bridge->mailbox().create_conversation(token_client, "lead", "worker"));
  Credentials b_seat{created["conversation_id"], "b", created["session_b_token"]};
  Credentials a_seat{created["conversation_id"], "a", created["session_a_token"]};
  REQUIRE(w.bridge->agent_mail().join(b, b_seat).ok());
  REQUIRE(w.send(c, {"beta"}, "c1").ok());
  REQUIRE(w.bridge->mailbox().send(token_client, a_seat, "t1", "info", {}).ok());
  REQUIRE(w.send(a, {"beta"}, "a3").ok());
  REQUIRE(w.send(c, {"beta"}, "c2").ok());
  REQUIRE(w.bridge->mailbox().send(token_client, a_seat, "t2", "info", {}).ok());
  // A page of 3 of the 5: the oldest three across all three, the rest counted.
  Json first = test::ok_json(w.bridge->agent_mail().check_inbox(b, "", std::nullopt, 3));
  CHECK(Agents4::bodies(first) == Names{"c1", "t1", "a3"});
  CHECK(first["has_more"] == true);
  CHECK(first["unread_remaining"] == 2);
  Json rest = w.inbox(b);
  CHECK(Agents4::bodies(rest) == Names{"c2", "t2"});
  CHECK(rest["has_more"] == false);
  CHECK(rest["unread_remaining"] == 0);
  CHECK(w.inbox(b)["messages"].empty());
}

TEST_CASE("a wait answered after its client may have given up offers its messages again") {
  // No progress token and blocked past redeliver_after_seconds: Claude Code abandons such a
  // call without a cancel, so the answer may reach nobody.
  Settings s;
  s.redeliver_after_seconds = 25;
  Agents4 w(s, true);
  w.bridge->mailbox().progress_interval = std::chrono::milliseconds(1);
  Caller a = w.connect("/p/alpha");
  Caller b = w.connect("/p/beta");
  std::optional<Result<InboxPage>> abandoned;
  w.start_wait(b, &abandoned);
  w.clock.advance_s(40);
  w.run_for_ms(5);
  REQUIRE_FALSE(abandoned);
  REQUIRE(w.send(a, {"beta"}, "are you there?").ok());
  w.run_until(abandoned);
  REQUIRE(abandoned);
  CHECK(Agents4::bodies(test::ok_json(*abandoned)) == Names{"are you there?"});
  w.poll();
  // The model asks again: the message comes once more, flagged; then it is read.
  Json again = w.inbox(b);
  REQUIRE(again["messages"].size() == 1);
  CHECK(again["messages"][0]["message"] == "are you there?");
  CHECK(again["messages"][0]["redelivered"] == true);
  CHECK(w.inbox(b)["messages"].empty());

  // With a progress token the client was told the call lived: no second offer.
  b.progress_kept_alive = true;
  std::optional<Result<InboxPage>> kept;
  w.start_wait(b, &kept);
  w.clock.advance_s(40);
  w.run_for_ms(5);
  REQUIRE(w.send(a, {"beta"}, "second").ok());
  w.run_until(kept);
  REQUIRE(kept);
  CHECK(Agents4::bodies(test::ok_json(*kept)) == Names{"second"});
  w.poll();
  CHECK(w.inbox(b)["messages"].empty());
}

TEST_CASE("a token seat's wait answered after its client may have given up is offered again") {
  Settings s;
  Agents4 w(s, true);
  w.bridge->mailbox().progress_interval = std::chrono::milliseconds(1);
  Caller alice;
  alice.connection_id = 700;
  Caller bob;
  bob.connection_id = 701;
  Json created = test::ok_json(w.bridge->mailbox().create_conversation(alice, "lead", "worker"));
  Credentials a{created["conversation_id"], "a", created["session_a_token"]};
  Credentials b{created["conversation_id"], "b", created["session_b_token"]};
  std::optional<Result<InboxPage>> abandoned;
  asio::co_spawn(
      w.io,
      keep_page(w.bridge->mailbox().wait_for_messages(bob, b, std::nullopt, std::nullopt, 300,
                                                      nullptr, [] { return false; }),
                &abandoned),
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
  w.poll();
  w.clock.advance_s(30);
  w.run_for_ms(5);
  REQUIRE(w.bridge->mailbox().send(alice, a, "late news", "info", {}).ok());
  w.run_until(abandoned);
  REQUIRE(abandoned);
  CHECK(Agents4::bodies(test::ok_json(*abandoned)) == Names{"late news"});
  w.poll();
  Json again = test::ok_json(w.bridge->mailbox().check_messages(bob, b, {}, {}));
  REQUIRE(again["messages"].size() == 1);
  CHECK(again["messages"][0]["redelivered"] == true);
  CHECK(test::ok_json(w.bridge->mailbox().check_messages(bob, b, {}, {}))["messages"].empty());
}

TEST_CASE("a partner blocked in a wait is alive, whatever its status heartbeat says") {
  Agents4 w(Settings{}, true);
  w.bridge->mailbox().progress_interval = std::chrono::milliseconds(1);
  Caller alice;
  alice.connection_id = 800;
  Caller bob;
  bob.connection_id = 801;
  Json created = test::ok_json(w.bridge->mailbox().create_conversation(alice, "lead", "worker"));
  Credentials a{created["conversation_id"], "a", created["session_a_token"]};
  Credentials b{created["conversation_id"], "b", created["session_b_token"]};
  std::optional<Result<InboxPage>> waiting;
  asio::co_spawn(
      w.io,
      keep_page(w.bridge->mailbox().wait_for_messages(bob, b, std::nullopt, std::nullopt, 600,
                                                      nullptr, [] { return false; }),
                &waiting),
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
  w.poll();
  w.clock.advance_s(300);  // far past alive_seconds (120)
  w.run_for_ms(5);
  Json partner = test::ok_json(w.bridge->mailbox().partner_status(alice, a));
  CHECK(partner["waiting"] == true);
  CHECK(partner["alive"] == true);
  CHECK(partner["last_heartbeat"].is_string());  // the wait was a call: a heartbeat
}

TEST_CASE("mail another daemon of a team announces by its members wakes a wait here at once") {
  // What TeamLink hands over from a PostgreSQL NOTIFY: the message's ids and its conversation's
  // members, nothing read. The wait's own timer never fires here, so only the wake-up ends it.
  Agents4 w(Settings{}, true);
  w.bridge->mailbox().progress_interval = std::chrono::hours(1);
  Caller a = w.connect("/p/alpha");
  Caller b = w.connect("/p/beta");
  auto first = w.send(a, {"beta"}, "hello");
  REQUIRE(first.ok());
  w.poll();
  REQUIRE(w.inbox(b)["messages"].size() == 1);
  std::optional<Result<InboxPage>> got;
  w.start_wait(b, &got);
  w.run_for_ms(5);
  REQUIRE_FALSE(got);
  // The other daemon's commit: the row is in the shared store, no send ran here.
  store::MessageRow row;
  row.conversation_id = first->conversation_id;
  row.sender = "alpha";
  row.recipient = "*";
  row.body = "from afar";
  row.action_type = "info";
  row.created_ms = w.clock.now_ms();
  {
    store::WriteTransaction tx(*w.db);
    row.id = w.db->messages().insert(row);
    tx.commit();
  }
  w.run_for_ms(5);
  REQUIRE_FALSE(got);  // nothing told the wait
  w.bridge->agent_mail().announce(row.id, row.conversation_id, "alpha", {"alpha", "beta"});
  w.run_until(got);
  REQUIRE(got);
  CHECK(Agents4::bodies(test::ok_json(*got)) == Names{"from afar"});
  w.poll();
  CHECK(w.inbox(b)["messages"].empty());  // the wait read it
}
