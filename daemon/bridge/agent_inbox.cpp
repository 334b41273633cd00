// An agent's inbox (issue 23): every conversation it is a member of and every seat it joined,
// read oldest first and marked read; waits; and the redelivery of answers that may not have
// reached the model.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "daemon/bridge/agent_mail.h"

namespace cb::bridge {
namespace {

constexpr std::int64_t kMaxPage = 200;

// The messages a read hands out at most.
std::int64_t page_size(std::optional<std::int64_t> limit, std::int64_t default_limit) {
  return std::clamp<std::int64_t>(limit.value_or(default_limit), 1, kMaxPage);
}

Status wait_cancelled_status() {
  return Status::error("cancelled", "The wait was cancelled; nothing was read");
}

// The console's Agents page shows who is blocked in a wait (issue 25): one `agent` event when a
// wait starts and one when it ends. Built outside the coroutine (GCC 12, see CONTRIBUTING).
Json wait_event(const std::string& name, bool waiting) {
  return Json{{"event", "agent"}, {"name", name}, {"state", waiting ? "waiting" : "online"}};
}

// The answer to a read of the inbox that the store refused; rethrows what is no storage failure.
Status inbox_unreadable(const std::exception& e) {
  const auto why = store::storage_failure(e);
  if (!why) throw;
  return Status::error("storage", "Your inbox could not be read (" + *why +
                                      "); nothing was marked read — call again later");
}

Status not_bound_read(const char* tool) {
  return Status::error("missing_credentials",
                       std::string(tool) +
                           " needs conversation_id, session_id and token on a connection without "
                           "a named agent: pass the ones create_conversation returned");
}

}  // namespace

InboxPage AgentMail::mark_agent_inbox(const std::string& agent, const std::string& conversation_id,
                                      std::optional<std::int64_t> since_id,
                                      std::optional<std::int64_t> limit, const char* action,
                                      AgentMarked* marked,
                                      std::optional<std::vector<store::MessageRow>> prefetched) {
  const std::int64_t now = ctx_.clock.now_ms();
  const std::int64_t n = page_size(limit, ctx_.settings.default_read_limit);
  const std::int64_t after = since_id.value_or(0);
  std::vector<store::MessageRow> rows;
  if (prefetched) {
    rows = std::move(*prefetched);
  } else if (!conversation_id.empty()) {
    rows = ctx_.inboxes.conversation_inbox(conversation_id, agent, after, n + 1);
  } else if (since_id) {
    rows = ctx_.inboxes.agent_inbox(agent, after, n + 1);
  } else {
    // Joined seats keep their read marks on the messages: their unread ones join the page.
    rows = ctx_.inboxes.whole_inbox(agent, n + 1);
  }
  InboxPage page;
  page.conversation_id = conversation_id;
  page.agent = agent;
  page.has_more = static_cast<std::int64_t>(rows.size()) > n;
  if (page.has_more) rows.resize(static_cast<std::size_t>(n));
  if (!rows.empty()) {
    AgentMarked m;
    m.at_ms = now;
    std::map<std::string, std::pair<std::int64_t, std::int64_t>> span;  // first, last id
    for (const auto& r : rows) {
      if (r.recipient == "*") {
        auto [it, fresh] = span.try_emplace(r.conversation_id, r.id, r.id);
        if (!fresh) {
          it->second.first = std::min(it->second.first, r.id);
          it->second.second = std::max(it->second.second, r.id);
        }
      } else if (!r.read_ms) {
        m.seat_ids.push_back(r.id);
      }
      m.ids.push_back(r.id);
    }
    for (const auto& [conv, ids] : span) {
      if (since_id) {
        // After since_id, not the position: what lay between them is marked read too, and
        // given back with the page.
        m.positions_before[conv] = ctx_.members.advance(agent, conv, ids.second);
      } else {
        // Read from the position, oldest first: every message of another between it and the
        // page's first one is in the page, so giving back "just before the first" restores
        // the same unread messages, and the store need not answer where the position was.
        ctx_.members.move_past(agent, conv, ids.second);
        m.positions_before[conv] = ids.first - 1;
      }
    }
    ctx_.messages.mark_read(m.seat_ids, now);
    m.count = rows.size();
    ctx_.audit.record(conversation_id, agent, action, "ok",
                      Json{{"count", rows.size()},
                           {"first_id", rows.front().id},
                           {"last_id", rows.back().id},
                           {"conversations", span.size()}});
    for (auto& r : rows) {
      InboxMessage msg;
      msg.id = r.id;
      msg.conversation_id = r.conversation_id;
      msg.reply_to = r.reply_to;
      if (r.recipient == "*") {
        msg.from = r.sender;
        msg.from_role = r.sender;
      } else {
        // A joined seat's message: its sender seat's agent, else the seat's role.
        auto conv = ctx_.conversations.find(r.conversation_id);
        const auto holder = ctx_.members.seat_holder(r.conversation_id, r.sender);
        msg.from_role = r.sender == "system" ? "system"
                        : !conv              ? r.sender
                        : r.sender == "a"    ? conv->role_a
                                             : conv->role_b;
        msg.from = r.sender == "system" ? "system" : holder ? *holder : msg.from_role;
      }
      msg.body = std::move(r.body);
      msg.action_type = std::move(r.action_type);
      msg.files_json = std::move(r.files_json);
      msg.created_ms = r.created_ms;
      page.messages.push_back(std::move(msg));
    }
    if (marked) *marked = std::move(m);
  }
  // Without since_id the page held every unread message when nothing was left over, and all
  // of them are marked now: nothing remains, and counting would only say so.
  page.unread_remaining = !since_id && !page.has_more ? 0
                          : conversation_id.empty()
                              ? ctx_.inboxes.agent_unread(agent)
                              : ctx_.inboxes.member_unread(conversation_id, agent);
  box_.flag_redelivered(inbox_key(agent).str(), page);
  return page;
}

store::Ticket AgentMail::give_back_agent(const std::string& agent, const AgentMarked& marked,
                                       const char* outcome) {
  try {
    store::WriteTransaction tx(ctx_.db);
    for (const auto& [conv, before] : marked.positions_before) {
      ctx_.members.set_position(agent, conv, before);
    }
    const std::int64_t seats = ctx_.inboxes.unmark_ids(marked.seat_ids, marked.at_ms);
    ctx_.audit.record("", agent, "wait_for_messages", outcome,
                      Json{{"unread_again", marked.count},
                           {"seat_messages", seats},
                           {"ids", marked.ids}});
    const store::Ticket ticket = tx.commit();
    ctx_.db.after_commit([this, agent] { ctx_.presence.wake(inbox_key(agent)); });
    return ticket;
  } catch (const std::exception& e) {
    spdlog::error("a wait_for_messages of agent {} could not return {} message(s) to unread: {}",
                  agent, marked.count,
                  store::storage_failure(e).value_or("the database refused the write"));
    return store::Ticket{};
  }
}

Result<InboxPage> AgentMail::check_inbox(const Caller& caller, const std::string& conversation_id,
                                       std::optional<std::int64_t> since_id,
                                       std::optional<std::int64_t> limit) {
  const char* action = "check_messages";
  const std::string& me = caller.agent;
  if (me.empty()) return ctx_.refuse(conversation_id, "", action, not_bound_read(action));
  if (!conversation_id.empty()) {
    auto conv = ctx_.conversations.find(conversation_id);
    if (conv && conv->kind == "token") {
      auto seat = seat_of(caller, conversation_id, action);
      if (!seat) return std::move(seat).status();
      return box_.check_seat(caller, *seat, since_id, limit);
    }
    if (!conv || !ctx_.members.find(me, conversation_id)) {
      return ctx_.refuse(conversation_id, me, action,
                         Status::error("not_member", "Agent " + me + " is not a member of " +
                                                         conversation_id +
                                                         ": leave conversation_id out to read "
                                                         "your whole inbox"));
    }
  }
  agents_.seen(me);
  const SessionKey key = inbox_key(me);
  if (Status s = auth_.read_budget(key, action); !s.ok()) return s;
  ctx_.presence.inbox_read(key);
  ctx_.presence.supersede(key, caller.connection_id);
  try {
    store::WriteTransaction tx(ctx_.db);
    InboxPage page = mark_agent_inbox(me, conversation_id, since_id, limit, action, nullptr);
    page.ticket = tx.commit();
    return page;
  } catch (const std::exception& e) {
    return inbox_unreadable(e);
  }
}

awaitable<Result<InboxPage>> AgentMail::wait_inbox(
    Caller caller, std::string conversation_id, std::optional<std::int64_t> since_id,
    std::optional<std::int64_t> limit, std::int64_t timeout_seconds,
    std::function<void(const std::string&)> progress, std::function<bool()> cancelled) {
  const char* action = "wait_for_messages";
  const std::string me = caller.agent;
  if (me.empty()) co_return ctx_.refuse(conversation_id, "", action, not_bound_read(action));
  if (!conversation_id.empty()) {
    auto conv = ctx_.conversations.find(conversation_id);
    if (conv && conv->kind == "token") {
      auto seat = seat_of(caller, conversation_id, action);
      if (!seat) co_return std::move(seat).status();
      co_return co_await box_.wait_seat(caller, std::move(*seat), since_id, limit, timeout_seconds,
                                   std::move(progress), std::move(cancelled));
    }
    if (!conv || !ctx_.members.find(me, conversation_id)) {
      co_return ctx_.refuse(conversation_id, me, action,
                            Status::error("not_member",
                                          "Agent " + me + " is not a member of " +
                                              conversation_id +
                                              ": leave conversation_id out to wait on your whole "
                                              "inbox"));
    }
  }
  agents_.seen(me);
  const SessionKey key = inbox_key(me);
  if (Status s = auth_.read_budget(key, action); !s.ok()) co_return s;
  ctx_.presence.inbox_read(key);
  ctx_.presence.supersede(key, caller.connection_id);
  const std::int64_t started_ms = ctx_.clock.now_ms();

  auto has_mail = [&] {
    if (!conversation_id.empty()) {
      return !ctx_.inboxes.conversation_inbox(conversation_id, me, since_id.value_or(0), 1)
                  .empty();
    }
    if (since_id) return !ctx_.inboxes.agent_inbox(me, *since_id, 1).empty();
    return ctx_.inboxes.agent_unread(me) > 0;
  };
  const std::int64_t deadline_ms = started_ms + timeout_seconds * 1000;
  asio::steady_timer timer(co_await asio::this_coro::executor);
  InboxPage handed;
  AgentMarked marked;
  // One waiter on the inbox and one on each joined seat: a send to either hands it the page.
  // A wait on the whole inbox reads its seats and its first page together (one round trip to
  // a team's store); no await comes between that read and the waiters' registration, nor
  // between it and the transaction that marks the page when it holds mail.
  std::vector<SessionKey> keys;
  std::optional<std::vector<store::MessageRow>> first_page;
  if (conversation_id.empty() && !since_id) {
    store::Inboxes::WaitStart start =
        ctx_.inboxes.wait_start(me, page_size(limit, ctx_.settings.default_read_limit) + 1);
    for (auto& m : start.seats) {
      keys.push_back(SessionKey{std::move(m.conversation_id), std::move(m.seat)});
    }
    first_page = std::move(start.page);
  } else {
    keys = seats_of(me);
  }
  keys.insert(keys.begin(), key);
  std::vector<Presence::Waiter> waiters(keys.size());
  bool took = false;  // a send handed a page to one of them
  for (std::size_t i = 0; i < keys.size(); ++i) {
    Presence::Waiter& w = waiters[i];
    w.key = keys[i];
    w.connection = caller.connection_id;
    w.wake = [&timer] { timer.cancel(); };
    w.take = [&]() -> bool {
      if (cancelled() || took) return false;
      AgentMarked m;
      InboxPage answer = mark_agent_inbox(me, conversation_id, since_id, limit, action, &m);
      if (m.count == 0) return false;
      handed = std::move(answer);
      marked = std::move(m);
      took = true;
      return true;
    };
  }
  for (auto& w : waiters) ctx_.presence.add_waiter(&w);
  if (ctx_.events.watched()) ctx_.events.emit(wait_event(me, true));
  struct Unregister {
    Context& ctx;
    Agents& agents;
    std::vector<Presence::Waiter>& ws;
    const std::string& me;
    ~Unregister() {
      for (auto& w : ws) ctx.presence.remove_waiter(&w);
      // Gone offline meanwhile: its `offline` event said so already.
      if (ctx.events.watched() && agents.live(me)) ctx.events.emit(wait_event(me, false));
    }
  } unregister{ctx_, agents_, waiters, me};

  auto holder = [&]() -> Presence::Waiter* {
    for (auto& w : waiters) {
      if (w.took) return &w;
    }
    return nullptr;
  };
  auto hand_off_stands = [&] {
    Presence::Waiter* w = holder();
    if (!w) {
      took = false;
      return false;
    }
    const std::optional<std::string> failure = ctx_.db.outcome(w->handed);
    if (!failure || failure->empty()) return true;
    w->took = false;  // the group rolled back the message and the marks with it
    took = false;
    return false;
  };
  auto superseded = [&] {
    return std::any_of(waiters.begin(), waiters.end(),
                       [](const Presence::Waiter& w) { return w.superseded; });
  };
  // The answer with what the wait holds, given back when it may not reach the model.
  auto answer = [&](InboxPage page, store::Ticket ticket) -> InboxPage {
    page.ticket = ticket;
    if (!page.messages.empty() && box_.unconfirmed(caller, started_ms)) {
      const store::Ticket back = give_back_agent(me, marked, "unconfirmed");
      if (back.generation != 0) {
        auto& offered = box_.offered_[key.str()];
        for (const auto& m : page.messages) offered.insert(m.id);
        page.ticket = back;
      }
    }
    return page;
  };

  // Woken without a page handed over (the mail came from another daemon of a team, or a seat's
  // waiter was woken): mail is likely there, so it is read and marked at once, in one
  // transaction instead of a has_mail() first; if it is not there after all, the transaction
  // wrote nothing and the wait goes on.
  bool woken = false;
  for (;;) {
    if (superseded()) {
      InboxPage page;
      page.conversation_id = conversation_id;
      page.agent = me;
      if (hand_off_stands()) page.ticket = give_back_agent(me, marked, "superseded");
      page.unread_remaining = ctx_.inboxes.agent_unread(me);
      co_return page;
    }
    if (hand_off_stands()) {
      const store::Ticket t = holder()->handed;
      co_return answer(std::move(handed), t);
    }
    if (woken) {
      woken = false;
      AgentMarked m;
      std::optional<InboxPage> got;
      store::Ticket t;
      try {
        store::WriteTransaction tx(ctx_.db);
        InboxPage page = mark_agent_inbox(me, conversation_id, since_id, limit, action, &m);
        if (m.count > 0) {
          t = tx.commit();
          got = std::move(page);
        }
      } catch (const std::exception& e) {
        co_return inbox_unreadable(e);
      }
      if (got) {
        marked = std::move(m);
        co_return answer(std::move(*got), t);
      }
    } else if (first_page ? !first_page->empty() : has_mail()) {
      break;  // first_page, still set when it had mail, is what the read below marks
    }
    first_page.reset();
    const std::int64_t now = ctx_.clock.now_ms();
    if (now >= deadline_ms) break;
    const auto left = std::chrono::milliseconds(deadline_ms - now);
    timer.expires_after(std::min<std::chrono::milliseconds>(left, box_.progress_interval));
    std::error_code ec;
    co_await timer.async_wait(asio::redirect_error(use_awaitable, ec));
    if (cancelled()) {
      if (hand_off_stands()) give_back_agent(me, marked, "cancelled");
      co_return wait_cancelled_status();
    }
    if (!ec && ctx_.clock.now_ms() < deadline_ms && progress) progress("waiting for messages…");
    woken = ec == asio::error::operation_aborted;
  }
  try {
    store::WriteTransaction tx(ctx_.db);
    InboxPage page = mark_agent_inbox(me, conversation_id, since_id, limit, action, &marked,
                                      std::move(first_page));
    const store::Ticket t = tx.commit();
    co_return answer(std::move(page), t);
  } catch (const std::exception& e) {
    co_return inbox_unreadable(e);
  }
}

}  // namespace cb::bridge
