// agents-bench: issue 23's performance figures, measured on the Bridge itself (no socket, no
// JSON rendering) over a real on-disk database in a temp dir, with group commit as the daemon
// runs it (one loop turn per call: the call, then the group's COMMIT; synchronous = "normal",
// the daemon's default). docs/benchmarks.md quotes what it prints.
//
//   agents-bench [--rounds N] [--agents N] [--group N] [--conversations N] [--messages N]
//                [--dir DIR] [--json]
//
//  send:  send_to_partner (a token seat) vs send_message to one agent vs to a group of --group
//         agents (by name), interleaved round by round in a rotating order; µs per call.
//  list:  list_agents with --agents live bound agents.
//  inbox: a whole-inbox check (check_inbox with no conversation) of an agent in
//         --conversations conversations over --messages stored messages — "empty" (nothing
//         unread) and "one new" (a partner sent one message just before, untimed), interleaved.
//         The stored messages are bulk INSERTed in one transaction straight through
//         store::Database (not through the API, which would take many minutes), spread round
//         robin over the agent's conversations and marked read (members.read_up_to).
//  tell:  in the same rounds, the hooks' notice query (issue 24: HookNotices::tell) for that
//         agent — "quiet" (nothing new) before the empty check, "one new" before the check
//         that reads the new message.
// Every call is checked (ok, and the counts it should return): a wrong answer exits 1, so
// the tiny run in the test suite is a functional check. Nothing here asserts a time.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "daemon/store/sqlite_database.h"
#include "daemon/bridge/bridge.h"

namespace {

using namespace cb;
using namespace cb::bridge;
using Steady = std::chrono::steady_clock;

struct Options {
  int rounds = 2000;
  int agents = 1000;
  int group = 50;
  int conversations = 100;
  long messages = 1'000'000;
  std::string dir;
  bool json = false;
};

std::filesystem::path g_dir;  // the temp dir, removed on every way out

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "agents-bench: %s\n", what.c_str());
  std::error_code ec;
  if (!g_dir.empty()) std::filesystem::remove_all(g_dir, ec);
  std::exit(1);
}

template <class T>
const T& must(const Result<T>& r, const char* what) {
  if (!r.ok()) fail(std::string(what) + " failed: " + r.status().message());
  return *r;
}

struct Stats {
  double p50 = 0, p99 = 0;
};
Stats stats(std::vector<double> v) {
  if (v.empty()) return {};
  std::sort(v.begin(), v.end());
  auto at = [&](double p) {
    return v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))];
  };
  return {at(0.50), at(0.99)};
}

std::string loadavg() {
  std::ifstream f("/proc/loadavg");
  std::string a, b, c;
  f >> a >> b >> c;
  return a + " " + b + " " + c;
}

std::string random_key() {
  std::random_device rd;
  std::string k(32, '\0');
  for (auto& ch : k) ch = static_cast<char>('a' + rd() % 26);
  return k;
}

// One daemon's worth of state: a database file, group commit posted to a loop, a Bridge.
struct World {
  asio::io_context io;  // first: the database (and its sync thread) goes before the loop
  std::unique_ptr<store::SqliteDatabase> db;
  SystemClock clock;
  std::unique_ptr<Bridge> bridge;
  std::uint64_t next_connection = 1;

  explicit World(const std::filesystem::path& file) {
    auto opened = store::SqliteDatabase::open(file, store::Synchronous::kNormal);
    if (!opened.ok()) fail(opened.status().message());
    db = std::move(*opened);
    db->enable_group_commit(
        [this](std::function<void()> flush) { asio::post(io, std::move(flush)); });
    // Checkpoints as the daemon schedules them (daemon.cpp): after 100 ms without commits,
    // which back-to-back calls never leave, so under this load a thread syncs the WAL first.
    db->enable_idle_checkpoint(
        [this](std::chrono::milliseconds after, std::function<void()> fn) {
          auto timer = std::make_shared<asio::steady_timer>(io, after);
          timer->async_wait([timer, fn = std::move(fn)](const std::error_code& ec) {
            if (!ec) fn();
          });
        },
        std::chrono::milliseconds(100),
        [this](std::function<void()> fn) { asio::post(io, std::move(fn)); });
    Settings s;
    s.send_per_minute = s.send_per_hour = s.send_per_day = s.read_per_minute = 0;  // limits off
    bridge = std::make_unique<Bridge>(*db, clock, random_key(), s, redact::Redactor::builtin());
  }
  // The rest of the loop turn: the group's COMMIT.
  void turn() {
    io.restart();
    io.poll();
  }
  Caller bind(const std::string& name) {
    ClientIdentity who;
    who.client_pid = static_cast<pid_t>(100000 + next_connection);
    who.client_start = 42;
    who.project_dir = "/bench/" + name;
    who.agent = name;
    who.client = "agents-bench";
    Caller c;
    c.connection_id = next_connection++;
    c.pid = who.client_pid;
    c.agent = must(bridge->bind_agent(c.connection_id, who), "bind_agent").name;
    if (c.agent != name) fail("bound as " + c.agent + ", not " + name);
    turn();
    return c;
  }
  InboxPage inbox(const Caller& who, std::optional<std::int64_t> limit = std::nullopt) {
    InboxPage p =
        must(bridge->agent_mail().check_inbox(who, "", std::nullopt, limit), "check_inbox");
    turn();
    return p;
  }
};

template <class F>
double timed(World& w, F&& call) {
  auto t0 = Steady::now();
  call();
  w.turn();
  return std::chrono::duration<double, std::micro>(Steady::now() - t0).count();
}

std::string agent_name(char prefix, int i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%c%04d", prefix, i);
  return buf;
}

struct Figures {
  Stats partner, one, group, list, inbox_empty, inbox_one, tell_quiet, tell_one;
};

void bench_send(const Options& o, const std::filesystem::path& dir, Figures& f) {
  World w(dir / "send.db");
  const std::string body(200, 'x');
  // The token path: a two-seat conversation made by an unbound connection.
  Caller tok{w.next_connection++, 4242, static_cast<uid_t>(-1), "", false};
  CreatedConversation conv =
      must(w.bridge->mailbox().create_conversation(tok, "one", "two"), "create_conversation");
  w.turn();
  Credentials seat_a{conv.conversation_id, "a", conv.session_a_token};
  Credentials seat_b{conv.conversation_id, "b", conv.session_b_token};

  Caller sender = w.bind("sender");
  std::vector<Caller> members;
  AgentMail::Recipients one{{}, ""}, group{{}, ""};
  for (int i = 0; i + 1 < o.group; ++i) {  // the sender is the group's last member
    members.push_back(w.bind(agent_name('g', i)));
    group.names.push_back(members.back().agent);
  }
  one.names = {members.front().agent};

  auto& mb = w.bridge->mailbox();
  auto& am = w.bridge->agent_mail();
  auto partner = [&] { must(mb.send(tok, seat_a, body, "info", {}), "send_to_partner"); };
  auto direct = [&] {
    if (must(am.send_message(sender, one, body, "info", {}, std::nullopt), "send_message")
            .to.size() != 1)
      fail("send_message to one agent did not reach one");
  };
  auto to_group = [&] {
    if (must(am.send_message(sender, group, body, "info", {}, std::nullopt), "send_message")
            .to.size() != static_cast<std::size_t>(o.group - 1))
      fail("send_message to the group did not reach every member");
  };
  // The first of each makes its conversation; not timed.
  partner();
  direct();
  to_group();
  w.turn();

  std::vector<double> t_partner, t_one, t_group;
  for (int r = 0; r < o.rounds; ++r) {
    for (int k = 0; k < 3; ++k) {
      switch ((r + k) % 3) {
        case 0:
          t_partner.push_back(timed(w, partner));
          break;
        case 1:
          t_one.push_back(timed(w, direct));
          break;
        default:
          t_group.push_back(timed(w, to_group));
          break;
      }
    }
    // The readers keep up (untimed), as a live partner would.
    if (r % 50 == 49 || r + 1 == o.rounds) {
      must(mb.check_messages(tok, seat_b, std::nullopt, 1000), "check_messages");
      for (const auto& m : members) w.inbox(m, 1000);
      w.turn();
    }
  }
  f.partner = stats(t_partner);
  f.one = stats(t_one);
  f.group = stats(t_group);
}

void bench_list(const Options& o, const std::filesystem::path& dir, Figures& f) {
  World w(dir / "list.db");
  std::vector<Caller> all;
  for (int i = 0; i < o.agents; ++i) all.push_back(w.bind(agent_name('a', i)));
  std::vector<double> t;
  for (int r = 0; r < o.rounds; ++r) {
    const Caller& me = all[static_cast<std::size_t>(r) % all.size()];
    t.push_back(timed(w, [&] {
      if (must(w.bridge->agent_mail().list_agents(me, false), "list_agents").agents.size() !=
          static_cast<std::size_t>(o.agents))
        fail("list_agents did not list every agent");
    }));
  }
  f.list = stats(t);
}

void bench_inbox(const Options& o, const std::filesystem::path& dir, Figures& f) {
  World w(dir / "inbox.db");
  Caller reader = w.bind("reader");
  std::vector<Caller> partners;
  std::vector<std::string> conversations;
  for (int i = 0; i < o.conversations; ++i) {
    partners.push_back(w.bind(agent_name('p', i)));
    conversations.push_back(must(w.bridge->agent_mail().send_message(
                                     partners.back(), AgentMail::Recipients{{"reader"}, ""},
                                     "hello", "info", {}, std::nullopt),
                                 "send_message")
                                .conversation_id);
    w.turn();
  }
  if (w.inbox(reader, 1000).messages.size() != partners.size()) fail("first inbox incomplete");

  // The bulk fill: one transaction, straight through the store (see the header).
  auto fill_start = Steady::now();
  w.turn();
  w.db->run("BEGIN IMMEDIATE");
  {
    auto& ins = w.db->stmt(
        "INSERT INTO messages (conversation_id, sender, recipient, body, action_type,"
        " created_ms) VALUES (?, ?, '*', ?, 'info', ?)");
    const std::string body(200, 'm');
    const std::int64_t now = w.clock.now_ms();
    for (long i = 0; i < o.messages; ++i) {
      const auto c = static_cast<std::size_t>(i) % conversations.size();
      ins.reset();
      ins.bind(1, conversations[c]);
      ins.bind(2, partners[c].agent);
      ins.bind(3, body);
      ins.bind(4, now);
      ins.exec();
    }
    ins.reset();
  }
  w.db->run(
      "UPDATE members SET read_up_to = (SELECT MAX(id) FROM messages) WHERE conversation_id IN"
      " (SELECT conversation_id FROM members WHERE agent = 'reader')");
  w.db->run("COMMIT");
  w.db->run("ANALYZE");
  const double fill_s = std::chrono::duration<double>(Steady::now() - fill_start).count();
  if (!o.json) std::printf("filled %ld messages in %.1f s\n", o.messages, fill_s);

  std::vector<double> t_empty, t_one, t_tell_quiet, t_tell_one;
  for (int r = 0; r < o.rounds; ++r) {
    for (int k = 0; k < 2; ++k) {
      if ((r + k) % 2 == 0) {
        t_tell_quiet.push_back(timed(w, [&] {
          if (w.bridge->hooks().tell("reader")) fail("a quiet inbox got a notice");
        }));
        t_empty.push_back(timed(w, [&] {
          if (!must(w.bridge->agent_mail().check_inbox(reader, "", std::nullopt, std::nullopt),
                    "check_inbox")
                   .messages.empty())
            fail("an inbox with nothing unread returned messages");
        }));
      } else {
        const Caller& from = partners[static_cast<std::size_t>(r) % partners.size()];
        must(w.bridge->agent_mail().send_message(from, AgentMail::Recipients{{"reader"}, ""}, "new",
                                              "info", {}, std::nullopt),
             "send_message");
        w.turn();
        t_tell_one.push_back(timed(w, [&] {
          if (!w.bridge->hooks().tell("reader")) fail("one new message got no notice");
        }));
        t_one.push_back(timed(w, [&] {
          if (must(w.bridge->agent_mail().check_inbox(reader, "", std::nullopt, std::nullopt),
                   "check_inbox")
                  .messages.size() != 1)
            fail("the inbox did not return the one new message");
        }));
      }
    }
  }
  f.inbox_empty = stats(t_empty);
  f.inbox_one = stats(t_one);
  f.tell_quiet = stats(t_tell_quiet);
  f.tell_one = stats(t_tell_one);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) fail(a + " needs a value");
      return argv[++i];
    };
    if (a == "--rounds")
      o.rounds = std::stoi(next());
    else if (a == "--agents")
      o.agents = std::stoi(next());
    else if (a == "--group")
      o.group = std::stoi(next());
    else if (a == "--conversations")
      o.conversations = std::stoi(next());
    else if (a == "--messages")
      o.messages = std::stol(next());
    else if (a == "--dir")
      o.dir = next();
    else if (a == "--json")
      o.json = true;
    else
      fail("unknown argument " + a + " (see the head of tests/bench/agents_bench.cpp)");
  }
  if (o.rounds < 1 || o.agents < 1 || o.group < 2 || o.conversations < 1 || o.messages < 0)
    fail("sizes must be positive");
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse(argc, argv);
  spdlog::set_level(spdlog::level::warn);  // one info line per bound agent otherwise
  std::string base = o.dir.empty() ? std::filesystem::temp_directory_path().string() : o.dir;
  std::string tmpl = base + "/agents-bench.XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) fail("cannot make a temp dir under " + base);
  const std::filesystem::path dir = tmpl;
  g_dir = dir;
  const std::string load_before = loadavg();

  Figures f;
  bench_send(o, dir, f);
  bench_list(o, dir, f);
  bench_inbox(o, dir, f);
  const std::string load_after = loadavg();
  std::filesystem::remove_all(dir);

  if (o.json) {
    std::printf(
        "{\"rounds\": %d, \"group\": %d, \"agents\": %d, \"conversations\": %d, \"messages\": %ld,"
        " \"send_to_partner_p50_us\": %.1f, \"send_to_partner_p99_us\": %.1f,"
        " \"send_message_one_p50_us\": %.1f, \"send_message_one_p99_us\": %.1f,"
        " \"send_message_group_p50_us\": %.1f, \"send_message_group_p99_us\": %.1f,"
        " \"list_agents_p50_us\": %.1f, \"list_agents_p99_us\": %.1f,"
        " \"inbox_empty_p50_us\": %.1f, \"inbox_empty_p99_us\": %.1f,"
        " \"inbox_one_p50_us\": %.1f, \"inbox_one_p99_us\": %.1f,"
        " \"tell_quiet_p50_us\": %.1f, \"tell_quiet_p99_us\": %.1f,"
        " \"tell_one_p50_us\": %.1f, \"tell_one_p99_us\": %.1f,"
        " \"load_before\": \"%s\", \"load_after\": \"%s\"}\n",
        o.rounds, o.group, o.agents, o.conversations, o.messages, f.partner.p50, f.partner.p99,
        f.one.p50, f.one.p99, f.group.p50, f.group.p99, f.list.p50, f.list.p99, f.inbox_empty.p50,
        f.inbox_empty.p99, f.inbox_one.p50, f.inbox_one.p99, f.tell_quiet.p50, f.tell_quiet.p99,
        f.tell_one.p50, f.tell_one.p99, load_before.c_str(), load_after.c_str());
    return 0;
  }
  std::printf("load average before: %s, after: %s\n", load_before.c_str(), load_after.c_str());
  std::printf("%-44s %10s %10s\n", "call (µs, call + its group commit)", "p50", "p99");
  auto row = [](const std::string& what, const Stats& s) {
    std::printf("%-44s %10.1f %10.1f\n", what.c_str(), s.p50, s.p99);
  };
  row("send_to_partner", f.partner);
  row("send_message to 1 agent", f.one);
  row("send_message to a group of " + std::to_string(o.group), f.group);
  row("list_agents, " + std::to_string(o.agents) + " live", f.list);
  row("whole inbox, nothing unread", f.inbox_empty);
  row("whole inbox, 1 new", f.inbox_one);
  row("hook notice (tell), nothing new", f.tell_quiet);
  row("hook notice (tell), 1 new", f.tell_one);
  return 0;
}
