#include "daemon/bridge/team_link.h"

#include <spdlog/spdlog.h>

#include "daemon/bridge/agent_mail.h"
#include "daemon/bridge/agents.h"
#include "daemon/bridge/mailbox.h"

namespace cb::bridge {

void TeamLink::remote_mail(std::int64_t message_id) {
  if (!active()) return;
  try {
    const auto row = ctx_.messages.find(message_id);
    if (!row) return;
    const auto conv = ctx_.conversations.find(row->conversation_id);
    if (!conv) return;
    if (conv->kind == "agents") {
      agent_mail_.announce(*row);
      return;
    }
    const std::string from_role = row->sender == "a"   ? conv->role_a
                                  : row->sender == "b" ? conv->role_b
                                                       : std::string("system");
    mailbox_.deliver(*row, from_role, SessionKey{row->conversation_id, row->recipient});
  } catch (const std::exception& e) {
    // The waiters are woken again by the resync that follows the store's return.
    spdlog::warn("message {} of another daemon could not be read: {}", message_id,
                 store::storage_failure(e).value_or(e.what()));
  }
}

void TeamLink::remote_mail(std::int64_t message_id, const std::string& conversation_id,
                           const std::string& sender, const std::vector<std::string>& members) {
  if (!active()) return;
  try {
    agent_mail_.announce(message_id, conversation_id, sender, members);
  } catch (const std::exception& e) {
    spdlog::warn("message {} of another daemon could not be read: {}", message_id,
                 store::storage_failure(e).value_or(e.what()));
  }
}

void TeamLink::resync() {
  if (!active()) return;
  const std::size_t woken = ctx_.presence.wake_all();
  spdlog::info("the team store's announcements resumed: {} waiter(s) here look again", woken);
}

void TeamLink::heartbeat() {
  store::Team* team = ctx_.db.team();
  if (!team) return;
  try {
    store::WriteTransaction tx(ctx_.db);
    team->heartbeat(ctx_.clock.now_ms(), agents_.live_names());
    tx.commit();
    if (heartbeat_failing_) spdlog::info("the team store has this daemon's heartbeat again");
    heartbeat_failing_ = false;
  } catch (const std::exception& e) {
    if (!heartbeat_failing_) {
      spdlog::warn("this daemon's heartbeat was not stored ({}); its agents show offline to the "
                   "other daemons until it is",
                   store::storage_failure(e).value_or(e.what()));
    }
    heartbeat_failing_ = true;
  }
}

}  // namespace cb::bridge
