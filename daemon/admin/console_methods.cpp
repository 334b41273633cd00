// The operator stepping in from the web console or claude-bridgectl (issue 25): a post as
// "@operator", a conversation ended before its expiry, and who talked to whom lately.
#include "common/clock.h"
#include "common/ctl_protocol.h"
#include "daemon/admin/extra_methods.h"

namespace cb::admin {
namespace {

constexpr const char* kActionTypes[] = {"question", "info", "proposal", "blocked", "complete"};

// The product's refusal as the ctl protocol's error.
Status refusal(const Status& s) {
  return s.code() == "unknown_conversation" ? not_found(s.message()) : failed(s.message());
}

Json post_result(const bridge::OperatorPost& p) {
  Json redactions = Json::object();
  for (const auto& [kind, n] : p.redactions) redactions[kind] = n;
  return Json{{"message_id", p.message_id},
              {"conversation_id", p.conversation_id},
              {"from", bridge::AgentMail::kOperator},
              {"to", p.to},
              {"redactions", std::move(redactions)},
              {"timestamp", iso8601(p.created_ms)}};
}

Json end_result(const bridge::EndedConversation& e) {
  return Json{{"conversation_id", e.conversation_id},
              {"ended_at", iso8601(e.ended_ms)},
              {"notice_ids", e.notice_ids},
              {"told", e.told}};
}

Json talk_result(const bridge::TalkGraph& g) {
  Json pairs = Json::array();
  for (const auto& p : g.pairs) {
    pairs.push_back(Json{{"from", p.from}, {"to", p.to}, {"messages", p.messages}});
  }
  return Json{{"since", iso8601(g.since_ms)}, {"pairs", std::move(pairs)}};
}

}  // namespace

void register_console_methods(AdminApi& api) {
  api.add(ctl_protocol::kPost, [&api](const AdminCall& call) -> Result<Json> {
    const Result<std::string> id = required_string(call.params, "conversation_id");
    if (!id) return id.status();
    const Result<std::string> text = required_string(call.params, "message");
    if (!text) return text.status();
    if (text->empty()) return invalid_params("message is empty: write what to tell the agents");
    Result<std::string> type = optional_string(call.params, "action_type");
    if (!type) return type.status();
    const std::string action_type = type->empty() ? "info" : *type;
    bool known = false;
    for (const char* t : kActionTypes) known = known || action_type == t;
    if (!known) {
      return invalid_params("action_type must be question, info, proposal, blocked or complete");
    }
    auto posted = api.bridge().agent_mail().post_operator(*id, *text, action_type, call.who());
    if (!posted) return refusal(posted.status());
    return post_result(*posted);
  });
  api.add(ctl_protocol::kEnd, [&api](const AdminCall& call) -> Result<Json> {
    const Result<std::string> id = required_string(call.params, "conversation_id");
    if (!id) return id.status();
    auto ended = api.bridge().agent_mail().end_conversation(*id, call.who());
    if (!ended) return refusal(ended.status());
    return end_result(*ended);
  });
  api.add(ctl_protocol::kTalk, [&api](const AdminCall& call) -> Result<Json> {
    const Result<std::int64_t> minutes = optional_int(call.params, "minutes", 60, 1, 7 * 24 * 60);
    if (!minutes) return minutes.status();
    return talk_result(api.bridge().ops().talk(*minutes * 60'000));
  });
}

}  // namespace cb::admin
