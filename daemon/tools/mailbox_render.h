#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "daemon/bridge/types.h"

// The JSON of the mailbox's answers, each renderer beside the output schema it must satisfy
// (tools/list publishes the schema; tests validate the renderer's output against it). One new
// output field is one edit here.
namespace cb::tools {

using Json = nlohmann::json;

Json created_schema();
Json render(const bridge::CreatedConversation& c);
Json render(const bridge::CreatedGroup& g);

Json send_receipt_schema();
Json render(const bridge::SendReceipt& r);

Json inbox_schema();
Json render(const bridge::InboxPage& page);

Json status_update_schema();
Json render(const bridge::StatusUpdate& s);
Json render(const bridge::AgentStatusUpdate& s);

Json partner_status_schema();
Json render(const bridge::PartnerStatus& p);

// ---- Named agents (agent_render.cpp) ----
Json agent_list_schema();
Json render(const bridge::AgentList& list);
Json message_receipt_schema();
Json render(const bridge::MessageReceipt& r);
Json joined_schema();
Json render(const bridge::JoinedSeat& j);

// The push that tells a live session of mail waiting for it (Claude Code's channel
// notification), rendered from the mailbox's notice.
struct Push {
  std::string method;
  Json params;
};
Push render_push(const bridge::MailNotice& notice);

}  // namespace cb::tools
