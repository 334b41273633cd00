#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "daemon/bridge/bridge.h"
#include "daemon/mcp/session.h"
#include "daemon/tools/mailbox_render.h"

namespace cb {

// Pushes the bridge's notifications (a message for a waiting partner) into the MCP session of a
// connection, once that session is initialized.
class SessionNotifier final : public bridge::Notifier {
 public:
  void add(std::uint64_t id, std::weak_ptr<mcp::Session> s) { sessions_[id] = std::move(s); }
  void remove(std::uint64_t id) { sessions_.erase(id); }
  void mail_waiting(std::uint64_t id, const bridge::MailNotice& notice) override {
    auto it = sessions_.find(id);
    if (it == sessions_.end()) return;
    if (auto s = it->second.lock(); s && s->initialized()) {
      tools::Push push = tools::render_push(notice);
      s->notify(push.method, std::move(push.params));
    }
  }

 private:
  std::map<std::uint64_t, std::weak_ptr<mcp::Session>> sessions_;
};

}  // namespace cb
