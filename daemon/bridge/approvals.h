#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"

// Commands waiting for a person. execute_command queues every command it is about to run and
// waits; `claude-bridgectl approvals` lists the queue over ctl.sock, `approve` / `deny` decide.
// The queue is plain data on the daemon's single thread: it never sleeps and never runs
// anything. Time comes from the injected Clock (tests use a FakeClock); the waiting side keeps
// its own steady_timer and calls expire() when its deadline passes.
namespace cb::bridge {

enum class ApprovalState { kPending, kApproved, kDenied, kExpired };
// "pending" | "approved" | "denied" | "expired"
std::string_view approval_state_name(ApprovalState state);

// What a person is asked to allow. Immutable once queued: what `approve` shows is exactly what
// runs.
struct ApprovalRequest {
  std::string conversation_id;
  std::string session_id;  // "a" or "b"
  std::string role;        // the requesting session's role
  std::vector<std::string> argv;
  std::string workspace;  // canonical
  std::string mode;       // "safe" | "restricted" | "yolo"
  bool allow_network = false;
  std::int64_t timeout_seconds = 30;
  // "accepted" when the requesting client's own dialog (MCP elicitation) was accepted first,
  // "not_asked" when the client cannot show one. Never a substitute for the operator.
  std::string client_confirmation = "not_asked";
};

struct Approval {
  std::string id;  // apr_ + 8 hex
  ApprovalRequest request;
  std::int64_t created_ms = 0;
  std::int64_t expires_ms = 0;
  ApprovalState state = ApprovalState::kPending;
  std::string decided_by;  // "uid 1000 pid 4242" once decided by an operator
};

class ApprovalQueue {
 public:
  explicit ApprovalQueue(const Clock& clock) : clock_(clock) {}
  ApprovalQueue(const ApprovalQueue&) = delete;
  ApprovalQueue& operator=(const ApprovalQueue&) = delete;

  // Queues `request` under `id` (which must be new) for `ttl_ms`. `wake` is called at most
  // once, when the approval leaves kPending through decide(), find() or expire_due(); the
  // waiter then reads the state with find() and withdraw()s the entry. `wake` must only
  // schedule the waiter (e.g. cancel its timer), never call back into the queue. Returns the
  // queued entry (valid until the next call that adds or removes entries).
  const Approval& add(std::string id, ApprovalRequest request, std::int64_t ttl_ms,
                      std::function<void()> wake);

  // Pending approvals, oldest first. Those past their expiry are expired (and woken) first.
  std::vector<Approval> pending();
  // Pending approvals of one session (the requester's quota).
  std::size_t pending_of(const std::string& conversation_id, const std::string& session_id) const;

  enum class Outcome { kDecided, kUnknown, kExpired, kAlreadyDecided };
  // A person's decision. kUnknown: no such id (never queued, withdrawn or taken); kExpired:
  // past its expiry (it is marked expired and its waiter woken); kAlreadyDecided: decided
  // before. `by` identifies the operator for the record.
  Outcome decide(const std::string& id, bool approve, const std::string& by);

  // The entry, or nullptr. A pending entry past its expiry turns kExpired here (its waiter is
  // woken).
  const Approval* find(const std::string& id);
  // Marks a still-pending approval expired (the waiter's own deadline passed). No wake-up: the
  // caller is the waiter.
  void expire(const std::string& id);
  // Expires every pending approval past its expiry and wakes its waiter; returns how many.
  std::size_t expire_due();
  // The waiter is done with it (it ran, was denied, expired) or gave up waiting (its call was
  // cancelled or its connection closed): the entry disappears from the queue whatever its
  // state, so a withdrawn approval can no longer be approved.
  void withdraw(const std::string& id) { entries_.erase(id); }

  std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    Approval approval;
    std::function<void()> wake;
    std::uint64_t seq = 0;  // insertion order, for listing oldest first
  };
  // Sets the state of a pending entry and wakes its waiter (after the change is visible).
  void finish(Entry& e, ApprovalState state);

  const Clock& clock_;
  std::map<std::string, Entry> entries_;
  std::uint64_t next_seq_ = 0;
};

}  // namespace cb::bridge
