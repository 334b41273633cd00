#include "daemon/store/sqlite_database.h"
#include "tests/fuzz/fuzz_world.h"

#include "daemon/tools/bridge_tools.h"

namespace cb::fuzz {

World::World() : db(store::SqliteDatabase::open_memory()) {
  settings.send_per_minute = settings.send_per_hour = settings.send_per_day = 0;
  settings.read_per_minute = 0;
  settings.auth_failures_per_minute = 0;
  bridge = std::make_unique<bridge::Bridge>(*db, clock, std::string(32, 'k'), settings,
                                            redact::Redactor::builtin());
  tools::register_bridge_tools(tools, *bridge, settings);
  // Whatever the quick check lets past valijson, valijson must accept too: a disagreement
  // throws std::logic_error out of handle_frame, and the target dies on it.
  tools.set_cross_check(true);
  auto made = bridge->mailbox().create_conversation(bridge::Caller{1, 1, 0}, "fuzz_sender", "fuzz_receiver");
  const auto& conv = made.value();
  conversation_id = conv.conversation_id;
  token_a = conv.session_a_token;
  token_b = conv.session_b_token;
}

World::~World() = default;

std::string World::expand(std::string input) const {
  const std::pair<const char*, const std::string*> marks[] = {
      {"@CONV@", &conversation_id}, {"@TA@", &token_a}, {"@TB@", &token_b}};
  for (const auto& [mark, value] : marks) {
    const std::string m = mark;
    for (std::size_t at = input.find(m); at != std::string::npos;
         at = input.find(m, at + value->size())) {
      input.replace(at, m.size(), *value);
    }
  }
  return input;
}

}  // namespace cb::fuzz
