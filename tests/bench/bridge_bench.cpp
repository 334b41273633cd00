// bridge-bench: a load generator for a running claude-bridged, speaking its socket protocol
// directly or through real claude-bridge-shim processes. See docs/benchmarks.md for the method
// and tests/bench/run-all for the configurations the committed figures come from.
//
// Phases (each optional, in this order):
//   send   every sender sends --messages messages back to back (one in flight per session) to
//          its partner, whose wait_for_messages loop drains them (unless --no-drain): send
//          round trip (request written → reply read) percentiles and sends/s over the phase
//          (after --warmup sends per sender). --one-way: only side a of each pair sends.
//   wake   ping-pong per conversation: each side sends, then calls wait_for_messages; the
//          partner replies only after its own wait returned, so the wait of the receiver is
//          always in flight before the send. Wake latency = send request written → the
//          receiver's wait_for_messages result read.
//   check  (with --creds, against a pre-filled database) the sender sends one message, the
//          receiver calls check_messages: check_messages round trip percentiles.
// --idle-waiters K parks K extra sessions in wait_for_messages during all phases.
// --agents makes every session a named agent (issue 23): it says the shim's hello line first
//          (bench-N; through --via-shim, the shim says it with --agent bench-N), the pairs send
//          with send_message {to: the partner's name} instead of send_to_partner, and waits
//          are whole-inbox wait_for_messages with no credentials. No check phase.
// --shim-start R spawns R shims one after the other and times spawn → first reply.
// --socket-dir-b DIR: side b of every pair (and every second idle waiter) connects to a second
//          daemon's socket dir, side a to --socket-dir: two daemons of one team (issue 27,
//          sharing a PostgreSQL store and server.key) stand in for two machines, so every send
//          and wake crosses daemons. Works with --agents and with token conversations (created
//          on daemon a; b calls daemon b with its token).
#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <string>
#include <vector>

#include "tests/bench/bench_client.h"

using namespace cb::bench;

namespace {

struct Options {
  std::string socket_dir;
  std::string socket_dir_b;  // empty: every session on socket_dir
  int sessions = 2;
  int messages = 1000;
  int idle_waiters = 0;
  int message_bytes = 200;
  int warmup = 20;
  int shim_start = 0;
  bool one_way = false;
  bool no_drain = false;
  bool agents = false;
  bool json = false;
  std::string via_shim;
  std::string creds_file;
  std::set<std::string> phases;
};

[[noreturn]] void usage(int code) {
  std::fputs(
      "Usage: bridge-bench --socket-dir DIR [--socket-dir-b DIR] [--sessions N] [--messages M] [--via-shim PATH]\n"
      "                    [--idle-waiters K] [--phases send,wake,check] [--one-way]\n"
      "                    [--no-drain] [--agents]\n"
      "                    [--message-bytes B] [--warmup W] [--creds FILE] [--shim-start R]\n"
      "                    [--json]\n"
      "Drives a running claude-bridged (rate limits off in its config) with N sessions in N/2\n"
      "conversations. Default phases: send,wake (check needs --creds, written by\n"
      "tests/bench/fill_db.py). --sessions 0 only measures the daemon (and shims with\n"
      "--shim-start).\n",
      code ? stderr : stdout);
  std::exit(code);
}

Options parse(int argc, char** argv) {
  Options o;
  std::string phases = "send,wake";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "bridge-bench: %s needs a value\n", a.c_str());
        usage(2);
      }
      return argv[++i];
    };
    auto number = [&]() -> int {
      const std::string v = value();
      char* end = nullptr;
      const long n = std::strtol(v.c_str(), &end, 10);
      if (*end || n < 0 || n > 10'000'000) {
        std::fprintf(stderr, "bridge-bench: %s needs a non-negative integer\n", a.c_str());
        usage(2);
      }
      return static_cast<int>(n);
    };
    if (a == "--socket-dir") o.socket_dir = value();
    else if (a == "--socket-dir-b") o.socket_dir_b = value();
    else if (a == "--sessions") o.sessions = number();
    else if (a == "--messages") o.messages = number();
    else if (a == "--idle-waiters") o.idle_waiters = number();
    else if (a == "--message-bytes") o.message_bytes = number();
    else if (a == "--warmup") o.warmup = number();
    else if (a == "--shim-start") o.shim_start = number();
    else if (a == "--via-shim") o.via_shim = value();
    else if (a == "--creds") o.creds_file = value();
    else if (a == "--phases") phases = value();
    else if (a == "--one-way") o.one_way = true;
    else if (a == "--no-drain") o.no_drain = true;
    else if (a == "--agents") o.agents = true;
    else if (a == "--json") o.json = true;
    else if (a == "--help" || a == "-h") usage(0);
    else {
      std::fprintf(stderr, "bridge-bench: unknown option %s\n", a.c_str());
      usage(2);
    }
  }
  if (o.socket_dir.empty()) usage(2);
  if (o.sessions % 2) {
    std::fputs("bridge-bench: --sessions must be even (two per conversation)\n", stderr);
    usage(2);
  }
  std::size_t start = 0;
  while (start <= phases.size()) {
    const std::size_t comma = phases.find(',', start);
    const std::string p = phases.substr(start, comma == std::string::npos ? std::string::npos
                                                                          : comma - start);
    if (!p.empty()) {
      if (p != "send" && p != "wake" && p != "check") {
        std::fprintf(stderr, "bridge-bench: unknown phase %s\n", p.c_str());
        usage(2);
      }
      o.phases.insert(p);
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (o.phases.count("check") && o.agents) {
    std::fputs("bridge-bench: the check phase reads token conversations; drop --agents\n", stderr);
    usage(2);
  }
  if (o.phases.count("check") && o.creds_file.empty()) {
    std::fputs("bridge-bench: the check phase needs --creds FILE\n", stderr);
    usage(2);
  }
  if (!o.socket_dir_b.empty() && o.phases.count("check")) {
    std::fputs("bridge-bench: the check phase reads a filled SQLite database; drop --socket-dir-b\n",
               stderr);
    usage(2);
  }
  if (o.shim_start && o.via_shim.empty()) {
    std::fputs("bridge-bench: --shim-start needs --via-shim PATH\n", stderr);
    usage(2);
  }
  return o;
}

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "bridge-bench: %s\n", why.c_str());
  std::exit(1);
}

void raise_fd_limit() {
  rlimit r{};
  if (::getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &r);
  }
}

// One MCP client: an endpoint and, once in a conversation, its credentials.
struct Session {
  std::unique_ptr<Endpoint> ep;
  Json creds;          // conversation_id, session_id, token (empty for --agents)
  std::string name;    // --agents: the agent's name
  int partner = -1;    // index in the same vector
  // send phase
  int to_send = 0;
  int acked = 0;
  std::int64_t expect = 0;     // messages this session must receive
  std::int64_t received = 0;
  std::int64_t last_id = 0;
  bool draining = false;
};

class Bench {
 public:
  explicit Bench(Options o) : o_(std::move(o)) {
    socket_path_ = o_.socket_dir + "/mcp.sock";
    socket_dir_b_ = o_.socket_dir_b.empty() ? o_.socket_dir : o_.socket_dir_b;
    socket_path_b_ = socket_dir_b_ + "/mcp.sock";
    payload_.assign(static_cast<std::size_t>(o_.message_bytes), 'x');
    const std::string words = "benchmark message from the load generator; plain prose only. ";
    for (std::size_t i = 0; i < payload_.size(); ++i) payload_[i] = words[i % words.size()];
  }

  int run() {
    daemon_pid_ = listener_pid(socket_path_);
    if (daemon_pid_ <= 0) die("nothing answers on " + socket_path_);
    if (!o_.socket_dir_b.empty()) {
      daemon_b_pid_ = listener_pid(socket_path_b_);
      if (daemon_b_pid_ <= 0) die("nothing answers on " + socket_path_b_);
      if (daemon_b_pid_ == daemon_pid_) die("--socket-dir and --socket-dir-b reach one daemon");
      out_["daemon_b_pid"] = daemon_b_pid_;
      out_["daemon_b_rss_start_kib"] = proc_status_kib(daemon_b_pid_, "VmRSS");
    }
    out_["daemon_pid"] = daemon_pid_;
    out_["daemon_rss_start_kib"] = proc_status_kib(daemon_pid_, "VmRSS");
    // RSS counts every resident page of the libraries it maps; PSS divides shared pages among
    // the processes mapping them; private pages (USS) are mapped by the daemon alone, including
    // library pages nothing else happens to map right now; anonymous pages are its heap/stacks.
    out_["daemon_pss_start_kib"] = proc_pss_kib(daemon_pid_);
    out_["daemon_private_start_kib"] = proc_private_kib(daemon_pid_);
    out_["daemon_anon_start_kib"] = proc_status_kib(daemon_pid_, "RssAnon");
    if (o_.shim_start) measure_shim_start();
    if (o_.sessions > 0 || o_.idle_waiters > 0) {
      const std::int64_t t0 = now_ns();
      connect_all();
      out_["setup_s"] = static_cast<double>(now_ns() - t0) / 1e9;
    }
    const double daemon_cpu0 = proc_cpu_seconds(daemon_pid_);
    const double daemon_b_cpu0 = daemon_b_pid_ > 0 ? proc_cpu_seconds(daemon_b_pid_) : 0.0;
    const double client_cpu0 = self_cpu();
    if (o_.sessions > 0 && o_.phases.count("send")) phase_send();
    if (o_.sessions > 0 && o_.phases.count("wake")) phase_wake();
    if (o_.sessions > 0 && o_.phases.count("check")) phase_check();
    out_["daemon_cpu_s"] = proc_cpu_seconds(daemon_pid_) - daemon_cpu0;
    if (daemon_b_pid_ > 0) {
      out_["daemon_b_cpu_s"] = proc_cpu_seconds(daemon_b_pid_) - daemon_b_cpu0;
      out_["daemon_b_rss_kib"] = proc_status_kib(daemon_b_pid_, "VmRSS");
    }
    out_["client_cpu_s"] = self_cpu() - client_cpu0;
    out_["daemon_rss_kib"] = proc_status_kib(daemon_pid_, "VmRSS");
    out_["daemon_hwm_kib"] = proc_status_kib(daemon_pid_, "VmHWM");
    if (!sessions_.empty() && sessions_.front().ep->child() > 0) {
      const pid_t shim = sessions_.front().ep->child();
      out_["connected_shim_rss_kib"] = proc_status_kib(shim, "VmRSS");
      out_["connected_shim_pss_kib"] = proc_pss_kib(shim);
    }
    out_["connections"] = sessions_.size() + idle_.size();
    out_["config"] = Json{{"sessions", o_.sessions},
                          {"messages", o_.messages},
                          {"idle_waiters", o_.idle_waiters},
                          {"via_shim", !o_.via_shim.empty()},
                          {"one_way", o_.one_way},
                          {"no_drain", o_.no_drain},
                          {"agents", o_.agents},
                          {"two_daemons", !o_.socket_dir_b.empty()},
                          {"message_bytes", o_.message_bytes},
                          {"warmup", o_.warmup},
                          {"phases", std::vector<std::string>(o_.phases.begin(), o_.phases.end())},
                          {"shim_start", o_.shim_start}};
    teardown();
    print();
    return 0;
  }

 private:
  static double self_cpu() {
    rusage u{};
    ::getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
  }

  // `agent`: the name to bind (--agents), else none. `side_b`: on the second daemon if there
  // is one.
  std::unique_ptr<Endpoint> open_endpoint(const std::string& agent, bool side_b = false) {
    std::string err;
    std::unique_ptr<Endpoint> ep;
    if (o_.via_shim.empty()) {
      ep = loop_.connect(side_b ? socket_path_b_ : socket_path_, &err);
      // What the shim would say first: this process stands in for the client, so the client
      // process the daemon checks is our parent.
      if (ep && !agent.empty()) {
        std::error_code ec;
        ep->notify("notifications/claude-bridge/hello",
                   Json{{"v", 1},
                        {"client_pid", static_cast<std::int64_t>(::getppid())},
                        {"project_dir", std::filesystem::current_path(ec).string()},
                        {"agent", agent},
                        {"client", "bridge-bench"}});
      }
    } else {
      std::vector<std::string> argv{o_.via_shim, "--socket-dir",
                                    side_b ? socket_dir_b_ : o_.socket_dir, "--no-autostart"};
      if (!agent.empty()) {
        argv.push_back("--agent");
        argv.push_back(agent);
      }
      ep = loop_.spawn(argv, &err);
    }
    if (!ep) die(err);
    return ep;
  }

  // The send tool and its arguments for session `s`.
  const char* send_tool() const { return o_.agents ? "send_message" : "send_to_partner"; }
  Json send_args(const Session& s, std::string text) const {
    Json args = s.creds;
    if (o_.agents) args["to"] = sessions_[static_cast<std::size_t>(s.partner)].name;
    args["message"] = std::move(text);
    return args;
  }

  bool run_until(const std::function<bool()>& done, int seconds, const char* what) {
    if (!loop_.run_until(done, std::chrono::seconds(seconds))) {
      die(std::string(what) + ": " +
          (loop_.failure().empty() ? "timed out after " + std::to_string(seconds) + " s"
                                   : loop_.failure()));
    }
    return true;
  }

  Json call_params(const char* tool, Json args) {
    return Json{{"name", tool}, {"arguments", std::move(args)}};
  }

  // Connects, initializes and pairs up every session (pipelined: all requests in flight at
  // once, one round of replies per step).
  void connect_all() {
    auto setup = [&](std::vector<Session>& group, int count, const char* prefix) {
      for (int i = 0; i < count; ++i) {
        Session s;
        if (o_.agents) s.name = prefix + std::to_string(i);
        s.ep = open_endpoint(s.name, i % 2 == 1);  // pairs are (2k, 2k + 1)
        group.push_back(std::move(s));
      }
    };
    setup(sessions_, o_.sessions, "bench-");
    const int idle = o_.idle_waiters + (o_.idle_waiters % 2);
    setup(idle_, idle, "idle-");

    int outstanding = 0;
    auto everyone = [&](auto&& fn) {
      for (auto& s : sessions_) fn(s);
      for (auto& s : idle_) fn(s);
    };
    everyone([&](Session& s) {
      ++outstanding;
      s.ep->request("initialize",
                    Json{{"protocolVersion", "2025-11-25"},
                         {"capabilities", Json::object()},
                         {"clientInfo", {{"name", "bridge-bench"}, {"version", "1"}}}},
                    [&](Reply& r) {
                      if (r.is_error_result()) die("initialize failed: " + r.line);
                      --outstanding;
                    });
    });
    run_until([&] { return outstanding == 0; }, 120, "initialize");
    everyone([&](Session& s) { s.ep->notify("notifications/initialized", nullptr); });
    if (o_.agents && !o_.socket_dir_b.empty()) await_peers();

    std::vector<Json> creds;
    if (!o_.creds_file.empty()) {
      std::ifstream in(o_.creds_file);
      Json j = Json::parse(in, nullptr, false);
      if (!j.is_array()) die("cannot read --creds " + o_.creds_file);
      creds = j.get<std::vector<Json>>();
    }
    auto pair_up = [&](std::vector<Session>& group, std::size_t creds_from) {
      for (std::size_t i = 0; i + 1 < group.size(); i += 2) {
        group[i].partner = static_cast<int>(i + 1);
        group[i + 1].partner = static_cast<int>(i);
        if (o_.agents) {  // addressed by name; the first send opens their conversation
          group[i].creds = group[i + 1].creds = Json::object();
          continue;
        }
        const std::size_t c = creds_from + i / 2;
        if (c < creds.size()) {
          const Json& cr = creds[c];
          group[i].creds = Json{{"conversation_id", cr.at("conversation_id")},
                                {"session_id", "a"}, {"token", cr.at("token_a")}};
          group[i + 1].creds = Json{{"conversation_id", cr.at("conversation_id")},
                                    {"session_id", "b"}, {"token", cr.at("token_b")}};
          continue;
        }
        ++outstanding;
        Session* a = &group[i];
        Session* b = &group[i + 1];
        a->ep->request("tools/call",
                       call_params("create_conversation", Json{{"my_role", "bench_sender"},
                                                               {"partner_role", "bench_receiver"}}),
                       [a, b, &outstanding](Reply& r) {
                         if (r.is_error_result()) die("create_conversation failed: " + r.line);
                         const Json& sc = r.json()["result"]["structuredContent"];
                         a->creds = Json{{"conversation_id", sc["conversation_id"]},
                                         {"session_id", "a"}, {"token", sc["session_a_token"]}};
                         b->creds = Json{{"conversation_id", sc["conversation_id"]},
                                         {"session_id", "b"}, {"token", sc["session_b_token"]}};
                         --outstanding;
                       });
      }
    };
    pair_up(sessions_, 0);
    pair_up(idle_, sessions_.size() / 2);
    run_until([&] { return outstanding == 0; }, 120, "create_conversation");
    if (o_.agents && !o_.socket_dir_b.empty()) open_conversations();

    // Park the idle waiters; a ping behind each wait on the same connection tells us the wait
    // frame was handled.
    for (auto& s : idle_) park(s);
    for (auto& s : idle_) {
      ++outstanding;
      s.ep->request("ping", nullptr, [&](Reply&) { --outstanding; });
    }
    run_until([&] { return outstanding == 0; }, 120, "parking idle waiters");
    loop_.run_for(std::chrono::milliseconds(idle_.empty() ? 0 : 100));
  }

  // Two daemons: each binds its agents in its own transaction, so an agent of one daemon is
  // visible to the other only once that commit landed. Polls list_agents on one session of
  // each side until it lists every agent of the other side.
  void await_peers() {
    auto names_of = [&](std::size_t parity) {
      std::set<std::string> out;
      for (std::size_t i = parity; i < sessions_.size(); i += 2) out.insert(sessions_[i].name);
      for (std::size_t i = parity; i < idle_.size(); i += 2) out.insert(idle_[i].name);
      return out;
    };
    for (std::size_t side = 0; side < 2 && side < sessions_.size(); ++side) {
      const std::set<std::string> want = names_of(1 - side);
      const std::int64_t deadline = now_ns() + 60'000'000'000LL;
      for (;;) {
        bool replied = false;
        std::size_t seen = 0;
        sessions_[side].ep->request(
            "tools/call", call_params("list_agents", Json::object()), [&](Reply& r) {
              if (r.is_error_result()) die("list_agents failed: " + r.line);
              for (const auto& a : r.json()["result"]["structuredContent"]["agents"]) {
                seen += want.count(a["name"].get<std::string>());
              }
              replied = true;
            });
        run_until([&] { return replied; }, 60, "list_agents");
        if (seen == want.size()) break;
        if (now_ns() > deadline) {
          die("the daemon of side " + std::string(side ? "b" : "a") + " lists " +
              std::to_string(seen) + " of the other side's " + std::to_string(want.size()) +
              " agents after 60 s: do both daemons share one store?");
        }
        loop_.run_for(std::chrono::milliseconds(20));
      }
    }
  }

  // Two daemons: the first send_message between two agents opens their conversation, and when
  // both sides' first sends race on two daemons one of them fails (the conversation's unique
  // member key; docs/benchmarks.md, "Teams on PostgreSQL"). So side a of each pair opens it
  // with one message, untimed, which side b reads (not counted) before the phases start.
  void open_conversations() {
    int outstanding = 0;
    auto open_pairs = [&](std::vector<Session>& group) {
      for (std::size_t i = 0; i + 1 < group.size(); i += 2) {
        Session* a = &group[i];
        Session* b = &group[i + 1];
        outstanding += 2;
        a->ep->request("tools/call",
                       call_params("send_message", send_args(*a, "opening the conversation")),
                       [&outstanding](Reply& r) {
                         if (r.is_error_result()) die("opening send failed: " + r.line);
                         --outstanding;
                       });
        Json args = b->creds;
        args["timeout_seconds"] = 60;
        b->ep->request("tools/call", call_params("wait_for_messages", args),
                       [b, &outstanding](Reply& r) {
                         if (r.is_error_result()) die("opening wait failed: " + r.line);
                         const Json& msgs = r.json()["result"]["structuredContent"]["messages"];
                         if (msgs.size() != 1) die("the opening message did not arrive: " + r.line);
                         b->last_id = msgs[0]["id"].get<std::int64_t>();
                         --outstanding;
                       });
      }
    };
    open_pairs(sessions_);
    run_until([&] { return outstanding == 0; }, 120, "opening the conversations");
  }

  void park(Session& s) {
    Session* p = &s;
    Json args = s.creds;
    args["timeout_seconds"] = 600;
    s.ep->request("tools/call", call_params("wait_for_messages", args), [this, p](Reply& r) {
      if (r.is_error_result()) die("idle wait failed: " + r.line);
      park(*p);  // timed out (10 min): wait again
    });
  }

  std::string message_text(int sender, int n) const {
    // Built with append: GCC 12 warns (-Wrestrict, a false positive) on the operator+ chain.
    std::string text;
    text.reserve(payload_.size() + 24);
    text.append(1, '#').append(std::to_string(sender)).append(1, '.');
    text.append(std::to_string(n)).append(1, ' ').append(payload_);
    return text;
  }

  // Counts and checks the messages of a wait/check result; returns how many it held.
  std::int64_t absorb(Session& s, Reply& r) {
    if (r.is_error_result()) die("read failed: " + r.line);
    const Json& msgs = r.json()["result"]["structuredContent"]["messages"];
    for (const auto& m : msgs) {
      const std::int64_t id = m["id"].get<std::int64_t>();
      if (id <= s.last_id) die("message id " + std::to_string(id) + " delivered twice or out of order");
      s.last_id = id;
    }
    s.received += static_cast<std::int64_t>(msgs.size());
    return static_cast<std::int64_t>(msgs.size());
  }

  void drain(Session& s) {
    Session* p = &s;
    Json args = s.creds;
    args["timeout_seconds"] = 60;
    args["limit"] = 200;
    s.draining = true;
    s.ep->request("tools/call", call_params("wait_for_messages", args), [this, p](Reply& r) {
      absorb(*p, r);
      p->draining = false;
      if (p->received < p->expect) drain(*p);
    });
  }

  void phase_send() {
    std::vector<std::int64_t> samples;
    const int per = o_.messages + o_.warmup;
    int senders = 0;
    for (std::size_t i = 0; i < sessions_.size(); ++i) {
      Session& s = sessions_[i];
      const bool sends = !o_.one_way || i % 2 == 0;
      s.to_send = sends ? per : 0;
      s.acked = 0;
      senders += sends;
    }
    for (auto& s : sessions_) {
      s.expect = o_.no_drain ? s.received
                             : s.received + sessions_[static_cast<std::size_t>(s.partner)].to_send;
      if (s.expect > s.received) drain(s);
    }
    int done = 0;
    std::int64_t measured_from = 0;
    int warm = 0;
    std::function<void(int, int)> send_one = [&](int idx, int n) {
      Session& s = sessions_[static_cast<std::size_t>(idx)];
      Json args = send_args(s, message_text(idx, n));
      s.ep->request("tools/call", call_params(send_tool(), args), [&, idx, n](Reply& r) {
        Session& me = sessions_[static_cast<std::size_t>(idx)];
        if (r.is_error_result()) die("send failed: " + r.line);
        ++me.acked;
        if (n >= o_.warmup) samples.push_back(r.arrived_ns - r.sent_ns);
        if (n + 1 == o_.warmup && ++warm == senders) measured_from = now_ns();
        if (me.acked < me.to_send) {
          send_one(idx, n + 1);
        } else {
          ++done;
        }
      });
    };
    const std::int64_t t0 = now_ns();
    if (o_.warmup == 0) measured_from = t0;
    for (std::size_t i = 0; i < sessions_.size(); ++i) {
      if (sessions_[i].to_send > 0) send_one(static_cast<int>(i), 0);
    }
    run_until([&] { return done == senders; }, 600, "send phase");
    const std::int64_t t1 = now_ns();
    run_until(
        [&] {
          for (auto& s : sessions_) {
            if (s.received < s.expect) return false;
          }
          return true;
        },
        120, "draining the send phase");
    const auto p = percentiles_us(samples);
    const double wall = static_cast<double>(t1 - (measured_from ? measured_from : t0)) / 1e9;
    out_["send_p50_us"] = p.p50;
    out_["send_p90_us"] = p.p90;
    out_["send_p99_us"] = p.p99;
    out_["send_max_us"] = p.max;
    out_["send_mean_us"] = p.mean;
    out_["sends"] = p.count;
    out_["send_wall_s"] = wall;
    out_["sends_per_s"] = wall > 0 ? static_cast<double>(p.count) / wall : 0.0;
    out_["senders"] = senders;
    std::int64_t received = 0;
    for (auto& s : sessions_) received += s.received;
    out_["send_phase_received"] = received;
  }

  void phase_wake() {
    struct Conv {
      int hops = 0;
      std::int64_t last_send_ns = 0;
      bool finished = false;
    };
    const std::size_t n_conv = sessions_.size() / 2;
    std::vector<Conv> convs(n_conv);
    std::vector<std::int64_t> samples;
    std::vector<std::int64_t> send_samples;
    std::size_t finished = 0;
    const int hops = o_.messages + o_.warmup;

    std::function<void(int)> wait_for;
    std::function<void(int)> send_from = [&](int idx) {
      Session& s = sessions_[static_cast<std::size_t>(idx)];
      Conv& c = convs[static_cast<std::size_t>(idx) / 2];
      Json args = send_args(s, message_text(idx, c.hops));
      c.last_send_ns = s.ep->request("tools/call", call_params(send_tool(), args),
                                     [&](Reply& r) {
                                       if (r.is_error_result()) die("send failed: " + r.line);
                                       send_samples.push_back(r.arrived_ns - r.sent_ns);
                                     });
      wait_for(idx);  // the natural agent loop: send, then wait for the answer
    };
    wait_for = [&](int idx) {
      Session& s = sessions_[static_cast<std::size_t>(idx)];
      Json args = s.creds;
      args["timeout_seconds"] = 60;
      args["limit"] = 200;
      s.ep->request("tools/call", call_params("wait_for_messages", args), [&, idx](Reply& r) {
        Session& me = sessions_[static_cast<std::size_t>(idx)];
        Conv& c = convs[static_cast<std::size_t>(idx) / 2];
        if (c.finished) return;
        if (absorb(me, r) == 0) {
          wait_for(idx);  // a timeout; nothing arrived
          return;
        }
        if (c.hops >= o_.warmup) samples.push_back(r.arrived_ns - c.last_send_ns);
        if (++c.hops >= hops) {
          c.finished = true;
          ++finished;
          return;
        }
        send_from(idx);
      });
    };
    // Side b waits first; a pause lets every wait register before the first send.
    for (std::size_t i = 0; i < n_conv; ++i) wait_for(static_cast<int>(2 * i + 1));
    loop_.run_for(std::chrono::milliseconds(50));
    for (std::size_t i = 0; i < n_conv; ++i) send_from(static_cast<int>(2 * i));
    run_until([&] { return finished == n_conv; }, 600, "wake phase");
    // Each finished conversation still has one wait in flight (the last sender's).
    for (auto& s : sessions_) s.ep->cancel_pending();
    const auto p = percentiles_us(samples);
    out_["wake_p50_us"] = p.p50;
    out_["wake_p90_us"] = p.p90;
    out_["wake_p99_us"] = p.p99;
    out_["wake_max_us"] = p.max;
    out_["wakes"] = p.count;
    const auto ps = percentiles_us(send_samples);
    out_["wake_phase_send_p50_us"] = ps.p50;
    out_["wake_phase_send_p99_us"] = ps.p99;
  }

  // check_messages until has_more is false.
  void empty_inbox(Session* s, int* outstanding) {
    Json args = s->creds;
    args["limit"] = 200;
    ++*outstanding;
    s->ep->request("tools/call", call_params("check_messages", args),
                   [this, s, outstanding](Reply& r) {
                     if (r.is_error_result()) die("check_messages failed: " + r.line);
                     --*outstanding;
                     if (r.json()["result"]["structuredContent"]["has_more"].get<bool>()) {
                       empty_inbox(s, outstanding);
                     }
                   });
  }

  void phase_check() {
    std::vector<std::int64_t> samples;
    std::vector<std::int64_t> send_samples;
    const std::size_t n_conv = sessions_.size() / 2;
    std::size_t finished = 0;
    const int rounds = o_.messages + o_.warmup;
    std::vector<int> round(n_conv, 0);
    // The receivers first read whatever the filled database left unread for them.
    int outstanding = 0;
    for (std::size_t i = 0; i < n_conv; ++i) empty_inbox(&sessions_[2 * i + 1], &outstanding);
    run_until([&] { return outstanding == 0; }, 600, "emptying inboxes");

    std::function<void(std::size_t)> next = [&](std::size_t c) {
      Session& a = sessions_[2 * c];
      Session& b = sessions_[2 * c + 1];
      Json args = a.creds;
      args["message"] = message_text(static_cast<int>(2 * c), round[c]);
      a.ep->request("tools/call", call_params("send_to_partner", args), [&, c](Reply& r) {
        if (r.is_error_result()) die("send failed: " + r.line);
        if (round[c] >= o_.warmup) send_samples.push_back(r.arrived_ns - r.sent_ns);
        Json cargs = b.creds;
        cargs["limit"] = 50;
        b.ep->request("tools/call", call_params("check_messages", cargs), [&, c](Reply& cr) {
          if (cr.is_error_result()) die("check_messages failed: " + cr.line);
          const auto& msgs = cr.json()["result"]["structuredContent"]["messages"];
          if (msgs.size() != 1) die("check_messages returned " + std::to_string(msgs.size()) +
                                    " messages, expected 1");
          if (round[c] >= o_.warmup) samples.push_back(cr.arrived_ns - cr.sent_ns);
          if (++round[c] >= rounds) {
            ++finished;
          } else {
            next(c);
          }
        });
      });
    };
    for (std::size_t c = 0; c < n_conv; ++c) next(c);
    run_until([&] { return finished == n_conv; }, 600, "check phase");
    const auto p = percentiles_us(samples);
    out_["check_p50_us"] = p.p50;
    out_["check_p90_us"] = p.p90;
    out_["check_p99_us"] = p.p99;
    out_["check_max_us"] = p.max;
    out_["checks"] = p.count;
    const auto ps = percentiles_us(send_samples);
    out_["check_phase_send_p50_us"] = ps.p50;
    out_["check_phase_send_p99_us"] = ps.p99;
  }

  // Spawn → first reply, one shim at a time, each sending a ping the moment it is spawned.
  void measure_shim_start() {
    std::vector<std::int64_t> samples;
    std::int64_t rss = 0, anon = 0, pss = 0;
    for (int i = 0; i < o_.shim_start; ++i) {
      const std::int64_t t0 = now_ns();
      std::unique_ptr<Endpoint> ep = open_endpoint("");
      bool got = false;
      std::int64_t t1 = 0;
      ep->request("ping", nullptr, [&](Reply& r) {
        got = true;
        t1 = r.arrived_ns;
      });
      run_until([&] { return got; }, 30, "shim start");
      samples.push_back(t1 - t0);
      rss = std::max(rss, proc_status_kib(ep->child(), "VmRSS"));
      anon = std::max(anon, proc_status_kib(ep->child(), "RssAnon"));
      pss = std::max(pss, proc_pss_kib(ep->child()));
      ep->close();
    }
    const auto p = percentiles_us(samples);
    out_["shim_start_p50_us"] = p.p50;
    out_["shim_start_p99_us"] = p.p99;
    out_["shim_start_max_us"] = p.max;
    out_["shim_rss_kib"] = rss;
    out_["shim_rss_anon_kib"] = anon;
    out_["shim_pss_kib"] = pss;
  }

  void teardown() {
    for (auto& s : sessions_) s.ep->close();
    for (auto& s : idle_) s.ep->close();
  }

  void print() {
    if (o_.json) {
      std::cout << out_.dump(2) << "\n";
      return;
    }
    for (auto it = out_.begin(); it != out_.end(); ++it) {
      if (it.key() == "config") continue;
      std::cout << it.key() << ": " << it.value().dump() << "\n";
    }
    std::cout << "config: " << out_["config"].dump() << "\n";
  }

  Options o_;
  std::string socket_path_;
  std::string socket_dir_b_;
  std::string socket_path_b_;
  std::string payload_;
  pid_t daemon_pid_ = -1;
  pid_t daemon_b_pid_ = -1;
  Loop loop_;
  std::vector<Session> sessions_;
  std::vector<Session> idle_;
  Json out_ = Json::object();
};

}  // namespace

int main(int argc, char** argv) {
  Options o = parse(argc, argv);
  std::signal(SIGPIPE, SIG_IGN);
  raise_fd_limit();
  Bench bench(std::move(o));
  return bench.run();
}
