// Sending, reading and waiting for messages.
#include <spdlog/spdlog.h>

#include "daemon/bridge/bridge.h"

namespace cb::bridge {
namespace {

constexpr std::int64_t kMaxReadLimit = 200;

Json message_json(const store::MessageRow& m, const std::string& from_role) {
  return Json{{"id", m.id},
              {"from", m.sender},
              {"from_role", from_role},
              {"message", m.body},
              {"metadata", Json{{"action_type", m.action_type},
                                {"files_involved", Json::parse(m.files_json, nullptr, false)}}},
              {"timestamp", iso8601(m.created_ms)}};
}

// Built outside the coroutine: GCC 12 miscompiles brace-initialised temporaries in coroutines.
Refusal wait_cancelled_refusal() {
  return Refusal{"cancelled", "The wait was cancelled; nothing was read", std::nullopt};
}

}  // namespace

std::optional<Refusal> Bridge::send_budget(const Authed& a) {
  struct Window {
    const char* name;
    std::int64_t limit;
    std::int64_t ms;
    const char* unit;
  };
  const Window windows[] = {{"send_per_minute", settings_.send_per_minute, 60'000, "minute"},
                            {"send_per_hour", settings_.send_per_hour, 3'600'000, "hour"},
                            {"send_per_day", settings_.send_per_day, 86'400'000, "day"}};
  const std::int64_t now = clock_.now_ms();
  for (const auto& w : windows) {
    if (w.limit <= 0) continue;
    // Sliding window over the stored messages themselves: exact, and it survives restarts.
    const std::int64_t since = now - w.ms + 1;
    const std::int64_t sent =
        messages_.sent_since(a.self.conversation_id, a.self.session, {since}).front();
    if (sent < w.limit) continue;
    const auto oldest =
        messages_.nth_sent_time(a.self.conversation_id, a.self.session, since, sent - w.limit);
    const std::int64_t wait_ms = oldest ? *oldest + w.ms - now : w.ms;
    const std::int64_t secs = std::max<std::int64_t>(1, (wait_ms + 999) / 1000);
    return refuse(a.self.conversation_id, a.self.session, "send_to_partner",
                  Refusal{"rate_limited",
                          "Rate limit: at most " + std::to_string(w.limit) + " messages per " +
                              w.unit + " for this session; retry in " + std::to_string(secs) +
                              " s (retry_after_seconds=" + std::to_string(secs) +
                              "), or put more into one message",
                          secs},
                  Json{{"window", w.name}, {"limit", w.limit}});
  }
  return std::nullopt;
}

Result Bridge::send(const Caller& caller, const Credentials& cred, const std::string& message,
                    const std::string& action_type, const std::vector<std::string>& files) {
  auto auth = authenticate(caller, cred, "send_to_partner");
  if (auto* r = std::get_if<Refusal>(&auth)) return *r;
  auto& a = std::get<Authed>(auth);
  const std::size_t chars = code_points(message);
  if (static_cast<std::int64_t>(chars) > settings_.message_max_chars) {
    return refuse(a.self.conversation_id, a.self.session, "send_to_partner",
                  Refusal{"too_long",
                          "Message is " + std::to_string(chars) + " characters; the limit is " +
                              std::to_string(settings_.message_max_chars) +
                              " — split it into several messages or send a file path instead",
                          std::nullopt},
                  Json{{"chars", chars}});
  }
  if (auto r = send_budget(a)) return *r;

  // Redaction is structural: the message and each metadata string on its own, never JSON text.
  std::map<std::string, int> kinds;
  redact::Redacted body = redactor_->redact(message);
  body.add_counts_to(kinds);
  Json files_json = Json::array();
  for (const auto& f : files) {
    redact::Redacted rf = redactor_->redact(f);
    rf.add_counts_to(kinds);
    files_json.push_back(std::move(rf.text));
  }
  Json redactions = Json::object();
  int total = 0;
  for (const auto& [kind, n] : kinds) {
    redactions[kind] = n;
    total += n;
  }

  store::MessageRow row;
  row.conversation_id = a.self.conversation_id;
  row.sender = a.self.session;
  row.recipient = a.partner.session;
  row.body = std::move(body.text);
  row.action_type = action_type;
  row.files_json = files_json.dump();
  row.redactions_json = redactions.dump();
  row.created_ms = clock_.now_ms();
  bool taken = false;
  {
    store::WriteTransaction tx(db_);
    row.id = messages_.insert(row);
    audit_.record(a.self.conversation_id, a.self.session, "send_to_partner", "ok",
                  Json{{"message_id", row.id},
                       {"chars", chars},
                       {"action_type", action_type},
                       {"files", files.size()},
                       {"redactions", redactions}});
    // A partner blocked in wait_for_messages takes the message in this transaction: its answer
    // is ready when the commit wakes it. If this transaction rolls back, so does the hand-off.
    struct HandOff {
      Presence::Waiter* waiter;
      ~HandOff() {
        if (waiter) waiter->took = false;
      }
    } hand_off{presence_.hand_off(a.partner)};
    tx.commit();
    taken = hand_off.waiter != nullptr;
    hand_off.waiter = nullptr;
  }
  deliver(a, row, taken);
  return Json{{"status", "sent"},
              {"message_id", row.id},
              {"conversation_id", row.conversation_id},
              {"to", row.recipient},
              {"to_role", a.partner_role},
              {"redacted", total > 0},
              {"redactions", redactions},
              {"timestamp", iso8601(row.created_ms)}};
}

void Bridge::deliver(const Authed& from, const store::MessageRow& row, bool taken) {
  // Waiters wake and partners are told only once the message is durable (group commit).
  db_.after_commit([this, from, row, taken] { deliver_now(from, row, taken); });
}

void Bridge::deliver_now(const Authed& from, const store::MessageRow& row, bool taken) {
  presence_.wake(from.partner);
  // A waiter that took the message answers as soon as it runs: before the sender's receipt.
  if (taken) db_.answer_after_wakes();
  if (watched()) {
    emit(Json{{"event", "message"},
              {"conversation_id", row.conversation_id},
              {"id", row.id},
              {"from", row.sender},
              {"to", row.recipient},
              {"from_role", from.role},
              {"action_type", row.action_type},
              {"message", row.body},
              {"timestamp", iso8601(row.created_ms)}});
  }
  // A waiter that took the message answers with it now; a push would only send the model to
  // check_messages for nothing. A session already told of unread mail is not told again until
  // it reads: one push per batch, not one per message.
  if (!notifier_ || taken) return;
  const auto conns = presence_.to_tell(from.partner);
  if (conns.empty()) return;
  const std::int64_t unread = messages_.unread_count(row.conversation_id, row.recipient);
  const std::string content = std::to_string(unread) + " new message" + (unread == 1 ? "" : "s") +
                              " from " + from.role + " in " + row.conversation_id +
                              " — call check_messages";
  for (auto conn : conns) {
    notifier_->push(conn, "notifications/claude/channel",
                    Json{{"content", content},
                         {"meta", Json{{"conversation_id", row.conversation_id},
                                       {"from", from.role},
                                       {"message_id", std::to_string(row.id)}}}});
  }
}

Result Bridge::read_inbox(const Authed& a, std::optional<std::int64_t> since_id,
                          std::optional<std::int64_t> limit, const char* action) {
  try {
    return read_and_mark(a, since_id, limit, action);
  } catch (const std::exception& e) {
    const auto why = store::storage_failure(e);
    if (!why) throw;
    spdlog::warn("{} served without marking read: {}", action, *why);
    return peek_inbox(a, since_id, limit);
  }
}

Json Bridge::peek_inbox(const Authed& a, std::optional<std::int64_t> since_id,
                        std::optional<std::int64_t> limit) {
  const std::int64_t n = std::clamp<std::int64_t>(limit.value_or(settings_.default_read_limit), 1,
                                                  kMaxReadLimit);
  auto rows = since_id ? messages_.after(a.self.conversation_id, a.self.session, *since_id, n + 1)
                       : messages_.unread(a.self.conversation_id, a.self.session, n + 1);
  const bool has_more = static_cast<std::int64_t>(rows.size()) > n;
  if (has_more) rows.resize(static_cast<std::size_t>(n));
  Json out = Json::array();
  for (const auto& m : rows) {
    out.push_back(message_json(m, m.sender == "system" ? "system"
                                  : m.sender == a.self.session ? a.role
                                                               : a.partner_role));
  }
  return Json{{"conversation_id", a.self.conversation_id},
              {"session_id", a.self.session},
              {"messages", std::move(out)},
              {"has_more", has_more},
              {"unread_remaining", messages_.unread_count(a.self.conversation_id, a.self.session)},
              {"marked_read", false}};
}

Result Bridge::peek_messages(const Caller& caller, const Credentials& cred,
                             std::optional<std::int64_t> since_id,
                             std::optional<std::int64_t> limit) {
  auto auth = authenticate(caller, cred, "check_messages");
  if (auto* r = std::get_if<Refusal>(&auth)) return *r;
  presence_.inbox_read(std::get<Authed>(auth).self);
  return peek_inbox(std::get<Authed>(auth), since_id, limit);
}

Json Bridge::mark_inbox(const Authed& a, std::optional<std::int64_t> since_id,
                        std::optional<std::int64_t> limit, const char* action, Marked* marked) {
  const std::int64_t n = std::clamp<std::int64_t>(limit.value_or(settings_.default_read_limit), 1,
                                                  kMaxReadLimit);
  const std::int64_t now = clock_.now_ms();
  Json out = Json::array();
  auto rows = since_id ? messages_.after(a.self.conversation_id, a.self.session, *since_id, n + 1)
                       : messages_.unread(a.self.conversation_id, a.self.session, n + 1);
  const bool has_more = static_cast<std::int64_t>(rows.size()) > n;
  if (has_more) rows.resize(static_cast<std::size_t>(n));
  if (!rows.empty()) {
    // Every message to us in (since_id or 0, last id] is in `rows`: all of them after since_id,
    // or all the unread ones, oldest first, cut at the limit.
    std::vector<std::int64_t> unread_ids;
    for (const auto& m : rows) {
      if (!m.read_ms) unread_ids.push_back(m.id);
    }
    messages_.mark_read(unread_ids, now);
    if (marked) *marked = Marked{since_id.value_or(0), rows.back().id, now, rows.size()};
    for (const auto& m : rows) {
      out.push_back(message_json(m, m.sender == "system" ? "system"
                                    : m.sender == a.self.session ? a.role
                                                                 : a.partner_role));
    }
    // Empty polls are counted, not written row by row; the count rides on the next read.
    const std::string key = a.self.str();
    const std::int64_t empties = empty_polls_[key];
    empty_polls_.erase(key);
    audit_.record(a.self.conversation_id, a.self.session, action, "ok",
                  Json{{"count", rows.size()},
                       {"first_id", rows.front().id},
                       {"last_id", rows.back().id},
                       {"empty_polls_before", empties}});
  }
  // Reading the unread ones without a cut at the limit took them all: none remain.
  const std::int64_t remaining =
      !since_id && !has_more ? 0 : messages_.unread_count(a.self.conversation_id, a.self.session);
  return Json{{"conversation_id", a.self.conversation_id},
              {"session_id", a.self.session},
              {"messages", std::move(out)},
              {"has_more", has_more},
              {"unread_remaining", remaining}};
}

Result Bridge::read_and_mark(const Authed& a, std::optional<std::int64_t> since_id,
                             std::optional<std::int64_t> limit, const char* action) {
  store::WriteTransaction tx(db_);
  Json out = mark_inbox(a, since_id, limit, action, nullptr);
  if (out["messages"].empty()) {
    ++empty_polls_[a.self.str()];
    ++empty_polls_total_;
  }
  tx.commit();
  return out;
}

void Bridge::give_back(const Authed& a, const Marked& marked) {
  try {
    store::WriteTransaction tx(db_);
    const std::int64_t n = messages_.unmark_read(a.self.conversation_id, a.self.session,
                                                 marked.after_id, marked.up_to_id, marked.at_ms);
    audit_.record(a.self.conversation_id, a.self.session, "wait_for_messages", "cancelled",
                  Json{{"unread_again", n}, {"first_after", marked.after_id},
                       {"last_id", marked.up_to_id}});
    tx.commit();
  } catch (const std::exception& e) {
    // The messages stay marked read: say so, this is the one way a message can go missing.
    spdlog::error("a cancelled wait_for_messages could not return {} message(s) of {} to "
                  "unread: {}; `claude-bridgectl show {}` lists them",
                  marked.count, a.self.str(),
                  store::storage_failure(e).value_or("the database refused the write"),
                  a.self.conversation_id);
  }
}

Result Bridge::check_messages(const Caller& caller, const Credentials& cred,
                              std::optional<std::int64_t> since_id,
                              std::optional<std::int64_t> limit) {
  auto auth = authenticate(caller, cred, "check_messages");
  if (auto* r = std::get_if<Refusal>(&auth)) return *r;
  auto& a = std::get<Authed>(auth);
  if (auto r = read_budget(a, "check_messages")) return *r;
  presence_.inbox_read(a.self);  // the next message is pushed again
  return read_inbox(a, since_id, limit, "check_messages");
}

awaitable<Result> Bridge::wait_for_messages(Caller caller, Credentials cred,
                                            std::optional<std::int64_t> since_id,
                                            std::optional<std::int64_t> limit,
                                            std::int64_t timeout_seconds,
                                            std::function<void(const std::string&)> progress,
                                            std::function<bool()> cancelled) {
  auto auth = authenticate(caller, cred, "wait_for_messages");
  if (auto* r = std::get_if<Refusal>(&auth)) co_return *r;
  Authed a = std::get<Authed>(std::move(auth));
  if (auto r = read_budget(a, "wait_for_messages")) co_return *r;
  presence_.inbox_read(a.self);

  auto has_mail = [&] {
    if (since_id) return !messages_.after(a.self.conversation_id, a.self.session, *since_id, 1).empty();
    return messages_.unread_count(a.self.conversation_id, a.self.session) > 0;
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
  asio::steady_timer timer(co_await asio::this_coro::executor);
  // A send hands this wait its message inside the send's transaction (Presence::hand_off):
  // the answer, what it marked, and the commit group that holds both.
  Json handed;
  Marked marked;
  std::uint64_t handed_group = 0;
  Presence::Waiter waiter;
  waiter.key = a.self;
  waiter.wake = [&timer] { timer.cancel(); };
  waiter.take = [&]() -> bool {
    if (cancelled()) return false;
    Marked m;
    Json answer = mark_inbox(a, since_id, limit, "wait_for_messages", &m);
    if (m.count == 0) return false;
    handed = std::move(answer);
    marked = m;
    handed_group = db_.open_group();
    return true;
  };
  presence_.add_waiter(&waiter);
  struct Unregister {
    Presence& p;
    Presence::Waiter* w;
    ~Unregister() { p.remove_waiter(w); }
  } unregister{presence_, &waiter};

  // Whether the hand-off stands: its group committed, or is still open or waiting for its sync.
  // A pending group is waited for by the tool's durable wrapper, which answers with an error if
  // it then fails.
  auto hand_off_stands = [&] {
    if (!waiter.took) return false;
    if (handed_group == 0 || db_.pending(handed_group)) return true;
    std::string failure;
    db_.when_done(handed_group, [&failure](const std::string& why) { failure = why; });
    if (failure.empty()) return true;
    waiter.took = false;  // the group rolled back the message and the marks with it
    return false;
  };

  for (;;) {
    if (hand_off_stands()) co_return std::move(handed);
    if (has_mail()) break;
    const auto now = std::chrono::steady_clock::now();
    // Expiry while waiting ends the wait like any other refusal would on the next call.
    if (now >= deadline || clock_.now_ms() >= a.conversation.expires_ms) break;
    timer.expires_at(std::min(deadline, now + progress_interval));
    std::error_code ec;
    co_await timer.async_wait(asio::redirect_error(use_awaitable, ec));
    if (cancelled()) {
      // Nothing is consumed: whatever arrived stays unread, a handed message included.
      if (hand_off_stands()) give_back(a, marked);
      co_return wait_cancelled_refusal();
    }
    if (!ec && std::chrono::steady_clock::now() < deadline && progress) {
      progress("waiting for partner (" + a.partner_role + ")…");
    }
  }
  co_return read_inbox(a, since_id, limit, "wait_for_messages");
}

}  // namespace cb::bridge
