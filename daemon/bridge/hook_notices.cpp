#include "daemon/bridge/hook_notices.h"

#include <algorithm>

#include "common/utf8.h"
#include "common/visible.h"

namespace cb::bridge {
namespace {

constexpr std::size_t kMaxOnlineNamed = 12;

// The first characters of a body on one line: whitespace runs as one space, hidden characters
// escaped, "…" when cut.
std::string snippet(const std::string& body, std::size_t max_chars) {
  std::string flat;
  flat.reserve(body.size());
  bool space = false;
  for (char c : body) {
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
      space = !flat.empty();
      continue;
    }
    if (space) flat.push_back(' ');
    space = false;
    flat.push_back(c);
  }
  std::size_t i = 0;
  std::size_t n = 0;
  while (i < flat.size() && n < max_chars) {
    const std::size_t len = decode_utf8(flat, i).second;
    i += len == 0 ? 1 : len;
    ++n;
  }
  const bool cut = i < flat.size();
  return visible(std::string_view(flat).substr(0, i)) + (cut ? "…" : "");
}

std::string plural(std::int64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

}  // namespace

std::string notice_line(const NewMail& mail) {
  std::string out = "claude-bridge: " + std::string(mail.more ? "more than " : "") +
                    plural(mail.count, "new message", "new messages");
  const bool one_sender = mail.senders.size() == 1;
  if (one_sender) {
    out += " from " + mail.senders.front().first;
  } else {
    out += " (";
    for (std::size_t i = 0; i < mail.senders.size(); ++i) {
      if (i > 0) out += ", ";
      out += std::to_string(mail.senders[i].second) + " from " + mail.senders[i].first;
    }
    out += ")";
  }
  if (mail.count > 1) out += one_sender ? ", the latest" : ", the latest from " + mail.latest_from;
  if (!mail.latest_action.empty() && mail.latest_action != "info") {
    out += " (" + mail.latest_action + ")";
  }
  out += ": '" + mail.latest_body + "' — read " + (mail.count == 1 ? "it" : "them") +
         " with check_messages";
  return out;
}

std::string HookNotices::sender_of(const store::MessageRow& row) {
  if (row.recipient == "*" || row.sender == "system") return row.sender;
  // A joined seat's message: the agent holding the sending seat, else that seat's role.
  if (auto holder = ctx_.members.seat_holder(row.conversation_id, row.sender)) return *holder;
  auto conv = ctx_.conversations.find(row.conversation_id);
  if (!conv) return row.sender;
  return row.sender == "a" ? conv->role_a : conv->role_b;
}

NewMail HookNotices::unannounced(const std::string& agent) {
  NewMail out;
  const SessionKey inbox = inbox_key(agent);
  std::int64_t after = mark(agent);
  // Handed-out mail is skipped, so a page may hold none that counts: read on past it.
  for (;;) {
    const std::int64_t want = kMaxCounted + 1 - out.count;
    auto rows = ctx_.inboxes.agent_unread_after(agent, after, want, kSnippetChars * 4);
    for (const auto& r : rows) {
      after = r.id;
      const SessionKey seat{r.conversation_id, r.recipient};
      if (mailbox_.handed_out(inbox, r.id) ||
          (r.recipient != "*" && mailbox_.handed_out(seat, r.id))) {
        continue;
      }
      if (out.count == kMaxCounted) {
        out.more = true;
        break;
      }
      const std::string from = sender_of(r);
      auto s = std::find_if(out.senders.begin(), out.senders.end(),
                            [&](const auto& p) { return p.first == from; });
      if (s == out.senders.end()) {
        out.senders.emplace_back(from, 1);
      } else {
        ++s->second;
      }
      ++out.count;
      out.latest_from = from;
      out.latest_action = r.action_type;
      out.latest_body = r.body;  // cut once, below
      out.up_to_id = r.id;
    }
    if (out.more || static_cast<std::int64_t>(rows.size()) < want) break;
  }
  out.latest_body = snippet(out.latest_body, kSnippetChars);
  return out;
}

std::int64_t HookNotices::mark(const std::string& agent) const {
  auto it = announced_.find(agent);
  return it == announced_.end() ? 0 : it->second;
}

void HookNotices::announce(const std::string& agent, std::int64_t up_to) {
  auto& m = announced_[agent];
  m = std::max(m, up_to);
}

std::optional<std::string> HookNotices::tell(const std::string& agent) {
  NewMail mail = unannounced(agent);
  if (mail.empty()) return std::nullopt;
  announce(agent, mail.up_to_id);
  return notice_line(mail);
}

std::string HookNotices::session_start(const std::string& agent) {
  const NewMail fresh = unannounced(agent);
  if (!fresh.empty()) announce(agent, fresh.up_to_id);
  const store::AgentRow* row = agents_.find(agent);
  std::string out = "claude-bridge: you are agent \"" + agent + "\"";
  if (row && !row->project.empty()) out += " (project " + visible(row->project) + ")";
  out +=
      ". Other agents reach you by that name with send_message; check_messages reads your mail "
      "and list_agents shows everyone.";
  const AgentList all = agents_.list(agent, false);
  std::vector<std::string> online;
  std::size_t more = 0;
  for (const auto& a : all.agents) {
    if (a.name == agent || !a.connected) continue;
    if (online.size() == kMaxOnlineNamed) {
      ++more;
      continue;
    }
    std::string who = a.name;
    if (!a.status.empty() && a.status != "unknown") who += " (" + visible(a.status) + ")";
    online.push_back(std::move(who));
  }
  if (online.empty()) {
    out += " No other agent is online.";
  } else {
    out += " Online now: ";
    for (std::size_t i = 0; i < online.size(); ++i) out += (i ? ", " : "") + online[i];
    if (more) out += " and " + std::to_string(more) + " more";
    out += ".";
  }
  const std::int64_t unread = ctx_.inboxes.agent_unread(agent);
  if (unread == 0) {
    out += " You have no unread messages.";
  } else {
    out += " You have " + plural(unread, "unread message", "unread messages");
    const auto by_sender = ctx_.inboxes.agent_unread_by_sender(agent);
    if (!by_sender.empty()) {
      out += " (";
      for (std::size_t i = 0; i < by_sender.size() && i < kMaxOnlineNamed; ++i) {
        out +=
            (i ? ", " : "") + std::to_string(by_sender[i].second) + " from " + by_sender[i].first;
      }
      if (by_sender.size() > kMaxOnlineNamed) out += ", …";
      out += ")";
    }
    out += " — read them with check_messages.";
  }
  return out;
}

// ---- The hook's wait ----

HookNotices::Wait::~Wait() { unregister(); }

void HookNotices::Wait::unregister() {
  for (auto& w : watchers_) owner_.ctx_.presence.remove_watcher(&w);
  auto it = owner_.waits_.find(agent_);
  if (it != owner_.waits_.end() && it->second == this) owner_.waits_.erase(it);
}

void HookNotices::Wait::finish(Outcome outcome, const std::string& notice) {
  if (finished_) return;
  finished_ = true;
  unregister();
  Done done = std::move(done_);
  done(outcome, notice);
}

void HookNotices::Wait::check() {
  if (finished_) return;
  if (auto notice = owner_.tell(agent_)) finish(Outcome::kMail, *notice);
}

std::variant<std::string, std::unique_ptr<HookNotices::Wait>> HookNotices::wait(
    const std::string& agent, Done done) {
  if (auto it = waits_.find(agent); it != waits_.end()) {
    it->second->finish(Outcome::kReplaced, "");
  }
  if (auto notice = tell(agent)) return *notice;
  std::unique_ptr<Wait> w(new Wait(*this, agent, std::move(done)));
  std::vector<SessionKey> keys = agent_mail_.seats_of(agent);
  keys.insert(keys.begin(), inbox_key(agent));
  w->watchers_.resize(keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    Presence::Waiter& watcher = w->watchers_[i];
    watcher.key = keys[i];
    watcher.wake = [raw = w.get()] { raw->check(); };
    ctx_.presence.add_watcher(&watcher);
  }
  waits_[agent] = w.get();
  return w;
}

}  // namespace cb::bridge
