// The product rules, with a fresh store (open_test_store: SQLite in memory, or PostgreSQL in the
// unit-bridge-pg variant) and a fake clock: no sockets, no sleeping.
#include "daemon/bridge/bridge.h"

#include <doctest/doctest.h>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <cstdio>
#include <ctime>
#include <random>

#include "common/utf8.h"
#include "daemon/crypto/crypto.h"
#include "daemon/tools/tool_support.h"
#include "tests/unit/product_results.h"
#include "tests/unit/test_store.h"

using namespace cb;
using namespace cb::bridge;

namespace {

struct World {
  std::unique_ptr<store::Database> db = test::open_test_store();
  FakeClock clock;
  Settings settings;
  std::unique_ptr<Bridge> bridge;
  Caller alice{1, 100, 1000};
  Caller bob{2, 200, 1000};
  Credentials a, b;

  explicit World(Settings s = Settings{}) : settings(s) {
    bridge = std::make_unique<Bridge>(*db, clock, std::string(32, 'k'), settings,
                                      redact::Redactor::builtin());
    Json conv = ok(bridge->mailbox().create_conversation(alice, "backend_dev", "frontend_dev"));
    a = {conv["conversation_id"], "a", conv["session_a_token"]};
    b = {conv["conversation_id"], "b", conv["session_b_token"]};
  }
  template <class T>
  static Json ok(const Result<T>& r) {
    return test::ok_json(r);
  }
  template <class T>
  static test::Refusal refused(const Result<T>& r) {
    return test::refusal_of(r);
  }
  Result<SendReceipt> send(const Credentials& c, const std::string& text, const Caller* who = nullptr) {
    return bridge->mailbox().send(who ? *who : alice, c, text, "info", {});
  }
  Result<InboxPage> read(const Credentials& c, std::optional<std::int64_t> since = std::nullopt,
              std::optional<std::int64_t> limit = std::nullopt) {
    return bridge->mailbox().check_messages(bob, c, since, limit);
  }
};

}  // namespace

TEST_CASE("HMAC-SHA256 matches RFC 4231") {
  struct Vector {
    std::string key, data, mac;
  };
  const Vector vectors[] = {
      {std::string(20, '\x0b'), "Hi There",
       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
      {"Jefe", "what do ya want for nothing?",
       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
      {std::string(20, '\xaa'), std::string(50, '\xdd'),
       "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
      {std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First",
       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
  };
  for (const auto& v : vectors) {
    CHECK(crypto::hex(crypto::hmac_sha256(v.key, v.data)) == v.mac);
    // The keyed context gives the same MAC, and again on reuse (it re-initialises per call).
    crypto::HmacSha256 mac(v.key);
    CHECK(crypto::hex(mac(v.data)) == v.mac);
    CHECK(crypto::hex(mac("")) == crypto::hex(crypto::hmac_sha256(v.key, "")));
    CHECK(crypto::hex(mac(v.data)) == v.mac);
  }
  CHECK(crypto::equal_constant_time("abc", "abc"));
  CHECK_FALSE(crypto::equal_constant_time("abc", "abd"));
  CHECK_FALSE(crypto::equal_constant_time("abc", "abcd"));
}

TEST_CASE("conversations: ids, tokens derived by HMAC, expiry 3 h later") {
  World w;
  CHECK(w.a.conversation_id.size() == 21);
  CHECK(w.a.conversation_id.rfind("conv_", 0) == 0);
  CHECK(w.a.token.size() == 64);
  CHECK(w.a.token != w.b.token);
  // Re-derivable by the operator, and only from the server key and the stored nonce.
  Json t = World::ok(w.bridge->ops().tokens(w.a.conversation_id, "test"));
  CHECK(t["session_a_token"] == w.a.token);
  CHECK(t["session_b_token"] == w.b.token);
  // A different server key derives different tokens from the same database.
  Bridge other(*w.db, w.clock, std::string(32, 'z'), Settings{}, redact::Redactor::builtin());
  CHECK(World::refused(other.mailbox().check_messages(w.bob, w.b, {}, {})).code == "bad_token");
}

TEST_CASE("a token authenticates exactly one (conversation, session)") {
  World w;
  Json other = World::ok(w.bridge->mailbox().create_conversation(w.alice, "role_one", "role_two"));
  CHECK(World::refused(w.read({w.b.conversation_id, "b", w.a.token})).code == "bad_token");
  CHECK(World::refused(w.read({other["conversation_id"], "b", w.b.token})).code == "bad_token");
  CHECK(World::refused(w.read({"conv_0000000000000000", "b", w.b.token})).code ==
        "unknown_conversation");
  CHECK(World::refused(w.read({w.b.conversation_id, "c", w.b.token})).code == "invalid_session");
  World::ok(w.read(w.b));
}

TEST_CASE("expiry: refused after ttl, with the time it expired") {
  World w;
  w.clock.advance_s(3 * 3600 - 1);
  World::ok(w.send(w.a, "still in time"));
  w.clock.advance_s(1);
  test::Refusal r = World::refused(w.send(w.a, "too late"));
  CHECK(r.code == "expired");
  CHECK(r.message.find("expired at") != std::string::npos);
  CHECK(World::refused(w.read(w.b)).code == "expired");
}

TEST_CASE("retention: automatic purge only after the retention period; cleanup purges expired") {
  World w;
  World::ok(w.send(w.a, "hello"));
  w.clock.advance_s(3 * 3600 + 10);
  Json kept = test::as_json(w.bridge->ops().cleanup(w.clock.now_ms() - 7 * 86'400'000LL));
  CHECK(kept["count"] == 0);
  w.clock.advance_s(7 * 86400);
  Json purged = test::as_json(w.bridge->ops().cleanup(w.clock.now_ms() - 7 * 86'400'000LL));
  CHECK(purged["count"] == 1);
  CHECK(World::refused(w.read(w.b)).code == "unknown_conversation");
  CHECK(w.bridge->ops().verify_audit().ok);  // audit entries stay and the chain holds
}

TEST_CASE("messages: unread once, oldest first, since_id re-reads, limit pages") {
  World w;
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(World::ok(w.send(w.a, "m" + std::to_string(i)))["message_id"]);
    w.clock.advance_ms(1);
  }
  Json page = World::ok(w.read(w.b, std::nullopt, 2));
  CHECK(page["messages"].size() == 2);
  CHECK(page["messages"][0]["id"] == ids[0]);
  CHECK(page["has_more"] == true);
  CHECK(page["unread_remaining"] == 3);
  Json rest = World::ok(w.read(w.b));
  CHECK(rest["messages"].size() == 3);
  CHECK(rest["has_more"] == false);
  CHECK(rest["unread_remaining"] == 0);
  CHECK(World::ok(w.read(w.b))["messages"].empty());
  Json again = World::ok(w.read(w.b, ids[1]));
  CHECK(again["messages"].size() == 3);
  CHECK(again["messages"][0]["id"] == ids[2]);
  // since_id marks only what it returned: an older unread message stays unread.
  World w2;
  auto first = World::ok(w2.send(w2.a, "first"))["message_id"].get<std::int64_t>();
  World::ok(w2.send(w2.a, "second"));
  Json after = World::ok(w2.read(w2.b, first));
  CHECK(after["messages"].size() == 1);
  CHECK(after["has_more"] == false);
  CHECK(after["unread_remaining"] == 1);  // the older one, before since_id
  Json unread = World::ok(w2.read(w2.b));
  REQUIRE(unread["messages"].size() == 1);
  CHECK(unread["messages"][0]["id"] == first);
}

TEST_CASE("message length is counted in code points") {
  World w;
  std::string three_byte;
  for (int i = 0; i < 50000; ++i) three_byte += "\u2713";
  World::ok(w.send(w.a, three_byte));
  test::Refusal r = World::refused(w.send(w.a, std::string(50001, 'x')));
  CHECK(r.code == "too_long");
  CHECK(r.message.find("50000") != std::string::npos);
  CHECK(code_points("a\u00e9\u2713\U0001F600") == 4);
}

TEST_CASE("a NUL character in a message or file name is stored as U+FFFD on every store") {
  // PostgreSQL's text cannot hold U+0000; SQLite's can. Both store the same replacement.
  World w;
  const std::string body = std::string("before") + '\0' + "after";
  const std::string file = std::string("a") + '\0' + ".txt";
  REQUIRE(w.bridge->mailbox().send(w.alice, w.a, body, "info", {file}).ok());
  const Json page = World::ok(w.read(w.b));
  REQUIRE(page["messages"].size() == 1);
  CHECK(page["messages"][0]["message"] == "before\xEF\xBF\xBD" "after");
  CHECK(page["messages"][0]["metadata"]["files_involved"][0] == "a\xEF\xBF\xBD.txt");
}

TEST_CASE("send rate limits: sliding windows per session, after authentication") {
  Settings s;
  s.send_per_minute = 3;
  s.send_per_hour = 5;
  World w(s);
  // Bad-token attempts against a's session do not consume a's quota.
  Credentials forged = w.a;
  forged.token = std::string(64, '0');
  for (int i = 0; i < 5; ++i) World::refused(w.send(forged, "x", &w.bob));
  for (int i = 0; i < 3; ++i) {
    World::ok(w.send(w.a, "x"));
    w.clock.advance_s(10);
  }
  test::Refusal r = World::refused(w.send(w.a, "x"));
  CHECK(r.code == "rate_limited");
  REQUIRE(r.retry_after_seconds);
  CHECK(*r.retry_after_seconds == 30);  // now t=30; the first send (t=0) leaves the window at t=60
  World::ok(w.send(w.b, "b has its own budget"));
  // No double burst at a fixed-window boundary: sliding.
  w.clock.advance_s(29);
  CHECK(World::refused(w.send(w.a, "x")).code == "rate_limited");
  w.clock.advance_s(1);
  World::ok(w.send(w.a, "x"));
  // The hour window: 4 sent; one more allowed, then refused for the hour.
  w.clock.advance_s(60);
  World::ok(w.send(w.a, "x"));
  w.clock.advance_s(60);
  test::Refusal hour = World::refused(w.send(w.a, "x"));
  CHECK(hour.message.find("per hour") != std::string::npos);
}

TEST_CASE("failed authentications lock only the guessing connection") {
  Settings s;
  s.auth_failures_per_minute = 3;
  World w(s);
  Caller mallory{9, 900, 1000};
  Credentials forged = w.b;
  forged.token = std::string(64, 'f');
  for (int i = 0; i < 3; ++i) CHECK(World::refused(w.bridge->mailbox().check_messages(mallory, forged, {}, {})).code == "bad_token");
  CHECK(World::refused(w.bridge->mailbox().check_messages(mallory, w.b, {}, {})).code == "auth_locked");
  World::ok(w.bridge->mailbox().check_messages(w.bob, w.b, {}, {}));
  w.clock.advance_s(61);
  World::ok(w.bridge->mailbox().check_messages(mallory, w.b, {}, {}));
}

TEST_CASE("heartbeats: alive under 120 s, not after") {
  World w;
  Json unknown = World::ok(w.bridge->mailbox().partner_status(w.bob, w.b));
  CHECK(unknown["status"] == "unknown");
  CHECK(unknown["last_heartbeat"].is_null());
  CHECK(unknown["alive"] == false);
  World::ok(w.bridge->mailbox().update_status(w.alice, w.a, "working"));
  w.clock.advance_s(119);
  Json fresh = World::ok(w.bridge->mailbox().partner_status(w.bob, w.b));
  CHECK(fresh["status"] == "working");
  CHECK(fresh["alive"] == true);
  CHECK(fresh["age_seconds"] == 119);
  w.clock.advance_s(1);
  CHECK(World::ok(w.bridge->mailbox().partner_status(w.bob, w.b))["alive"] == false);
}

TEST_CASE("presence: connected while a bound connection lives, not after") {
  World w;
  CHECK(World::ok(w.bridge->mailbox().partner_status(w.bob, w.b))["connected"] == true);  // alice created it
  w.bridge->connection_closed(w.alice.connection_id);
  CHECK(World::ok(w.bridge->mailbox().partner_status(w.bob, w.b))["connected"] == false);
}

namespace {
struct RecordingNotifier : Notifier {
  std::vector<std::pair<std::uint64_t, std::string>> pushes;  // connection, content
  // What the daemon pushes is the tools layer's rendering of the notice.
  void mail_waiting(std::uint64_t connection_id, const MailNotice& notice) override {
    tools::Push push = tools::render_push(notice);
    CHECK(push.method == "notifications/claude/channel");
    pushes.emplace_back(connection_id, push.params["content"].get<std::string>());
  }
};
}  // namespace

TEST_CASE("push: once per unread batch and connection, again after the session reads") {
  World w;
  RecordingNotifier n;
  w.bridge->set_notifier(&n);
  World::ok(w.read(w.b));  // binds bob's connection as b
  for (int i = 0; i < 3; ++i) World::ok(w.send(w.a, "m" + std::to_string(i)));
  REQUIRE(n.pushes.size() == 1);  // told once; the next two wait for a read
  CHECK(n.pushes[0].first == w.bob.connection_id);
  CHECK(n.pushes[0].second.rfind("1 new message from backend_dev", 0) == 0);

  CHECK(World::ok(w.read(w.b))["messages"].size() == 3);
  World::ok(w.send(w.a, "after the read"));
  REQUIRE(n.pushes.size() == 2);
  CHECK(n.pushes[1].second.rfind("1 new message ", 0) == 0);

  // A second connection of b that has not been told yet is told; the first is not told again.
  Caller bob2{3, 200, 1000};
  World::ok(w.bridge->mailbox().partner_status(bob2, w.b));  // binds without reading
  World::ok(w.send(w.a, "two unread now"));
  REQUIRE(n.pushes.size() == 3);
  CHECK(n.pushes[2].first == bob2.connection_id);
  CHECK(n.pushes[2].second.rfind("2 new messages ", 0) == 0);
  w.bridge->set_notifier(nullptr);
}

TEST_CASE("redaction is structural: message and every metadata string, never JSON text") {
  World w;
  std::string secret = std::string("gh") + "p_";
  for (int i = 0; i < 36; ++i) secret += "aZ3kQ9xLm2"[(i * 7) % 10];
  Json sent = World::ok(w.bridge->mailbox().send(w.alice, w.a, "token " + secret + " \"quoted\"", "info",
                                       {"path/with\"quote.txt", "ci-" + secret + ".env"}));
  CHECK(sent["redacted"] == true);
  Json m = World::ok(w.read(w.b))["messages"][0];
  CHECK(std::string(m["message"]).find(secret) == std::string::npos);
  CHECK(std::string(m["message"]).find("\"quoted\"") != std::string::npos);
  CHECK(m["metadata"]["files_involved"][0] == "path/with\"quote.txt");
  CHECK(std::string(m["metadata"]["files_involved"][1]).find(secret) == std::string::npos);
}

TEST_CASE("audit: every change and refusal recorded; a hash chain that detects edits") {
  World w;
  World::ok(w.send(w.a, "hello"));
  World::refused(w.read({w.b.conversation_id, "b", std::string(64, '1')}));
  World::ok(w.read(w.b));
  Json entries = test::as_json(w.bridge->ops().audit_entries("", 50))["entries"];
  std::vector<std::string> actions;
  for (const auto& e : entries) actions.push_back(e["action"].get<std::string>() + ":" + e["outcome"].get<std::string>());
  CHECK(std::find(actions.begin(), actions.end(), "create_conversation:ok") != actions.end());
  CHECK(std::find(actions.begin(), actions.end(), "send_to_partner:ok") != actions.end());
  CHECK(std::find(actions.begin(), actions.end(), "check_messages:refused") != actions.end());
  for (const auto& e : entries) CHECK(e["details"].dump().find("hello") == std::string::npos);
  CHECK(w.bridge->ops().verify_audit().ok);
  test::exec_sql(*w.db, "UPDATE audit SET details_json = '{}' WHERE id = 2");
  auto v = w.bridge->ops().verify_audit();
  CHECK_FALSE(v.ok);
  CHECK(v.first_bad_id == 2);
}

TEST_CASE("audit: deleting a middle entry is detected") {
  World w;
  World::ok(w.send(w.a, "one"));
  World::ok(w.send(w.a, "two"));
  test::exec_sql(*w.db, "DELETE FROM audit WHERE id = 2");
  auto v = w.bridge->ops().verify_audit();
  CHECK_FALSE(v.ok);
  CHECK(v.first_bad_id == 3);
}

TEST_CASE("empty polls are counted, not written row by row") {
  World w;
  const auto before = test::as_json(w.bridge->ops().audit_entries("", 1000))["entries"].size();
  for (int i = 0; i < 20; ++i) World::ok(w.read(w.b));
  CHECK(test::as_json(w.bridge->ops().audit_entries("", 1000))["entries"].size() == before);
  CHECK(test::as_json(w.bridge->ops().stats())["empty_polls"] == 20);
  World::ok(w.send(w.a, "now something"));
  World::ok(w.read(w.b));
  Json newest = test::as_json(w.bridge->ops().audit_entries("", 1))["entries"][0];
  CHECK(newest["action"] == "check_messages");
  CHECK(newest["details"]["empty_polls_before"] == 20);
}

TEST_CASE("read budget is separate and larger than the send budget") {
  Settings s;
  s.read_per_minute = 4;
  World w(s);
  for (int i = 0; i < 4; ++i) World::ok(w.read(w.b));
  test::Refusal r = World::refused(w.read(w.b));
  CHECK(r.code == "rate_limited");
  CHECK(r.message.find("wait_for_messages") != std::string::npos);
  World::ok(w.send(w.a, "sends are budgeted separately"));
}

namespace {

// Stores a coroutine's answer (its state in parameters: GCC 12).
awaitable<void> keep(awaitable<Result<InboxPage>> call, std::optional<Result<InboxPage>>* out) {
  *out = co_await std::move(call);
}

// wait_for_messages on an io_context, with group commit deferred to the loop as the daemon
// runs it: a call's writes are committed when the loop turn that made them ends.
struct WaitWorld : World {
  asio::io_context io;
  bool cancel = false;
  std::optional<Result<InboxPage>> answer;

  WaitWorld() {
    test::enable_group_commit(
        *db, [this](std::function<void()> flush) { asio::post(io, std::move(flush)); });
  }
  // Starts bob's wait and runs the loop until it blocks.
  void start_wait(const Credentials& c) {
    asio::co_spawn(io,
                   keep(bridge->mailbox().wait_for_messages(bob, c, std::nullopt, std::nullopt, 60,
                                                            nullptr, [this] { return cancel; }),
                        &answer),
                   [](std::exception_ptr e) {
                     if (e) std::rethrow_exception(e);
                   });
    io.poll();
  }
};

}  // namespace

TEST_CASE("a send hands its message to a blocked wait: one transaction, answered at the commit") {
  WaitWorld w;
  w.start_wait(w.b);
  REQUIRE_FALSE(w.answer);
  REQUIRE(w.bridge->presence().waiting(SessionKey{w.b.conversation_id, "b"}));
  auto sent = w.send(w.a, "handed over");
  REQUIRE(sent.ok());
  // The receipt is answered behind the wake-up of the reader that took its message.
  CHECK(sent->ticket.behind_queued);
  CHECK_FALSE(w.answer);  // nothing is answered before the commit
  w.io.poll();
  REQUIRE(w.answer);
  REQUIRE(w.answer->ok());
  // The wait marked its message read inside the send's transaction: its answer rides on the
  // send's ticket, with no write of its own.
  CHECK((*w.answer)->ticket.generation == sent->ticket.generation);
  CHECK(w.db->outcome((*w.answer)->ticket) == std::optional<std::string>(""));
  Json got = World::ok(*w.answer);
  REQUIRE(got["messages"].size() == 1);
  CHECK(got["messages"][0]["message"] == "handed over");
  CHECK(got["unread_remaining"] == 0);
  CHECK(World::ok(w.read(w.b))["messages"].empty());
  CHECK_FALSE(w.bridge->presence().waiting(SessionKey{w.b.conversation_id, "b"}));
}

TEST_CASE("a wait cancelled after a send handed it a message gives the message back") {
  WaitWorld w;
  w.start_wait(w.b);
  World::ok(w.send(w.a, "keep me"));  // handed to the wait inside the send's transaction
  w.cancel = true;                    // the client cancels before the wait could answer
  w.io.poll();
  REQUIRE(w.answer);
  CHECK(World::refused(*w.answer).code == "cancelled");
  Json entry = test::as_json(w.bridge->ops().audit_entries(w.b.conversation_id, 1))["entries"][0];
  CHECK(entry["action"] == "wait_for_messages");
  CHECK(entry["outcome"] == "cancelled");
  CHECK(entry["details"]["unread_again"] == 1);
  Json got = World::ok(w.read(w.b));
  REQUIRE(got["messages"].size() == 1);
  CHECK(got["messages"][0]["message"] == "keep me");
}

namespace {

// Starts a wait of `c` by `who` with its own answer slot, and runs the loop until it blocks.
void spawn_wait(WaitWorld& w, const Caller& who, const Credentials& c,
                std::optional<Result<InboxPage>>* out) {
  asio::co_spawn(w.io,
                 keep(w.bridge->mailbox().wait_for_messages(who, c, std::nullopt, std::nullopt, 60,
                                                            nullptr, [] { return false; }),
                      out),
                 [](std::exception_ptr e) {
                   if (e) std::rethrow_exception(e);
                 });
  w.io.poll();
}

}  // namespace

TEST_CASE("a newer read of the seat on the same connection ends an abandoned wait, which takes "
          "nothing") {
  // Claude Code gives up on a silent call after its idle timeout without a cancel, then asks
  // again: the message must reach the new call, not the abandoned one.
  WaitWorld w;
  std::optional<Result<InboxPage>> abandoned, asked_again, other_connection;
  spawn_wait(w, w.bob, w.b, &abandoned);
  REQUIRE_FALSE(abandoned);
  spawn_wait(w, w.bob, w.b, &asked_again);
  REQUIRE(abandoned);  // ended at once, with nothing taken
  CHECK(World::ok(*abandoned)["messages"].empty());
  REQUIRE_FALSE(asked_again);
  // Another connection's wait of the same seat is not superseded by bob's.
  const Caller elsewhere{7, 700, 1000};
  spawn_wait(w, elsewhere, w.b, &other_connection);
  REQUIRE_FALSE(asked_again);
  REQUIRE_FALSE(other_connection);
  World::ok(w.send(w.a, "for the live call"));
  w.io.poll();
  const int with_message = (asked_again && World::ok(*asked_again)["messages"].size() == 1) +
                           (other_connection &&
                            World::ok(*other_connection)["messages"].size() == 1);
  CHECK(with_message == 1);  // one of the live waits has it; the abandoned one never did
  // check_messages on the connection supersedes too.
  std::optional<Result<InboxPage>> again;
  spawn_wait(w, w.bob, w.b, &again);
  REQUIRE_FALSE(again);
  World::ok(w.read(w.b));
  w.io.poll();
  REQUIRE(again);
  CHECK(World::ok(*again)["messages"].empty());
}

TEST_CASE("a superseded wait gives back a message a send had handed it; the newer wait gets it") {
  WaitWorld w;
  std::optional<Result<InboxPage>> abandoned, asked_again;
  spawn_wait(w, w.bob, w.b, &abandoned);
  World::ok(w.send(w.a, "do not lose me"));  // handed to the abandoned wait, not yet answered
  REQUIRE_FALSE(abandoned);
  spawn_wait(w, w.bob, w.b, &asked_again);  // the client asks again before that answer went out
  for (int i = 0; i < 10 && !asked_again; ++i) w.io.poll();
  REQUIRE(abandoned);
  CHECK(World::ok(*abandoned)["messages"].empty());
  REQUIRE(asked_again);
  Json got = World::ok(*asked_again);
  REQUIRE(got["messages"].size() == 1);
  CHECK(got["messages"][0]["message"] == "do not lose me");
  Json entries = test::as_json(w.bridge->ops().audit_entries(w.b.conversation_id, 5))["entries"];
  bool superseded = false;
  for (const auto& e : entries) {
    superseded = superseded || (e["action"] == "wait_for_messages" && e["outcome"] == "superseded");
  }
  CHECK(superseded);
}

TEST_CASE("iso8601 timestamps: UTC, milliseconds, agreeing with gmtime_r across four centuries") {
  CHECK(iso8601(0) == "1970-01-01T00:00:00.000Z");
  CHECK(iso8601(951782400000) == "2000-02-29T00:00:00.000Z");
  CHECK(iso8601(1764072245123) == "2025-11-25T12:04:05.123Z");
  CHECK(iso8601(4102444799999) == "2099-12-31T23:59:59.999Z");
  CHECK(iso8601(253402300799999) == "9999-12-31T23:59:59.999Z");
  std::mt19937_64 rng(1125);
  std::uniform_int_distribution<std::int64_t> any_ms(0, 253402300799999);
  for (int i = 0; i < 20000; ++i) {
    const std::int64_t ms = any_ms(rng);
    const std::time_t secs = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    ::gmtime_r(&secs, &tm);
    char want[64];
    std::snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(ms % 1000));
    CAPTURE(ms);
    REQUIRE(iso8601(ms) == want);
  }
}

TEST_CASE("wait_for_messages: its timeout is on the Clock (fake time, no sleeping)") {
  WaitWorld w;
  w.bridge->mailbox().progress_interval = std::chrono::milliseconds(1);
  w.start_wait(w.b);
  REQUIRE_FALSE(w.answer);
  w.io.run_for(std::chrono::milliseconds(20));
  REQUIRE_FALSE(w.answer);  // still waiting: 60 s of fake time have not passed
  w.clock.advance_s(61);
  for (int i = 0; i < 500 && !w.answer; ++i) w.io.run_for(std::chrono::milliseconds(10));
  REQUIRE(w.answer);
  Json page = World::ok(*w.answer);
  CHECK(page["messages"].empty());
  CHECK(page["has_more"] == false);
}

namespace {

// A call's context with nothing behind it: the handlers below use none of it.
struct NoContext : mcp::CallContext {
  Peer peer_;
  Json caps_ = Json::object();
  const Peer& peer() const override { return peer_; }
  const ClientHello* hello() const override { return nullptr; }
  void progress(std::string) override {}
  bool has_progress_token() const override { return false; }
  const Json& client_capabilities() const override { return caps_; }
  awaitable<std::optional<Json>> request_client(std::string, Json) override {
    co_return std::nullopt;
  }
  asio::cancellation_slot cancellation_slot() override { return {}; }
  bool cancelled() const override { return false; }
};

// Runs a tool handler to its result.
mcp::ToolResult run_tool(const mcp::ToolHandler& handler) {
  asio::io_context io;
  NoContext ctx;
  std::optional<mcp::ToolResult> out;
  asio::co_spawn(io, handler(Json::object(), ctx), [&](std::exception_ptr e, mcp::ToolResult r) {
    if (e) std::rethrow_exception(e);
    out = std::move(r);
  });
  io.run();
  REQUIRE(out);
  return *out;
}

}  // namespace

TEST_CASE(
    "a result settled at the commit: refused there, the call runs again, three times at most") {
  auto db = test::open_test_store();
  int runs = 0;
  // Settles on its `ok_from`th run (a team's store refusing a held message until then).
  auto handler = [&](int ok_from) {
    return tools::durable(*db,
                          [&runs, ok_from](Json, mcp::CallContext&) -> awaitable<tools::Answer> {
                            const int run = ++runs;
                            tools::Answer a;
                            a.settle = [run, ok_from]() -> std::optional<mcp::ToolResult> {
                              if (run < ok_from) return std::nullopt;
                              return mcp::ToolResult::ok(Json{{"run", run}});
                            };
                            co_return a;
                          });
  };
  mcp::ToolResult second = run_tool(handler(2));
  CHECK(runs == 2);
  CHECK_FALSE(second.is_error);
  CHECK(second.structured == Json{{"run", 2}});
  runs = 0;
  mcp::ToolResult never = run_tool(handler(99));
  CHECK(runs == 3);
  CHECK(never.is_error);
  CHECK(never.text.find("nothing of this call was stored") != std::string::npos);
  CHECK(never.text.find("kept changing") != std::string::npos);
}
