// Reading and waiting: pages of a seat's inbox, the read marks, and blocked waits.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "daemon/bridge/mailbox.h"

namespace cb::bridge {
namespace {

constexpr std::int64_t kMaxReadLimit = 200;

// Built outside the coroutine: GCC 12 miscompiles brace-initialised temporaries in coroutines.
Status wait_cancelled() { return Status::error("cancelled", "The wait was cancelled; nothing was read"); }

}  // namespace

InboxMessage Mailbox::inbox_message(const Authed& a, const store::MessageRow& m) {
  InboxMessage out;
  out.id = m.id;
  out.from = m.sender;
  out.from_role = m.sender == "system"        ? "system"
                  : m.sender == a.self.session ? a.role
                                               : a.partner_role;
  out.body = m.body;
  out.action_type = m.action_type;
  out.files_json = m.files_json;
  out.created_ms = m.created_ms;
  return out;
}

std::vector<store::MessageRow> Mailbox::page_rows(const Authed& a,
                                                  std::optional<std::int64_t> since_id,
                                                  std::optional<std::int64_t> limit,
                                                  bool* has_more) {
  const std::int64_t n = std::clamp<std::int64_t>(limit.value_or(ctx_.settings.default_read_limit),
                                                  1, kMaxReadLimit);
  auto rows = since_id
                  ? ctx_.messages.after(a.self.conversation_id, a.self.session, *since_id, n + 1)
                  : ctx_.messages.unread(a.self.conversation_id, a.self.session, n + 1);
  *has_more = static_cast<std::int64_t>(rows.size()) > n;
  if (*has_more) rows.resize(static_cast<std::size_t>(n));
  return rows;
}

InboxPage Mailbox::peek_inbox(const Authed& a, std::optional<std::int64_t> since_id,
                              std::optional<std::int64_t> limit) {
  InboxPage page;
  page.conversation_id = a.self.conversation_id;
  page.session_id = a.self.session;
  for (const auto& m : page_rows(a, since_id, limit, &page.has_more)) {
    page.messages.push_back(inbox_message(a, m));
  }
  page.unread_remaining = ctx_.messages.unread_count(a.self.conversation_id, a.self.session);
  page.marked_read = false;
  return page;
}

InboxPage Mailbox::mark_inbox(const Authed& a, std::optional<std::int64_t> since_id,
                              std::optional<std::int64_t> limit, const char* action,
                              Marked* marked) {
  const std::int64_t now = ctx_.clock.now_ms();
  InboxPage page;
  page.conversation_id = a.self.conversation_id;
  page.session_id = a.self.session;
  const auto rows = page_rows(a, since_id, limit, &page.has_more);
  if (!rows.empty()) {
    // Every message to us in (since_id or 0, last id] is in `rows`: all of them after since_id,
    // or all the unread ones, oldest first, cut at the limit.
    std::vector<std::int64_t> unread_ids;
    for (const auto& m : rows) {
      if (!m.read_ms) unread_ids.push_back(m.id);
    }
    ctx_.messages.mark_read(unread_ids, now);
    if (marked) *marked = Marked{since_id.value_or(0), rows.back().id, now, rows.size()};
    for (const auto& m : rows) page.messages.push_back(inbox_message(a, m));
    // Empty polls are counted, not written row by row; the count rides on the next read.
    const std::string key = a.self.str();
    const std::int64_t empties = empty_polls_[key];
    empty_polls_.erase(key);
    ctx_.audit.record(a.self.conversation_id, a.self.session, action, "ok",
                      Json{{"count", rows.size()},
                           {"first_id", rows.front().id},
                           {"last_id", rows.back().id},
                           {"empty_polls_before", empties}});
  }
  // Reading the unread ones without a cut at the limit took them all: none remain.
  page.unread_remaining =
      !since_id && !page.has_more
          ? 0
          : ctx_.messages.unread_count(a.self.conversation_id, a.self.session);
  if (!offered_.empty()) flag_redelivered(a.self.str(), page);
  return page;
}

InboxPage Mailbox::read_and_mark(const Authed& a, std::optional<std::int64_t> since_id,
                                 std::optional<std::int64_t> limit, const char* action,
                                 Marked* marked) {
  store::WriteTransaction tx(ctx_.db);
  InboxPage page = mark_inbox(a, since_id, limit, action, marked);
  // An empty poll writes nothing but still waits on the group: what it read may be in it.
  if (page.messages.empty()) {
    ++empty_polls_[a.self.str()];
    ++empty_polls_total_;
  }
  page.ticket = tx.commit();
  return page;
}

Result<InboxPage> Mailbox::read_inbox(const Authed& a, std::optional<std::int64_t> since_id,
                                      std::optional<std::int64_t> limit, const char* action,
                                      Marked* marked) {
  try {
    return read_and_mark(a, since_id, limit, action, marked);
  } catch (const std::exception& e) {
    // A storage fault caught here, not at the request's edge: the read is still served.
    const auto why = store::storage_failure(e);
    if (!why) throw;
    spdlog::warn("{} served without marking read: {}", action, *why);
    return peek_inbox(a, since_id, limit);
  }
}

store::Ticket Mailbox::give_back(const Authed& a, const Marked& marked, const char* outcome) {
  try {
    store::WriteTransaction tx(ctx_.db);
    const std::int64_t n = ctx_.messages.unmark_read(a.self.conversation_id, a.self.session,
                                                     marked.after_id, marked.up_to_id,
                                                     marked.at_ms);
    ctx_.audit.record(a.self.conversation_id, a.self.session, "wait_for_messages", outcome,
                      Json{{"unread_again", n},
                           {"first_after", marked.after_id},
                           {"last_id", marked.up_to_id}});
    const store::Ticket ticket = tx.commit();
    // A newer wait of the seat (the one that superseded this) takes them now.
    ctx_.db.after_commit([this, key = a.self] { ctx_.presence.wake(key); });
    return ticket;
  } catch (const std::exception& e) {
    // The messages stay marked read: say so, this is the one way a message can go missing.
    spdlog::error("a cancelled wait_for_messages could not return {} message(s) of {} to "
                  "unread: {}; `claude-bridgectl show {}` lists them",
                  marked.count, a.self.str(),
                  store::storage_failure(e).value_or("the database refused the write"),
                  a.self.conversation_id);
    return store::Ticket{};
  }
}

InboxPage Mailbox::superseded_page(const Authed& a, bool gave_back, const Marked& marked) {
  InboxPage page;
  page.conversation_id = a.self.conversation_id;
  page.session_id = a.self.session;
  if (gave_back) page.ticket = give_back(a, marked, "superseded");
  page.unread_remaining = ctx_.messages.unread_count(a.self.conversation_id, a.self.session);
  return page;
}

Result<InboxPage> Mailbox::peek_messages(const Caller& caller, const Credentials& cred,
                                         std::optional<std::int64_t> since_id,
                                         std::optional<std::int64_t> limit) {
  auto auth = auth_.authenticate(caller, cred, "check_messages");
  if (!auth) return std::move(auth).status();
  ctx_.presence.inbox_read(auth->self);
  return peek_inbox(*auth, since_id, limit);
}

Result<InboxPage> Mailbox::check_messages(const Caller& caller, const Credentials& cred,
                                          std::optional<std::int64_t> since_id,
                                          std::optional<std::int64_t> limit) {
  auto auth = auth_.authenticate(caller, cred, "check_messages");
  if (!auth) return std::move(auth).status();
  return check_seat(caller, *auth, since_id, limit);
}

Result<InboxPage> Mailbox::check_seat(const Caller& caller, const Authed& a,
                                      std::optional<std::int64_t> since_id,
                                      std::optional<std::int64_t> limit) {
  if (Status s = auth_.read_budget(a, "check_messages"); !s.ok()) return s;
  ctx_.presence.inbox_read(a.self);  // the next message is told again
  ctx_.presence.supersede(a.self, caller.connection_id);
  return read_inbox(a, since_id, limit, "check_messages");
}

awaitable<Result<InboxPage>> Mailbox::wait_for_messages(
    Caller caller, Credentials cred, std::optional<std::int64_t> since_id,
    std::optional<std::int64_t> limit, std::int64_t timeout_seconds,
    std::function<void(const std::string&)> progress, std::function<bool()> cancelled) {
  auto auth = auth_.authenticate(caller, cred, "wait_for_messages");
  if (!auth) co_return std::move(auth).status();
  co_return co_await wait_seat(std::move(caller), std::move(*auth), since_id, limit,
                               timeout_seconds, std::move(progress), std::move(cancelled));
}

awaitable<Result<InboxPage>> Mailbox::wait_seat(
    Caller caller, Authed a, std::optional<std::int64_t> since_id,
    std::optional<std::int64_t> limit, std::int64_t timeout_seconds,
    std::function<void(const std::string&)> progress, std::function<bool()> cancelled) {
  if (Status s = auth_.read_budget(a, "wait_for_messages"); !s.ok()) co_return s;
  ctx_.presence.inbox_read(a.self);
  ctx_.presence.supersede(a.self, caller.connection_id);
  const std::int64_t started_ms = ctx_.clock.now_ms();

  auto has_mail = [&] {
    if (since_id) {
      return !ctx_.messages.after(a.self.conversation_id, a.self.session, *since_id, 1).empty();
    }
    return ctx_.messages.unread_count(a.self.conversation_id, a.self.session) > 0;
  };
  // Every deadline is on the Clock; the timer only paces the checks (and the progress).
  const std::int64_t deadline_ms = started_ms + timeout_seconds * 1000;
  asio::steady_timer timer(co_await asio::this_coro::executor);
  // A send hands this wait its message inside the send's transaction (Presence::hand_off):
  // the answer and what it marked; the send's ticket (waiter.handed) covers both.
  InboxPage handed;
  Marked marked;
  Presence::Waiter waiter;
  waiter.key = a.self;
  waiter.connection = caller.connection_id;
  waiter.wake = [&timer] { timer.cancel(); };
  waiter.take = [&]() -> bool {
    if (cancelled()) return false;
    Marked m;
    InboxPage answer = mark_inbox(a, since_id, limit, "wait_for_messages", &m);
    if (m.count == 0) return false;
    handed = std::move(answer);
    marked = m;
    return true;
  };
  ctx_.presence.add_waiter(&waiter);
  struct Unregister {
    Presence& p;
    Presence::Waiter* w;
    ~Unregister() { p.remove_waiter(w); }
  } unregister{ctx_.presence, &waiter};

  // Whether the hand-off stands: the send's ticket is durable, or still pending — the tool layer
  // waits on it and answers with an error if its group then fails.
  auto hand_off_stands = [&] {
    if (!waiter.took) return false;
    const std::optional<std::string> failure = ctx_.db.outcome(waiter.handed);
    if (!failure || failure->empty()) return true;
    waiter.took = false;  // the group rolled back the message and the marks with it
    return false;
  };

  for (;;) {
    // A newer read of this seat on this connection: the client gave up on this call.
    if (waiter.superseded) co_return superseded_page(a, hand_off_stands(), marked);
    if (hand_off_stands()) {
      handed.ticket = waiter.handed;
      co_return confirm_or_offer(caller, a, started_ms, std::move(handed), marked);
    }
    if (has_mail()) break;
    const std::int64_t now = ctx_.clock.now_ms();
    // Expiry while waiting ends the wait like any other refusal would on the next call.
    if (now >= deadline_ms || now >= a.conversation.expires_ms) break;
    const auto left = std::chrono::milliseconds(deadline_ms - now);
    timer.expires_after(std::min<std::chrono::milliseconds>(left, progress_interval));
    std::error_code ec;
    co_await timer.async_wait(asio::redirect_error(use_awaitable, ec));
    if (cancelled()) {
      // Nothing is consumed: whatever arrived stays unread, a handed message included.
      if (hand_off_stands()) give_back(a, marked, "cancelled");
      co_return wait_cancelled();
    }
    if (!ec && ctx_.clock.now_ms() < deadline_ms && progress) {
      progress("waiting for partner (" + a.partner_role + ")…");
    }
  }
  Marked read;
  auto page = read_inbox(a, since_id, limit, "wait_for_messages", &read);
  if (!page) co_return page;
  co_return confirm_or_offer(caller, a, started_ms, std::move(*page), read);
}

InboxPage Mailbox::confirm_or_offer(const Caller& caller, const Authed& a,
                                    std::int64_t started_ms, InboxPage page, const Marked& marked) {
  if (page.messages.empty() || !page.marked_read || !unconfirmed(caller, started_ms)) return page;
  // The client may have given up on this call long ago (no progress told it the call lived):
  // the messages stay unread and come again, flagged, with the seat's next read.
  const store::Ticket back = give_back(a, marked, "unconfirmed");
  if (back.generation != 0) {
    auto& offered = offered_[a.self.str()];
    for (const auto& m : page.messages) offered.insert(m.id);
    page.ticket = back;
  }
  return page;
}

bool Mailbox::unconfirmed(const Caller& caller, std::int64_t started_ms) const {
  return !caller.progress_kept_alive &&
         ctx_.clock.now_ms() - started_ms >= ctx_.settings.redeliver_after_seconds * 1000;
}

void Mailbox::flag_redelivered(const std::string& reader, InboxPage& page) {
  auto it = offered_.find(reader);
  if (it == offered_.end()) return;
  for (auto& m : page.messages) {
    if (it->second.erase(m.id) != 0) m.redelivered = true;
  }
  if (it->second.empty()) offered_.erase(it);
}

}  // namespace cb::bridge
