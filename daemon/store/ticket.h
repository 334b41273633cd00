#pragma once

#include <algorithm>
#include <cstdint>

namespace cb::store {

// What a committed write transaction hands back: a claim on the group commit that holds its
// writes. The writes are durable once that group has committed (and, with background sync,
// reached the disk); Database::when_durable runs a function then. The product passes the
// ticket out with its result and the tool layer answers only once it is durable. The empty
// ticket is durable already (nothing written, or a write committed and synced on its own).
struct Ticket {
  std::uint64_t generation = 0;
  // Once durable, the callers waiting on this ticket's group are answered behind the work the
  // loop already has queued, instead of at once. The mailbox sets it on the receipt of a message
  // a blocked reader took: the reader's wake-up, queued by the commit, answers first.
  bool behind_queued = false;

  bool empty() const { return generation == 0; }

  // A ticket durable when both are (groups end in the order of their generations).
  static Ticket later(const Ticket& a, const Ticket& b) {
    return Ticket{std::max(a.generation, b.generation), a.behind_queued || b.behind_queued};
  }
};

}  // namespace cb::store
