// agents, list, show, tokens, cleanup, post, end, watch: the conversations as the daemon holds
// them, and the operator stepping in.
#include <csignal>
#include <cstdio>
#include <memory>

#include "common/ctl_protocol.h"
#include "common/exit_codes.h"
#include "common/visible.h"
#include "ctl/commands.h"

namespace cb::ctl {
namespace {

constexpr std::size_t kCutChars = 100;

// Every string shown here comes from the daemon and may hold what an agent wrote: `str` is
// output.h's field(), escaped by cb::visible().
std::string str(const Json& j, const char* key, const char* fallback = "-") {
  return field(j, key, fallback);
}

std::string arrow(const Style& s) { return s.unicode ? " → " : " -> "; }

// "a, b" of a JSON array of strings (names), escaped.
std::string joined(const Json& names, const char* sep = ", ") {
  std::string out;
  if (!names.is_array())
    return visible(names.is_string() ? names.get<std::string>() : names.dump());
  for (const Json& n : names) {
    if (!out.empty()) out += sep;
    out += visible(n.is_string() ? n.get<std::string>() : n.dump(), Visible::kLine);
  }
  return out;
}

int run_agents(Context& ctx) {
  Json r = ctx.call(ctl_protocol::kAgents);
  if (ctx.json) {
    print_json(r);
    return exit_code::kOk;
  }
  const Json& agents = r["agents"];
  if (!agents.is_array() || agents.empty()) {
    std::printf("No agents.\n");
    return exit_code::kOk;
  }
  Table t({"AGENT", "PROJECT", "CLIENT", "PRESENCE", "STATUS", "NOTE", "UNREAD", "LAST SEEN"});
  for (const Json& a : agents) {
    const std::string presence = str(a, "presence");
    t.add({{str(a, "name"), sgr::kCyan},
           {cut(one_line(raw_field(a, "project"), ctx.out), 40, ctx.out)},
           {str(a, "client")},
           {presence, presence == "offline" ? sgr::kDim : sgr::kGreen},
           {str(a, "status")},
           {cut(one_line(raw_field(a, "note", ""), ctx.out), 40, ctx.out)},
           {str(a, "unread")},
           {short_time(a["last_seen"])}});
  }
  t.print(stdout, ctx.out);
  return exit_code::kOk;
}

// An agents' conversation's members as "name (unread n)", the live ones marked.
std::string members_line(const Json& members) {
  std::string out;
  if (!members.is_array()) return "-";
  for (const Json& m : members) {
    if (!out.empty()) out += ", ";
    out += str(m, "agent") + (m.value("connected", false) ? "*" : "");
    const std::int64_t unread = m.value("unread", std::int64_t{0});
    if (unread > 0) out += " (" + std::to_string(unread) + " unread)";
  }
  return out.empty() ? "-" : out;
}

int run_list(Context& ctx) {
  Json r = ctx.call(ctl_protocol::kList);
  if (ctx.json) {
    print_json(r);
    return exit_code::kOk;
  }
  const Json& convs = r["conversations"];
  if (!convs.is_array() || convs.empty()) {
    std::printf("No conversations.\n");
    return exit_code::kOk;
  }
  // An agents' conversation shows its members (unread each, * live) across the role columns.
  Table t({"CONVERSATION", "KIND", "ROLE A / MEMBERS", "ROLE B", "CREATED", "EXPIRES", "STATE",
           "MSGS", "UNREAD A/B", "CONNECTED"});
  for (const Json& c : convs) {
    const bool active = c.value("active", false);
    const bool agents = str(c, "kind", "token") == "agents";
    const std::string connected = joined(c.value("connected", Json::array()), ",");
    t.add({{str(c, "conversation_id"), sgr::kCyan},
           {str(c, "kind", "token")},
           {agents ? cut(members_line(c.value("members", Json::array())), 60, ctx.out)
                   : cut(one_line(raw_field(c, "role_a"), ctx.out), 30, ctx.out)},
           {agents ? "" : cut(one_line(raw_field(c, "role_b"), ctx.out), 30, ctx.out)},
           {short_time(c["created_at"])},
           {short_time(c["expires_at"])},
           {active ? "active" : "expired", active ? sgr::kGreen : sgr::kDim},
           {str(c, "messages")},
           {agents ? "-" : str(c, "unread_a") + "/" + str(c, "unread_b")},
           {connected.empty() ? "-" : connected}});
  }
  t.print(stdout, ctx.out);
  return exit_code::kOk;
}

void print_session_line(const Context& ctx, const Json& show, const char* who) {
  const Json st =
      show.contains("statuses") ? show["statuses"].value(who, Json::object()) : Json::object();
  std::string line = "  session " + std::string(who) + "  " +
                     paint(ctx.out, sgr::kBold, str(show, who[0] == 'a' ? "role_a" : "role_b")) +
                     "  status " + str(st, "status", "unknown");
  if (st.contains("last_heartbeat") && !st["last_heartbeat"].is_null()) {
    line += ", heartbeat " + short_time(st["last_heartbeat"]);
  }
  if (st.value("connected", false)) line += ", " + paint(ctx.out, sgr::kGreen, "connected");
  if (st.value("waiting", false)) line += ", waiting for messages";
  std::printf("%s\n", line.c_str());
}

int run_show(Context& ctx, const std::string& conv, bool full) {
  Json r = ctx.call(ctl_protocol::kShow, Json{{"conversation_id", conv}});
  if (ctx.json) {
    print_json(r);
    return exit_code::kOk;
  }
  const bool active = r.value("active", false);
  std::printf(
      "%s  %s\n", paint(ctx.out, sgr::kBold, str(r, "conversation_id")).c_str(),
      paint(ctx.out, active ? sgr::kGreen : sgr::kDim, active ? "active" : "expired").c_str());
  if (str(r, "kind", "token") == "agents") {
    std::printf("  agents' conversation\n");
    for (const Json& m : r.value("members", Json::array())) {
      std::string line = "  member " + paint(ctx.out, sgr::kBold, str(m, "agent")) +
                         "  read up to #" + str(m, "read_up_to") + ", " + str(m, "unread") +
                         " unread";
      if (m.value("connected", false)) line += ", " + paint(ctx.out, sgr::kGreen, "connected");
      std::printf("%s\n", line.c_str());
    }
  } else {
    print_session_line(ctx, r, "a");
    print_session_line(ctx, r, "b");
  }
  std::printf("  created   %s\n  expires   %s\n  exec mode %s\n",
              short_time(r["created_at"]).c_str(), short_time(r["expires_at"]).c_str(),
              str(r, "exec_mode").c_str());
  const Json& messages = r["messages"];
  std::printf("\nMessages (%zu)\n", messages.is_array() ? messages.size() : 0);
  if (!messages.is_array() || messages.empty()) return exit_code::kOk;
  if (full) {
    for (const Json& m : messages) {
      const bool read = m.value("read", false);
      std::string head = "#" + str(m, "id") + "  " +
                         paint(ctx.out, read ? sgr::kDim : sgr::kYellow, read ? "read" : "UNREAD") +
                         "  " + short_time(m["timestamp"]) + "  " + str(m, "from") +
                         arrow(ctx.out) + str(m, "to") + "  (" + str(m, "action_type") + ")";
      if (m.contains("reply_to") && !m["reply_to"].is_null())
        head += "  reply to #" + str(m, "reply_to");
      const Json files = m.value("files_involved", Json::array());
      if (files.is_array() && !files.empty()) {
        head += "  files:";
        for (const Json& f : files) {
          head += " " + visible(f.is_string() ? f.get<std::string>() : f.dump(), Visible::kLine);
        }
      }
      std::printf("\n%s\n", head.c_str());
      // Everything the partner's model reads, and nothing that could drive the terminal: a NUL
      // or an ESC shows as \x00 / \x1B instead of ending or rewriting the text.
      const std::string text = visible(raw_field(m, "message", ""), Visible::kLines);
      std::string indented = "    ";
      for (char ch : text) {
        indented += ch;
        if (ch == '\n') indented += "    ";
      }
      std::printf("%s\n", indented.c_str());
    }
    return exit_code::kOk;
  }
  Table t({"ID", "STATE", "TIME", "FROM" + std::string(ctx.out.unicode ? "→" : "->") + "TO",
           "ACTION", "REPLY TO", "MESSAGE"});
  for (const Json& m : messages) {
    const bool read = m.value("read", false);
    t.add({{str(m, "id")},
           {read ? "read" : "UNREAD", read ? sgr::kDim : sgr::kYellow},
           {short_time(m["timestamp"])},
           {str(m, "from") + arrow(ctx.out) + str(m, "to")},
           {str(m, "action_type")},
           {m.contains("reply_to") && !m["reply_to"].is_null() ? "#" + str(m, "reply_to") : "-"},
           {cut(one_line(raw_field(m, "message", ""), ctx.out), kCutChars, ctx.out)}});
  }
  t.print(stdout, ctx.out, "  ");
  return exit_code::kOk;
}

int run_tokens(Context& ctx, const std::string& conv) {
  Json r = ctx.call(ctl_protocol::kTokens, Json{{"conversation_id", conv}});
  ctx.warn("these tokens let anyone act as the two sessions of " + conv +
           "; hand them only to the session they belong to (this read is in the audit trail)");
  if (ctx.json) {
    print_json(Json{{"conversation_id", r["conversation_id"]},
                    {"session_a_token", r["session_a_token"]},
                    {"session_b_token", r["session_b_token"]}});
    return exit_code::kOk;
  }
  std::printf("conversation     %s\nsession_a_token  %s\nsession_b_token  %s\n",
              str(r, "conversation_id").c_str(), str(r, "session_a_token").c_str(),
              str(r, "session_b_token").c_str());
  return exit_code::kOk;
}

int run_cleanup(Context& ctx) {
  Json r = ctx.call(ctl_protocol::kCleanup);
  if (ctx.json) {
    print_json(r);
    return exit_code::kOk;
  }
  const Json removed = r.value("removed", Json::array());
  if (removed.empty()) {
    std::printf("Nothing to clean up: no expired conversations.\n");
    return exit_code::kOk;
  }
  std::printf("Removed %zu expired conversation%s with their messages and statuses:\n",
              removed.size(), removed.size() == 1 ? "" : "s");
  for (const Json& id : removed) {
    std::printf("  %s\n", visible(id.is_string() ? id.get<std::string>() : id.dump()).c_str());
  }
  return exit_code::kOk;
}

// post: the operator's message into a conversation of agents (docs/cli.md, "post").
int run_post(Context& ctx, const std::string& conv, const std::string& text,
             const std::string& type) {
  Json params{{"conversation_id", conv}, {"message", text}};
  if (!type.empty()) params["action_type"] = type;
  Json r = ctx.call(ctl_protocol::kPost, params);
  if (ctx.json) {
    print_json(r);
    return exit_code::kOk;
  }
  std::string kinds;
  const Json redactions = r.value("redactions", Json::object());
  if (redactions.is_object()) {
    for (auto it = redactions.begin(); it != redactions.end(); ++it) {
      kinds += (kinds.empty() ? "" : ", ") + visible(it.key());
    }
  }
  std::printf("Posted message #%lld as @operator to %s%s\n",
              static_cast<long long>(r.value("message_id", 0LL)),
              joined(r.value("to", Json::array())).c_str(),
              kinds.empty() ? "" : (" (redacted: " + kinds + ")").c_str());
  return exit_code::kOk;
}

// end: the conversation ends now, as at its expiry; its members or seats are told.
int run_end(Context& ctx, const std::string& conv) {
  Json r = ctx.call(ctl_protocol::kEnd, Json{{"conversation_id", conv}});
  if (ctx.json) {
    print_json(r);
    return exit_code::kOk;
  }
  std::printf("Ended %s at %s; told %s\n", str(r, "conversation_id").c_str(),
              str(r, "ended_at").c_str(), joined(r.value("told", Json::array())).c_str());
  return exit_code::kOk;
}

void on_interrupt(int) { g_interrupted = true; }

std::string describe_event(const Context& ctx, const Json& e) {
  const std::string kind = str(e, "event", "event");
  const std::string head = short_time(e.value("timestamp", Json())) + "  " +
                           paint(ctx.out, sgr::kCyan, str(e, "conversation_id")) + "  ";
  if (kind == "agent") {
    // No conversation: an agent came online or went offline.
    return short_time(e.value("timestamp", Json())) + "  " + paint(ctx.out, sgr::kBold, "agent") +
           " " + paint(ctx.out, sgr::kCyan, str(e, "name")) + " is " + str(e, "state") + " (" +
           str(e, "client") + ", " + str(e, "project") + ")";
  }
  if (kind == "message") {
    std::string to = e.contains("to") && e["to"].is_array() ? joined(e["to"]) : str(e, "to");
    std::string line = head + paint(ctx.out, sgr::kBold, "message") + " #" + str(e, "id") + " " +
                       str(e, "from") + arrow(ctx.out) + to + " (" + str(e, "action_type") + ")";
    if (e.contains("reply_to") && !e["reply_to"].is_null())
      line += " reply to #" + str(e, "reply_to");
    return line + ": " + cut(one_line(raw_field(e, "message", ""), ctx.out), kCutChars, ctx.out);
  }
  if (kind == "status") {
    if (e.contains("agent")) {
      std::string line = head + paint(ctx.out, sgr::kBold, "status") + " " + str(e, "agent") +
                         " is " + str(e, "status");
      const std::string note = raw_field(e, "note", "");
      if (!note.empty()) line += ": " + cut(one_line(note, ctx.out), kCutChars, ctx.out);
      return line;
    }
    return head + paint(ctx.out, sgr::kBold, "status") + " " + str(e, "session_id") + " (" +
           str(e, "role") + ") is " + str(e, "status");
  }
  if (kind == "conversation_created") {
    if (e.contains("members")) {
      return head + paint(ctx.out, sgr::kBold, "created") + " for " + joined(e["members"]);
    }
    return head + paint(ctx.out, sgr::kBold, "created") + " " + str(e, "role_a") + " / " +
           str(e, "role_b");
  }
  return head + paint(ctx.out, sgr::kBold, kind) + " " +
         visible(e.dump(-1, ' ', false, Json::error_handler_t::replace));
}

int run_watch(Context& ctx, const std::string& conv) {
  // No SA_RESTART: poll() returns at once, and the read loop checks the flag between slices.
  struct sigaction sa {};
  sa.sa_handler = on_interrupt;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  Json params = Json::object();
  if (!conv.empty()) params["conversation_id"] = conv;
  ctx.call(ctl_protocol::kWatch, params);
  if (::isatty(::fileno(stderr))) {
    std::fprintf(stderr, "watching %s (Ctrl-C to stop)\n",
                 conv.empty() ? "every conversation" : visible(conv).c_str());
  }
  for (;;) {
    auto e = ctx.client().next_event();
    if (!e) return exit_code::kOk;  // interrupted
    if (ctx.json) {
      std::printf("%s\n", e->dump(-1, ' ', false, Json::error_handler_t::replace).c_str());
    } else {
      std::printf("%s\n", describe_event(ctx, *e).c_str());
    }
    if (std::fflush(stdout) != 0) return exit_code::kOk;  // the reader went away
  }
}

}  // namespace

void add_conversation_commands(CLI::App& app, Context& ctx, std::vector<Command>& out) {
  auto* agents = app.add_subcommand(
      "agents",
      "Every named agent: project, client, presence, status and note, unread mail, last seen");
  out.push_back({agents, [&ctx] { return run_agents(ctx); }});

  auto* list = app.add_subcommand(
      "list",
      "Every conversation: kind, roles or members, times, state, message counts, unread, "
      "connected sessions");
  out.push_back({list, [&ctx] { return run_list(ctx); }});

  auto conv = std::make_shared<std::string>();
  auto full = std::make_shared<bool>(false);
  auto* show = app.add_subcommand(
      "show", "One conversation: roles, statuses and its messages (text cut at 100 characters)");
  show->add_option("CONV", *conv, "Conversation id (conv_ + 16 hex)")->required();
  show->add_flag("--full", *full, "Print whole message texts");
  out.push_back({show, [&ctx, conv, full] { return run_show(ctx, *conv, *full); }});

  auto tconv = std::make_shared<std::string>();
  auto* tokens = app.add_subcommand(
      "tokens", "Both session tokens of a conversation, re-derived by the daemon (audited)");
  tokens->add_option("CONV", *tconv, "Conversation id")->required();
  out.push_back({tokens, [&ctx, tconv] { return run_tokens(ctx, *tconv); }});

  auto* cleanup = app.add_subcommand(
      "cleanup", "Delete expired conversations with their messages and statuses");
  out.push_back({cleanup, [&ctx] { return run_cleanup(ctx); }});

  auto pconv = std::make_shared<std::string>();
  auto ptext = std::make_shared<std::string>();
  auto ptype = std::make_shared<std::string>();
  auto* post = app.add_subcommand(
      "post", "Post TEXT into a conversation of agents as the operator (they read @operator)");
  post->add_option("CONV", *pconv, "Conversation id (a conversation of agents)")->required();
  post->add_option("TEXT", *ptext, "The message (redacted and audited like any)")->required();
  post->add_option("--type", *ptype, "Action type: info (default), question, proposal, blocked, "
                                      "complete")
      ->type_name("TYPE");
  out.push_back({post, [&ctx, pconv, ptext, ptype] {
                   return run_post(ctx, *pconv, *ptext, *ptype);
                 }});

  auto econv = std::make_shared<std::string>();
  auto* end = app.add_subcommand(
      "end", "End a conversation now, as its expiry would; its agents are told (audited)");
  end->add_option("CONV", *econv, "Conversation id")->required();
  out.push_back({end, [&ctx, econv] { return run_end(ctx, *econv); }});

  auto wconv = std::make_shared<std::string>();
  auto* watch = app.add_subcommand(
      "watch",
      "Live tail of messages and status changes until interrupted (--json: one object per line)");
  watch->add_option("CONV", *wconv, "Only this conversation");
  out.push_back({watch, [&ctx, wconv] { return run_watch(ctx, *wconv); }});
}

}  // namespace cb::ctl
