#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "daemon/store/database.h"
#include "daemon/store/records.h"

// The store's tables as the product sees them (issue 27: one interface; SQLite implements it in
// sqlite_tables.h, PostgreSQL in pg/pg_tables.h). Queries grouped by the table they own.
// Callers open the transaction.
namespace cb::store {

class Conversations {
 public:
  virtual ~Conversations() = default;
  // Every column as given, exec settings included (a new conversation's are the defaults; an
  // imported one keeps its own).
  virtual void insert(const ConversationRow& row) = 0;
  virtual std::optional<ConversationRow> find(const std::string& id) = 0;
  virtual bool exists(const std::string& id) = 0;
  virtual std::vector<ConversationSummary> list() = 0;
  // Ids of conversations whose expiry is before `before_ms`.
  virtual std::vector<std::string> expired_before(std::int64_t before_ms) = 0;
  // Deletes the conversation with its messages and statuses (cascade). Audit rows stay.
  virtual bool remove(const std::string& id) = 0;
  virtual void set_exec(const std::string& id, const std::string& mode,
                        const std::string& json) = 0;
  virtual std::int64_t count() = 0;
  // The agents' conversation with exactly these members (ConversationRow::member_key), if any.
  virtual std::optional<ConversationRow> by_members(const std::string& member_key) = 0;
  virtual void set_expiry(const std::string& id, std::int64_t expires_ms) = 0;
  // The conversation is no longer the one its members' names address (it expired).
  virtual void retire_member_key(const std::string& id) = 0;
};

class Messages {
 public:
  virtual ~Messages() = default;
  // One message by id.
  virtual std::optional<MessageRow> find(std::int64_t id) = 0;
  // Inserts with a new id (row.id is not used) and returns it. read_ms as given: a new message
  // is unread; an imported one keeps its read state.
  virtual std::int64_t insert(const MessageRow& row) = 0;
  // insert() only while row's conversation still goes by `member_key` and has not expired at
  // now_ms, checked in the same statement on a team's store (another daemon may have ended,
  // removed or replaced it since the caller looked); 0, and nothing stored, when it does not.
  virtual std::int64_t insert_if_current(const MessageRow& row, const std::string& member_key,
                                         std::int64_t now_ms) = 0;
  // insert_if_current (member_key empty: insert), handing the id (or 0) to `stored`: at once,
  // or on a team's store inside a group when the group commits — the message is inserted under
  // the team's lock then, and `stored` runs before the group's Database::at_commit work. There
  // an empty member_key still stores nothing (0) when the conversation was removed meanwhile.
  virtual void insert_at_commit(const MessageRow& row, const std::string& member_key,
                                std::int64_t now_ms, std::function<void(std::int64_t)> stored) {
    stored(member_key.empty() ? insert(row) : insert_if_current(row, member_key, now_ms));
  }
  // Unread messages to `recipient`, oldest first, at most `limit`.
  virtual std::vector<MessageRow> unread(const std::string& conv, const std::string& recipient,
                                         std::int64_t limit) = 0;
  // Every message to `recipient` with id > after_id, read or not, oldest first.
  virtual std::vector<MessageRow> after(const std::string& conv, const std::string& recipient,
                                        std::int64_t after_id, std::int64_t limit) = 0;
  // Marks these messages read (those not read already). By id, one row at a time: an UPDATE
  // over a range of the unread index it changes would first copy the matching rows to a
  // temporary b-tree (SQLite's two-pass update), which cost more than the update itself.
  virtual void mark_read(const std::vector<std::int64_t>& ids, std::int64_t now_ms) = 0;
  // Undoes that mark: messages to `recipient` with after_id < id <= up_to_id whose read time is
  // exactly `marked_ms` are unread again. Returns how many.
  virtual std::int64_t unmark_read(const std::string& conv, const std::string& recipient,
                                   std::int64_t after_id, std::int64_t up_to_id,
                                   std::int64_t marked_ms) = 0;
  virtual std::int64_t unread_count(const std::string& conv, const std::string& recipient) = 0;
  // unread_count() for an answer that can wait, as Inboxes::agent_unread_soon() is.
  virtual void unread_count_soon(const std::string& conv, const std::string& recipient,
                                 std::function<void(std::int64_t)> done) {
    done(unread_count(conv, recipient));
  }
  // Messages sent by `sender` at or after each of the given times (one count per time).
  virtual std::vector<std::int64_t> sent_since(const std::string& conv, const std::string& sender,
                                               const std::vector<std::int64_t>& since_ms) = 0;
  // Time of the n-th (0-based) oldest message sent by `sender` at or after since_ms.
  virtual std::optional<std::int64_t> nth_sent_time(const std::string& conv,
                                                    const std::string& sender,
                                                    std::int64_t since_ms, std::int64_t n) = 0;
  virtual std::vector<MessageRow> all(const std::string& conv) = 0;
  // Every message of the conversation with id > after_id, in id order, until fn returns false.
  // The statement is reset before returning, so no read transaction stays open.
  virtual void for_each_after(const std::string& conv, std::int64_t after_id,
                              const std::function<bool(MessageRow&&)>& fn) = 0;
  virtual std::int64_t count() = 0;
};

// An agent's inbox across the conversations it is a member of and the token seats it joined
// (issue 23; daemon/store/agent_tables.cpp): the messages table read by agent, not by seat.
class Inboxes {
 public:
  virtual ~Inboxes() = default;
  // Messages of the agents' conversations `agent` is a member of, not sent by it, oldest
  // first: those after its read position in each (after_id 0), or every one with id > after_id.
  virtual std::vector<MessageRow> agent_inbox(const std::string& agent, std::int64_t after_id,
                                              std::int64_t limit) = 0;
  // Unread messages to the seats of token conversations `agent` joined, oldest first.
  virtual std::vector<MessageRow> seat_inbox(const std::string& agent, std::int64_t limit) = 0;
  // Everything unread for `agent`, oldest first: agent_inbox (after_id 0) and seat_inbox
  // together, in one query.
  virtual std::vector<MessageRow> whole_inbox(const std::string& agent, std::int64_t limit) = 0;
  // The same within one agents' conversation.
  virtual std::vector<MessageRow> conversation_inbox(const std::string& conv,
                                                     const std::string& agent,
                                                     std::int64_t after_id, std::int64_t limit) = 0;
  // The conversation a message belongs to.
  virtual std::optional<std::string> conversation_of(std::int64_t message_id) = 0;
  // Marks these messages unread again where their read time is exactly `marked_ms`.
  virtual std::int64_t unmark_ids(const std::vector<std::int64_t>& ids, std::int64_t marked_ms) = 0;
  // Unread messages in agents' conversations for `agent`, by sender.
  virtual std::vector<std::pair<std::string, std::int64_t>> agent_unread_by_sender(
      const std::string& agent) = 0;
  // Unread messages for `agent`: its agents' conversations and its joined seats.
  virtual std::int64_t agent_unread(const std::string& agent) = 0;
  // agent_unread() for an answer that can wait (a notice pushed to a connection): `done` gets
  // the count at once, or, in a team's store, with the next round trip to it — one for all
  // the counts asked for meanwhile, at the latest in the event loop's next turn. `done` is not
  // called when the store cannot answer.
  virtual void agent_unread_soon(const std::string& agent, std::function<void(std::int64_t)> done) {
    done(agent_unread(agent));
  }
  // What a wait for `agent`'s whole inbox looks at first: its joined seats (Members::seats_of)
  // and the first `limit` messages of whole_inbox(), read together (one round trip to a team's
  // store); with mail there, the wait marks that page without reading it again.
  struct WaitStart {
    std::vector<MemberRow> seats;
    std::vector<MessageRow> page;
  };
  virtual WaitStart wait_start(const std::string& agent, std::int64_t limit) = 0;
  // Messages stored at or after since_ms, counted by conversation, sender and recipient.
  virtual std::vector<SenderCount> senders_since(std::int64_t since_ms) = 0;
  // Unread messages for `agent` in one agents' conversation.
  virtual std::int64_t member_unread(const std::string& conv, const std::string& agent) = 0;
  // `agent`'s unread messages (its agents' conversations after its read position, its joined
  // seats' unread ones) with id > after_id, oldest first, at most `limit`, each body cut to its
  // first `body_chars` characters: what the hooks of issue 24 announce. One index range per
  // conversation (messages_by_recipient, messages_unread), never a scan of the messages.
  virtual std::vector<MessageRow> agent_unread_after(const std::string& agent,
                                                     std::int64_t after_id, std::int64_t limit,
                                                     std::int64_t body_chars) = 0;
};

// Named agents (daemon/store/agent_tables.cpp).
class Agents {
 public:
  virtual ~Agents() = default;
  virtual void upsert(const AgentRow& row) = 0;
  virtual std::vector<AgentRow> all() = 0;
  virtual std::optional<AgentRow> find(const std::string& name) = 0;
};

// Who belongs to which conversation (daemon/store/agent_tables.cpp).
class Members {
 public:
  virtual ~Members() = default;
  // Adds the member (read position 0, or as given); an existing membership is kept.
  virtual void insert(const MemberRow& row) = 0;
  virtual std::optional<MemberRow> find(const std::string& agent, const std::string& conv) = 0;
  // Every member of a conversation, by name.
  virtual std::vector<MemberRow> of_conversation(const std::string& conv) = 0;
  // The token seats an agent joined.
  virtual std::vector<MemberRow> seats_of(const std::string& agent) = 0;
  // The agent bound to a token conversation's seat, if any.
  virtual std::optional<std::string> seat_holder(const std::string& conv,
                                                 const std::string& seat) = 0;
  // Moves the agent's read position in `conv` forward to `up_to` (never back); returns the
  // position it had (0 when the agent is no member), so that a read can be given back.
  virtual std::int64_t advance(const std::string& agent, const std::string& conv,
                               std::int64_t up_to) = 0;
  // advance() for a reader that knows the position it had (a page read from the position:
  // whatever lies before the page's first message is the agent's own). A team's store holds it
  // for the group's commit (or sends it with the next statement), without a round trip of its
  // own; a read of the agent's positions in the same group sees it.
  virtual void move_past(const std::string& agent, const std::string& conv, std::int64_t up_to) {
    advance(agent, conv, up_to);
  }
  // Sets the read position, back or forward (a read given back).
  virtual void set_position(const std::string& agent, const std::string& conv,
                            std::int64_t position) = 0;
};

class Statuses {
 public:
  virtual ~Statuses() = default;
  virtual void upsert(const std::string& conv, const std::string& session,
                      const std::string& status, std::int64_t heartbeat_ms) = 0;
  virtual std::optional<StatusRow> find(const std::string& conv, const std::string& session) = 0;
  // Both sessions' statuses (those that exist), ordered by session.
  virtual std::vector<SessionStatus> of(const std::string& conv) = 0;
};

class AuditTable {
 public:
  virtual ~AuditTable() = default;
  // Appends `row` (its id is the table's); a shared store may send it with the transaction's next
  // statement, so a failure can surface there or at the commit.
  virtual void insert(const AuditRow& row) = 0;
  // The newest entry's hash. In a shared store (PostgreSQL: several daemons append to one
  // chain) it takes the chain's lock until the caller's transaction ends, so no other daemon
  // appends between this read and the caller's insert.
  virtual std::optional<std::string> last_hash() = 0;
  // Whether other daemons append to this chain: its head is then read for every entry, never
  // cached.
  virtual bool shared() const { return false; }
  // Newest first; conv empty means every conversation.
  virtual std::vector<AuditRow> newest(const std::string& conv, std::int64_t limit) = 0;
  // Every row in id order, for verification.
  virtual void for_each(const std::function<bool(const AuditRow&)>& fn) = 0;
};

// The daemons of a team sharing one store (issue 27; PostgreSQL only: Database::team() is
// nullptr for SQLite). Each daemon heartbeats itself and its live agents; an agent whose
// daemon has not heartbeated it for 30 s is offline.
class Team {
 public:
  virtual ~Team() = default;
  // This daemon's identity, as given when the store was opened.
  virtual const DaemonRow& self() const = 0;
  // Upserts this daemon's row (heartbeat_ms = now_ms) and sets heartbeat_ms = now_ms, host
  // and daemon_id on the agents named (those bound here now), in the caller's transaction.
  virtual void heartbeat(std::int64_t now_ms, const std::vector<std::string>& live_agents) = 0;
  // Every daemon of the team, newest heartbeat first.
  virtual std::vector<DaemonRow> daemons() = 0;
  // The team's key fingerprint: stores `fingerprint` when the team has none yet and returns
  // it; otherwise returns the one stored (the caller refuses to start on a mismatch).
  virtual std::string key_fingerprint(const std::string& fingerprint) = 0;
};

}  // namespace cb::store
