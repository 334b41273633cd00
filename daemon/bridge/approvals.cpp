#include "daemon/bridge/approvals.h"

#include <algorithm>

namespace cb::bridge {

std::string_view approval_state_name(ApprovalState state) {
  switch (state) {
    case ApprovalState::kPending:
      return "pending";
    case ApprovalState::kApproved:
      return "approved";
    case ApprovalState::kDenied:
      return "denied";
    case ApprovalState::kExpired:
      return "expired";
  }
  return "unknown";
}

const Approval& ApprovalQueue::add(std::string id, ApprovalRequest request, std::int64_t ttl_ms,
                                   std::function<void()> wake) {
  Entry e;
  e.approval.id = id;
  e.approval.request = std::move(request);
  e.approval.created_ms = clock_.now_ms();
  e.approval.expires_ms = e.approval.created_ms + std::max<std::int64_t>(ttl_ms, 0);
  e.wake = std::move(wake);
  e.seq = next_seq_++;
  auto [it, inserted] = entries_.insert_or_assign(std::move(id), std::move(e));
  (void)inserted;
  return it->second.approval;
}

void ApprovalQueue::finish(Entry& e, ApprovalState state) {
  e.approval.state = state;
  // Moved out first, so it runs at most once.
  auto wake = std::move(e.wake);
  e.wake = nullptr;
  if (wake) wake();
}

std::size_t ApprovalQueue::expire_due() {
  const std::int64_t now = clock_.now_ms();
  std::vector<std::string> due;
  for (const auto& [id, e] : entries_) {
    if (e.approval.state == ApprovalState::kPending && now >= e.approval.expires_ms) {
      due.push_back(id);
    }
  }
  for (const auto& id : due) {
    if (auto it = entries_.find(id); it != entries_.end()) finish(it->second, ApprovalState::kExpired);
  }
  return due.size();
}

std::vector<Approval> ApprovalQueue::pending() {
  expire_due();
  std::vector<const Entry*> list;
  for (const auto& [id, e] : entries_) {
    if (e.approval.state == ApprovalState::kPending) list.push_back(&e);
  }
  std::sort(list.begin(), list.end(), [](const Entry* a, const Entry* b) { return a->seq < b->seq; });
  std::vector<Approval> out;
  out.reserve(list.size());
  for (const Entry* e : list) out.push_back(e->approval);
  return out;
}

std::size_t ApprovalQueue::pending_of(const std::string& conversation_id,
                                      const std::string& session_id) const {
  std::size_t n = 0;
  for (const auto& [id, e] : entries_) {
    const auto& r = e.approval.request;
    if (r.conversation_id == conversation_id && r.session_id == session_id) ++n;
  }
  return n;
}

ApprovalQueue::Outcome ApprovalQueue::decide(const std::string& id, bool approve,
                                             const std::string& by) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return Outcome::kUnknown;
  Entry& e = it->second;
  if (e.approval.state == ApprovalState::kPending && clock_.now_ms() >= e.approval.expires_ms) {
    finish(e, ApprovalState::kExpired);
    return Outcome::kExpired;
  }
  if (e.approval.state == ApprovalState::kExpired) return Outcome::kExpired;
  if (e.approval.state != ApprovalState::kPending) return Outcome::kAlreadyDecided;
  e.approval.decided_by = by;
  finish(e, approve ? ApprovalState::kApproved : ApprovalState::kDenied);
  return Outcome::kDecided;
}

const Approval* ApprovalQueue::find(const std::string& id) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return nullptr;
  Approval& a = it->second.approval;
  if (a.state == ApprovalState::kPending && clock_.now_ms() >= a.expires_ms) {
    finish(it->second, ApprovalState::kExpired);
  }
  return &a;
}

void ApprovalQueue::expire(const std::string& id) {
  auto it = entries_.find(id);
  if (it == entries_.end() || it->second.approval.state != ApprovalState::kPending) return;
  it->second.approval.state = ApprovalState::kExpired;
  it->second.wake = nullptr;
}

}  // namespace cb::bridge
