// The approval queue of command execution, with a fake clock (no sleeping), and the rules of
// enable_yolo_mode that need no sandbox.
#include <doctest/doctest.h>
#include <stdlib.h>
#include <unistd.h>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <chrono>
#include <filesystem>
#include <optional>

#include "daemon/bridge/approvals.h"
#include "daemon/bridge/bridge.h"
#include "tests/unit/product_results.h"
#include "tests/unit/test_store.h"

using namespace cb;
using namespace cb::bridge;

namespace {

ApprovalRequest request(const std::string& conv = "conv_0123456789abcdef",
                        const std::string& session = "a") {
  ApprovalRequest r;
  r.conversation_id = conv;
  r.session_id = session;
  r.role = "backend_developer";
  r.argv = {"npm", "test"};
  r.workspace = "/srv/proj";
  r.mode = "restricted";
  r.timeout_seconds = 30;
  return r;
}

struct Waiter {
  int woken = 0;
  std::function<void()> wake() {
    return [this] { ++woken; };
  }
};

}  // namespace

TEST_CASE("approvals: add, list oldest first, decide, then withdraw") {
  FakeClock clock;
  ApprovalQueue q(clock);
  Waiter w1, w2;
  const Approval& first = q.add("apr_00000001", request(), 300'000, w1.wake());
  CHECK(first.state == ApprovalState::kPending);
  CHECK(first.expires_ms == first.created_ms + 300'000);
  clock.advance_s(1);
  q.add("apr_00000002", request("conv_0123456789abcdef", "b"), 300'000, w2.wake());

  auto list = q.pending();
  REQUIRE(list.size() == 2);
  CHECK(list[0].id == "apr_00000001");
  CHECK(list[1].id == "apr_00000002");
  CHECK(list[0].request.argv == std::vector<std::string>{"npm", "test"});
  CHECK(q.pending_of("conv_0123456789abcdef", "a") == 1);

  CHECK(q.decide("apr_00000001", true, "uid 1000 pid 42") == ApprovalQueue::Outcome::kDecided);
  CHECK(w1.woken == 1);
  CHECK(w2.woken == 0);
  const Approval* a = q.find("apr_00000001");
  REQUIRE(a != nullptr);
  CHECK(a->state == ApprovalState::kApproved);
  CHECK(a->decided_by == "uid 1000 pid 42");
  // Decided: no longer listed, and cannot be decided twice.
  CHECK(q.pending().size() == 1);
  CHECK(q.decide("apr_00000001", false, "x") == ApprovalQueue::Outcome::kAlreadyDecided);
  CHECK(w1.woken == 1);

  CHECK(q.decide("apr_00000002", false, "uid 1000 pid 43") == ApprovalQueue::Outcome::kDecided);
  CHECK(q.find("apr_00000002")->state == ApprovalState::kDenied);
  CHECK(w2.woken == 1);

  q.withdraw("apr_00000001");
  q.withdraw("apr_00000002");
  CHECK(q.size() == 0);
  CHECK(q.find("apr_00000001") == nullptr);
}

TEST_CASE("approvals: an unknown id decides nothing") {
  FakeClock clock;
  ApprovalQueue q(clock);
  CHECK(q.decide("apr_deadbeef", true, "x") == ApprovalQueue::Outcome::kUnknown);
  CHECK(q.find("apr_deadbeef") == nullptr);
}

TEST_CASE("approvals: expiry by the clock, without sleeping") {
  FakeClock clock;
  ApprovalQueue q(clock);
  Waiter w1, w2, w3;
  q.add("apr_00000001", request(), 10'000, w1.wake());
  q.add("apr_00000002", request(), 20'000, w2.wake());
  q.add("apr_00000003", request(), 10'000, w3.wake());
  clock.advance_ms(9'999);
  CHECK(q.pending().size() == 3);
  CHECK(w1.woken == 0);

  clock.advance_ms(1);
  // Listing expires what is due and wakes its waiters.
  auto list = q.pending();
  REQUIRE(list.size() == 1);
  CHECK(list[0].id == "apr_00000002");
  CHECK(w1.woken == 1);
  CHECK(q.find("apr_00000001")->state == ApprovalState::kExpired);

  // An expired approval cannot be approved any more.
  CHECK(q.decide("apr_00000003", true, "x") == ApprovalQueue::Outcome::kExpired);
  CHECK(q.find("apr_00000003")->state == ApprovalState::kExpired);
  CHECK(w3.woken == 1);

  // Deciding exactly at expiry is too late too; the waiter is woken once.
  clock.advance_ms(10'000);
  CHECK(q.decide("apr_00000002", true, "x") == ApprovalQueue::Outcome::kExpired);
  CHECK(w2.woken == 1);
  CHECK(q.expire_due() == 0);
}

TEST_CASE("approvals: the waiter's own deadline expires it without a wake-up") {
  FakeClock clock;
  ApprovalQueue q(clock);
  Waiter w;
  q.add("apr_00000001", request(), 300'000, w.wake());
  q.expire("apr_00000001");
  CHECK(q.find("apr_00000001")->state == ApprovalState::kExpired);
  CHECK(w.woken == 0);
  CHECK(q.pending().empty());
  CHECK(q.decide("apr_00000001", true, "x") == ApprovalQueue::Outcome::kExpired);
}

TEST_CASE("approvals: a cancelled call withdraws its approval, which can then not be approved") {
  FakeClock clock;
  ApprovalQueue q(clock);
  Waiter w;
  q.add("apr_00000001", request(), 300'000, w.wake());
  CHECK(q.pending_of("conv_0123456789abcdef", "a") == 1);
  q.withdraw("apr_00000001");
  CHECK(q.pending().empty());
  CHECK(q.pending_of("conv_0123456789abcdef", "a") == 0);
  CHECK(q.decide("apr_00000001", true, "uid 1000 pid 42") == ApprovalQueue::Outcome::kUnknown);
  CHECK(w.woken == 0);
  // Withdrawing twice, or something unknown, is harmless.
  q.withdraw("apr_00000001");
  q.withdraw("apr_ffffffff");
}

TEST_CASE("approval states have stable names") {
  CHECK(approval_state_name(ApprovalState::kPending) == "pending");
  CHECK(approval_state_name(ApprovalState::kApproved) == "approved");
  CHECK(approval_state_name(ApprovalState::kDenied) == "denied");
  CHECK(approval_state_name(ApprovalState::kExpired) == "expired");
}

// ---- enable_yolo_mode through the Bridge (no sandbox needed) ----

namespace {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "cb-approvals-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path = std::filesystem::canonical(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

struct ExecWorld {
  std::unique_ptr<store::Database> db = test::open_test_store();
  FakeClock clock;
  std::unique_ptr<Bridge> bridge;
  Caller alice{1, 100, 1000};
  Caller bob{2, 200, 1000};
  Credentials a, b;
  TempDir root;

  explicit ExecWorld(bool enabled, exec::Mode ceiling = exec::Mode::kRestricted) {
    bridge = std::make_unique<Bridge>(*db, clock, std::string(32, 'k'), Settings{},
                                      redact::Redactor::builtin());
    ExecSettings s;
    s.enabled = enabled;
    s.max_mode = ceiling;
    s.workspaces = {root.path};
    s.max_timeout_seconds = 120;
    bridge->exec().reconfigure(s);
    Json conv = test::ok_json(bridge->mailbox().create_conversation(alice, "backend_dev", "frontend_dev"));
    a = {conv["conversation_id"], "a", conv["session_a_token"]};
    b = {conv["conversation_id"], "b", conv["session_b_token"]};
  }
  Result<ModeSet> enable(const Credentials& c, const std::string& mode,
                std::optional<std::string> ws = std::nullopt,
                std::optional<std::int64_t> timeout = std::nullopt,
                std::optional<bool> sandbox = std::nullopt) {
    return bridge->exec().enable_exec(alice, c, mode, ws, timeout, sandbox);
  }
  std::string mode_of() {
    Json list = test::as_json(bridge->ops().list_conversations());
    return list["conversations"][0]["exec_mode"];
  }
  Json inbox(const Credentials& c) { return test::ok_json(bridge->mailbox().check_messages(bob, c, {}, {}))["messages"]; }
};

// Stores a coroutine's answer (its state in parameters: GCC 12).
awaitable<void> keep(awaitable<Result<CommandRun>> call, std::optional<Result<CommandRun>>* out) {
  *out = co_await std::move(call);
}

template <class T>
test::Refusal refused(const Result<T>& r) {
  return test::refusal_of(r);
}

}  // namespace

TEST_CASE("enable_yolo_mode: off unless the config turns it on; the refusal is no recipe") {
  ExecWorld w(false);
  test::Refusal r = refused(w.enable(w.a, "safe"));
  CHECK(r.code == "exec_disabled");
  CHECK(r.message.find("only a person can enable it") != std::string::npos);
  CHECK(r.message.find("Ask your user") != std::string::npos);
  // The how-to (file, keys, reload) is for the person, in the docs: not a tool result an agent
  // with a shell could follow (issue 22, item 6).
  for (const char* recipe : {"[yolo]", "enabled = true", "config.toml", "systemctl", "SIGHUP",
                             "workspaces", "max_mode"}) {
    CHECK_MESSAGE(r.message.find(recipe) == std::string::npos, recipe);
  }
  CHECK(w.mode_of() == "off");
}

TEST_CASE("enable_yolo_mode: authenticated, bounded by the ceiling, sandbox not optional") {
  ExecWorld w(true, exec::Mode::kRestricted);
  Credentials bad = w.a;
  bad.token = std::string(64, '0');
  CHECK(refused(w.enable(bad, "safe")).code == "bad_token");
  CHECK(w.mode_of() == "off");

  test::Refusal above = refused(w.enable(w.a, "yolo"));
  CHECK(above.code == "above_ceiling");
  CHECK(above.message.find("restricted") != std::string::npos);
  CHECK(refused(w.enable(w.a, "safe", std::nullopt, std::nullopt, false)).code ==
        "sandbox_required");
  CHECK(refused(w.enable(w.a, "safe", std::nullopt, 121)).code == "timeout_too_long");
  CHECK(refused(w.enable(w.a, "safe", std::string("/"))).code == "bad_workspace");
  CHECK(w.mode_of() == "off");

  Json ok = test::ok_json(w.enable(w.a, "restricted"));
  CHECK(ok["mode"] == "restricted");
  CHECK(ok["previous_mode"] == "off");
  CHECK(ok["workspace"] == w.root.path.string());  // the first root by default
  CHECK(ok["timeout"] == 30);
  CHECK(ok["sandbox"] == true);
  CHECK(w.mode_of() == "restricted");
  // The partner is told, by "system".
  Json msgs = w.inbox(w.b);
  REQUIRE(msgs.size() == 1);
  CHECK(msgs[0]["from"] == "system");
  CHECK(msgs[0]["message"].get<std::string>().find("session a (backend_dev) enabled restricted") !=
        std::string::npos);

  // Lowering is allowed, by either session.
  Json lower = test::ok_json(w.enable(w.b, "safe"));
  CHECK(lower["previous_mode"] == "restricted");
  CHECK(w.mode_of() == "safe");
}

TEST_CASE("operator: deciding an unknown approval is refused and audited") {
  ExecWorld w(true);
  Caller op{9, 4242, 1000};
  Result<ApprovalDecision> r = w.bridge->exec().decide_approval("apr_00000000", true, op, std::nullopt);
  CHECK(refused(r).code == "unknown_approval");
  Json audit = test::as_json(w.bridge->ops().audit_entries("", 1));
  CHECK(audit["entries"][0]["action"] == "approval_decide");
  CHECK(audit["entries"][0]["outcome"] == "refused");
  CHECK(test::as_json(w.bridge->exec().approvals())["approvals"].empty());
}

TEST_CASE("execute_command: the approval's deadline is on the Clock (fake time, no sleeping)") {
  ExecWorld w(true);
  test::ok_json(w.enable(w.a, "safe"));
  w.bridge->exec().progress_interval = std::chrono::milliseconds(1);
  asio::io_context io;
  std::optional<Result<CommandRun>> answer;
  std::vector<std::string> progress;
  ExecHooks hooks;
  hooks.progress = [&progress](const std::string& text) { progress.push_back(text); };
  hooks.cancelled = [] { return false; };
  asio::co_spawn(io, keep(w.bridge->exec().execute_command(w.alice, w.a, "ls", std::move(hooks)),
                          &answer),
                 [](std::exception_ptr e) {
                   if (e) std::rethrow_exception(e);
                 });
  io.run_for(std::chrono::milliseconds(20));
  REQUIRE_FALSE(answer);  // queued, waiting for a person
  REQUIRE(test::as_json(w.bridge->exec().approvals())["approvals"].size() == 1);
  // 300 s of fake time pass (the default approval timeout) in a moment of real time.
  w.clock.advance_s(301);
  for (int i = 0; i < 500 && !answer; ++i) io.run_for(std::chrono::milliseconds(10));
  REQUIRE(answer);
  test::Refusal r = refused(*answer);
  CHECK(r.code == "expired");
  CHECK(r.message.find("no person approved the command within 300 s") != std::string::npos);
  CHECK(test::as_json(w.bridge->exec().approvals())["approvals"].empty());
  CHECK_FALSE(progress.empty());
}
