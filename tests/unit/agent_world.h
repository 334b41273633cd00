#pragma once

#include <doctest/doctest.h>
#include <sys/types.h>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "daemon/bridge/bridge.h"
#include "tests/unit/product_results.h"
#include "tests/unit/test_store.h"

// The world the unit tests of named agents share (agents_test, hooks_test, operator_test): a
// Bridge over a fresh store (open_test_store: SQLite in memory, or PostgreSQL under with-pg)
// with a fake clock, an io_context that runs its waits and, when asked, its group commits, and
// agents bound as the shim's hello binds them. No sockets.
namespace cb::test {

using Names = std::vector<std::string>;

inline awaitable<void> keep_page(awaitable<Result<cb::bridge::InboxPage>> call,
                                 std::optional<Result<cb::bridge::InboxPage>>* out) {
  *out = co_await std::move(call);
}

struct AgentWorld {
  std::unique_ptr<store::Database> db = open_test_store();
  FakeClock clock;
  std::unique_ptr<cb::bridge::Bridge> bridge;
  asio::io_context io;
  std::uint64_t next_connection = 1;
  cb::bridge::BoundAgent last_bound;

  // Rate limits as `s` has them (unlimited() turns them off); with group_commit, commits wait
  // for a turn of `io`, as in the daemon.
  explicit AgentWorld(cb::bridge::Settings s, bool group_commit = false) {
    bridge = std::make_unique<cb::bridge::Bridge>(*db, clock, std::string(32, 'k'), s,
                                                  redact::Redactor::builtin());
    if (group_commit) {
      enable_group_commit(
          *db, [this](std::function<void()> flush) { asio::post(io, std::move(flush)); });
    }
  }
  static cb::bridge::Settings unlimited(cb::bridge::Settings s = cb::bridge::Settings{}) {
    s.send_per_minute = s.send_per_hour = s.send_per_day = 0;
    return s;
  }

  // What a shim's hello says for a client process `pid` (0: a new one per connection).
  cb::bridge::ClientIdentity identity(const std::string& project, const std::string& chosen = "",
                                      pid_t pid = 0, std::uint64_t start = 42,
                                      const std::string& session = "") const {
    cb::bridge::ClientIdentity who;
    who.client_pid = pid ? pid : static_cast<pid_t>(1000 + next_connection);
    who.client_start = start;
    who.project_dir = project;
    who.agent = chosen;
    who.session_id = session;
    who.client = "claude-code";
    return who;
  }
  // A new connection bound to an agent as `who` asks; the shim is the client's child.
  cb::bridge::Caller bind(const cb::bridge::ClientIdentity& who) {
    cb::bridge::Caller c;
    c.connection_id = next_connection++;
    c.pid = who.client_pid + 1;
    auto bound = bridge->bind_agent(c.connection_id, who);
    REQUIRE(bound.ok());
    c.agent = bound->name;
    last_bound = *bound;
    return c;
  }
  // As the send_message tool does: a receipt whose id comes with the commit (a team's store)
  // is completed once its group committed, and a send the commit refused runs again.
  Result<cb::bridge::MessageReceipt> send_message(
      const cb::bridge::Caller& from, const Names& to, const std::string& text,
      const std::string& action = "info", std::optional<std::int64_t> reply_to = std::nullopt) {
    for (int run = 1;; ++run) {
      auto r = bridge->agent_mail().send_message(from, cb::bridge::AgentMail::Recipients{to, ""},
                                                 text, action, {}, reply_to);
      if (!r || !r->stored_id) return r;
      db->flush();
      poll();
      const std::int64_t id = r->stored_id->value_or(0);
      if (id != 0 || run == 3) {
        r->message_id = id;
        return r;
      }
    }
  }
  static Names bodies(const nlohmann::json& page) {
    Names out;
    for (const auto& m : page["messages"]) out.push_back(m["message"]);
    return out;
  }
  // A whole-inbox wait_for_messages of `who`, running on `io`; its answer lands in `out`.
  void start_wait(const cb::bridge::Caller& who,
                  std::optional<Result<cb::bridge::InboxPage>>* out) {
    asio::co_spawn(io,
                   keep_page(bridge->agent_mail().wait_inbox(who, "", std::nullopt, std::nullopt,
                                                             300, nullptr, [] { return false; }),
                             out),
                   [](std::exception_ptr e) {
                     if (e) std::rethrow_exception(e);
                   });
    poll();
  }
  void run_until(const std::optional<Result<cb::bridge::InboxPage>>& answer) {
    for (int i = 0; i < 500 && !answer; ++i) run_for_ms(2);
  }
  // One pass of the loop; an io_context that ran out of work stops until restarted.
  void poll() {
    io.restart();
    io.poll();
  }
  void run_for_ms(int ms) {
    io.restart();
    io.run_for(std::chrono::milliseconds(ms));
  }
};

}  // namespace cb::test
