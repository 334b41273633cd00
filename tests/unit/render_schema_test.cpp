// Every tool result renderer against the output schema published beside it (tools/list): a
// representative value of each typed result is rendered and validated with valijson, so a
// renderer and its schema cannot drift apart.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>
#include <vector>

#include "daemon/tools/exec_render.h"
#include "daemon/tools/mailbox_render.h"

using namespace cb;
using Json = nlohmann::json;

namespace {

// The problems valijson finds in `value` against `schema`; empty when it conforms.
std::vector<std::string> problems(const Json& schema, const Json& value) {
  valijson::Schema compiled;
  valijson::SchemaParser parser;
  valijson::adapters::NlohmannJsonAdapter schema_adapter(schema);
  parser.populateSchema(schema_adapter, compiled);
  valijson::Validator validator;
  valijson::ValidationResults results;
  valijson::adapters::NlohmannJsonAdapter target(value);
  std::vector<std::string> out;
  if (validator.validate(compiled, target, &results)) return out;
  for (const auto& e : results) {
    std::string where;
    for (const auto& c : e.context) where += c;
    out.push_back(where + ": " + e.description);
  }
  return out;
}

void check_conforms(const Json& schema, const Json& rendered) {
  const auto found = problems(schema, rendered);
  CHECK_MESSAGE(found.empty(), rendered.dump() << "\n" << (found.empty() ? "" : found.front()));
}

bridge::ModeSet mode_set() {
  bridge::ModeSet m;
  m.conversation_id = "conv_0123456789abcdef";
  m.session_id = "a";
  m.mode = "restricted";
  m.previous_mode = "off";
  m.max_mode = "yolo";
  m.workspace = "/home/user/proj";
  m.timeout_seconds = 30;
  m.allow_network = false;
  m.approval_timeout_seconds = 300;
  return m;
}

bridge::CommandRun command_run() {
  bridge::CommandRun r;
  r.approval_id = "apr_0123abcd";
  r.command = "git status";
  r.mode = "restricted";
  r.workspace = "/home/user/proj";
  r.exit_code = 0;
  r.stdout_text = "On branch main\n";
  r.stdout_bytes = 15;
  r.duration_ms = 1234;
  r.partner_message_id = 7;
  return r;
}

}  // namespace

TEST_CASE("the checker itself refuses what a schema does not allow") {
  const Json schema = tools::mode_set_schema();
  Json extra = tools::render(mode_set());
  extra["unexpected"] = 1;
  CHECK_FALSE(problems(schema, extra).empty());
  Json missing = tools::render(mode_set());
  missing.erase("approval");
  CHECK_FALSE(problems(schema, missing).empty());
  Json wrong_type = tools::render(mode_set());
  wrong_type["timeout"] = "30";
  CHECK_FALSE(problems(schema, wrong_type).empty());
}

TEST_CASE("enable_yolo_mode's result conforms to its output schema") {
  const Json out = tools::render(mode_set());
  check_conforms(tools::mode_set_schema(), out);
  CHECK(out["timeout"].is_number_integer());
  CHECK(out["approval"].get<std::string>().find("for up to 300 s") != std::string::npos);
}

TEST_CASE("execute_command's result conforms to its output schema, optional fields or not") {
  bridge::CommandRun plain = command_run();
  const Json out = tools::render(plain);
  check_conforms(tools::command_run_schema(), out);
  CHECK_FALSE(out.contains("signal"));
  CHECK_FALSE(out.contains("snapshot_ref"));
  CHECK(out["duration"].is_number_float());
  CHECK(out["duration"] == 1.234);
  CHECK(out["redacted"] == false);

  bridge::CommandRun killed = command_run();
  killed.exit_code = -1;
  killed.signal = 9;
  killed.timed_out = true;
  killed.snapshot_ref = "refs/claude-bridge/snapshots/1";
  killed.redactions = {{"github_token", 2}, {"aws_key", 1}};
  const Json full = tools::render(killed);
  check_conforms(tools::command_run_schema(), full);
  CHECK(full["signal"] == 9);
  CHECK(full["redacted"] == true);
  CHECK(full["redactions"] == Json{{"aws_key", 1}, {"github_token", 2}});
}

TEST_CASE("the mailbox's results conform to their output schemas") {
  bridge::CreatedConversation created;
  created.conversation_id = "conv_0123456789abcdef";
  created.session_a_token = std::string(64, 'a');
  created.session_b_token = std::string(64, 'b');
  created.role_a = "backend_dev";
  created.role_b = "frontend_dev";
  created.created_ms = 1'700'000'000'000;
  created.expires_ms = created.created_ms + 86'400'000;
  check_conforms(tools::created_schema(), tools::render(created));

  bridge::SendReceipt receipt;
  receipt.message_id = 3;
  receipt.conversation_id = created.conversation_id;
  receipt.to = "b";
  receipt.to_role = "frontend_dev";
  receipt.redactions = {{"password", 1}};
  receipt.created_ms = created.created_ms;
  check_conforms(tools::send_receipt_schema(), tools::render(receipt));

  bridge::InboxPage page;
  page.conversation_id = created.conversation_id;
  page.session_id = "b";
  page.messages.push_back(bridge::InboxMessage{4, "a", "backend_dev", "hello", "info",
                                               "[\"src/main.cpp\"]", created.created_ms});
  page.messages.push_back(
      bridge::InboxMessage{5, "system", "system", "ran ls", "info", "[]", created.created_ms});
  page.has_more = true;
  page.unread_remaining = 2;
  check_conforms(tools::inbox_schema(), tools::render(page));
  page.marked_read = false;
  check_conforms(tools::inbox_schema(), tools::render(page));

  bridge::StatusUpdate update{created.conversation_id, "a", "working", created.created_ms};
  check_conforms(tools::status_update_schema(), tools::render(update));

  bridge::PartnerStatus never;
  never.conversation_id = created.conversation_id;
  never.partner_session_id = "a";
  never.partner_role = "backend_dev";
  never.now_ms = created.created_ms;
  check_conforms(tools::partner_status_schema(), tools::render(never));
  bridge::PartnerStatus known = never;
  known.status = "reviewing";
  known.heartbeat_ms = created.created_ms - 5000;
  known.alive = known.connected = known.waiting = true;
  known.unread_by_partner = 1;
  check_conforms(tools::partner_status_schema(), tools::render(known));
}
