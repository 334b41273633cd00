#include "daemon/admin/hook_methods.h"

#include <spdlog/spdlog.h>

#include <climits>

#include "common/ctl_protocol.h"
#include "daemon/admin/admin_api.h"

namespace cb::admin {
namespace {

using Json = nlohmann::json;
constexpr std::size_t kMaxAncestors = 64;

struct Whose {
  std::vector<bridge::Agents::Process> ancestors;
  std::string session_id;
  bool bind_wait = false;
};

Result<Whose> whose(const Json& params) {
  Whose w;
  auto it = params.find("ancestors");
  if (it != params.end() && !it->is_null()) {
    if (!it->is_array() || it->size() > kMaxAncestors) {
      return invalid_params("ancestors must be an array of at most 64 [pid, start] pairs");
    }
    for (const auto& p : *it) {
      if (!p.is_array() || p.size() != 2 || !p[0].is_number_integer() ||
          !p[1].is_number_integer() || p[0].get<std::int64_t>() <= 0 ||
          p[0].get<std::int64_t>() > INT_MAX ||
          (!p[1].is_number_unsigned() && p[1].get<std::int64_t>() < 0)) {
        return invalid_params("ancestors must hold [pid, start] pairs of non-negative integers");
      }
      w.ancestors.push_back(
          {static_cast<pid_t>(p[0].get<std::int64_t>()), p[1].get<std::uint64_t>()});
    }
  }
  Result<std::string> session = optional_string(params, "session_id");
  if (!session) return session.status();
  w.session_id = std::move(session).value();
  Result<bool> bind_wait = optional_bool(params, "bind_wait", false);
  if (!bind_wait) return bind_wait.status();
  w.bind_wait = *bind_wait;
  return w;
}

Json agent_answer(bridge::Bridge& b, const std::string& method, const std::string& agent) {
  Json out{{"agent", agent}};
  if (method == ctl_protocol::kHookAgent) {
    const auto client = b.agents().client_of(agent);
    out["client_pid"] = client.pid;
    out["client_start"] = client.start;
  } else if (method == ctl_protocol::kHookSessionStart) {
    out["context"] = b.hooks().session_start(agent);
  } else {
    auto notice = b.hooks().tell(agent);
    out["notice"] = notice ? Json(*notice) : Json(nullptr);
  }
  return out;
}

Json no_agent() { return Json{{"agent", nullptr}}; }

Json wait_answer(bridge::HookNotices::Outcome outcome, const std::string& notice) {
  if (outcome == bridge::HookNotices::Outcome::kReplaced) return Json{{"outcome", "replaced"}};
  return Json{{"outcome", "mail"}, {"notice", notice}};
}

}  // namespace

bool HookCalls::is_hook_method(const std::string& method) {
  return method == ctl_protocol::kHookAgent || method == ctl_protocol::kHookSessionStart ||
         method == ctl_protocol::kHookTell || method == ctl_protocol::kHookWait;
}

void HookCalls::drop() {
  wait_.reset();
  if (binding_watch_) {
    bridge_.events().unsubscribe(binding_watch_);
    binding_watch_ = 0;
  }
}

void HookCalls::handle(const std::string& method, const Json& id, const Json& params) {
  drop();
  if (method == ctl_protocol::kHookWait) {
    Result<std::string> agent = required_string(params, "agent");
    if (!agent) return answer_(id, agent.status());
    if (!bridge_.agents().live(*agent)) {
      return answer_(id, not_found("agent " + *agent + " is not online"));
    }
    auto waited = bridge_.hooks().wait(
        *agent, [this, id](bridge::HookNotices::Outcome o, const std::string& notice) {
          // Answered from inside the bridge's wake-up: the Wait stays until drop().
          answer_(id, wait_answer(o, notice));
        });
    if (auto* notice = std::get_if<std::string>(&waited)) {
      return answer_(id, wait_answer(bridge::HookNotices::Outcome::kMail, *notice));
    }
    wait_ = std::move(std::get<std::unique_ptr<bridge::HookNotices::Wait>>(waited));
    return;
  }
  Result<Whose> w = whose(params);
  if (!w) return answer_(id, w.status());
  const std::string agent = bridge_.agents().lookup(w->ancestors, w->session_id);
  if (!agent.empty()) return answer_(id, agent_answer(bridge_, method, agent));
  if (!w->bind_wait) return answer_(id, no_agent());
  // The session's shim may not have said hello yet (Claude Code starts MCP servers and
  // SessionStart hooks together): answered when an agent that fits binds.
  binding_watch_ =
      bridge_.events().subscribe([this, method, id, who = std::move(w).value()](const Json& event) {
        if (event.value("event", "") != "agent" || event.value("state", "") != "online") return;
        const std::string found = bridge_.agents().lookup(who.ancestors, who.session_id);
        if (found.empty()) return;
        bridge_.events().unsubscribe(binding_watch_);
        binding_watch_ = 0;
        try {
          answer_(id, agent_answer(bridge_, method, found));
        } catch (const std::exception& e) {
          spdlog::error("admin {} failed: {}", method, e.what());
          answer_(id, failed("internal error in " + method + "; see the daemon log"));
        }
      });
}

}  // namespace cb::admin
