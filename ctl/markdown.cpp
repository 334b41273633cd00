// The readable side of `export --format markdown`: a transcript for people, not for import.
// Every string of the document passes through cb::visible(): a NUL, an escape sequence or a
// right-to-left override shows as \x00, \x1B, \u202E, in the file as on the screen.
#include <sstream>

#include "common/visible.h"
#include "ctl/commands.h"

namespace cb::ctl {
namespace {

// One line of the document (headers, table cells, file names).
std::string text_of(const Json& j, const char* key, const char* fallback = "") {
  return field(j, key, fallback);
}

// Markdown table cells: a pipe or a newline would end the cell.
std::string cell(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '|')
      out += "\\|";
    else if (c == '\n')
      out += ' ';
    else
      out += c;
  }
  return out;
}

}  // namespace

std::string export_markdown(const Json& doc) {
  const Json conv = doc.value("conversation", Json::object());
  const Json statuses = doc.value("statuses", Json::object());
  const Json messages = doc.value("messages", Json::array());
  const std::string role_a = text_of(conv, "role_a", "a");
  const std::string role_b = text_of(conv, "role_b", "b");
  auto role = [&](const std::string& who) {
    if (who == "a") return role_a;
    if (who == "b") return role_b;
    return who;
  };
  auto status = [&](const char* who) {
    const Json st = statuses.value(who, Json::object());
    if (st.empty()) return std::string("unknown");
    return text_of(st, "status", "unknown") + " (last heartbeat " +
           text_of(st, "last_heartbeat", "?") + ")";
  };

  std::ostringstream md;
  md << "# Conversation " << text_of(conv, "conversation_id") << "\n\n";
  md << "| | |\n|---|---|\n";
  // A conversation of agents has members (each with its read position) instead of two seats.
  const bool agents = text_of(conv, "kind", "token") == "agents";
  if (agents) {
    for (const Json& m : doc.value("members", Json::array())) {
      md << "| Member | " << cell(text_of(m, "agent")) << " — read up to #"
         << text_of(m, "read_up_to", "0") << " |\n";
    }
  } else {
    md << "| Session a | " << cell(role_a) << " — " << cell(status("a")) << " |\n";
    md << "| Session b | " << cell(role_b) << " — " << cell(status("b")) << " |\n";
  }
  md << "| Created | " << text_of(conv, "created_at") << " |\n";
  md << "| Expires | " << text_of(conv, "expires_at") << " |\n";
  md << "| Command execution | " << cell(text_of(conv, "exec_mode", "off")) << " |\n";
  md << "| Exported | " << text_of(doc, "exported_at") << " by " << text_of(doc, "exported_by")
     << " |\n\n";
  md << "## Messages (" << messages.size() << ")\n";
  for (const Json& m : messages) {
    const std::string from = text_of(m, "from");
    const std::string to = text_of(m, "to");
    if (agents) {
      md << "\n### " << text_of(m, "id") << ". " << from << " → " << to << " · "
         << text_of(m, "action_type") << " · " << text_of(m, "timestamp");
      if (m.contains("reply_to") && !m["reply_to"].is_null()) {
        md << " · reply to " << text_of(m, "reply_to");
      }
      md << "\n\n";
    } else {
      md << "\n### " << text_of(m, "id") << ". " << from << " (" << role(from) << ") → " << to
         << " (" << role(to) << ") · " << text_of(m, "action_type") << " · "
         << text_of(m, "timestamp") << "\n\n";
    }
    // In a conversation of agents read state is each member's position (the header).
    if (!agents && m.contains("read_at") && m["read_at"].is_string()) {
      md << "*read " << text_of(m, "read_at") << "*";
    } else if (!agents) {
      md << "*unread*";
    }
    const Json files = m.value("files_involved", Json::array());
    if (files.is_array() && !files.empty()) {
      md << " · files:";
      for (const Json& f : files) {
        md << " `" << visible(f.is_string() ? f.get<std::string>() : f.dump()) << "`";
      }
    }
    const Json red = m.value("redactions", Json::object());
    if (red.is_object() && !red.empty()) {
      md << " · redacted:";
      for (const auto& [kind, n] : red.items())
        md << " " << visible(kind) << " ×" << visible(n.dump());
    }
    md << "\n\n";
    // Quoted line by line: whatever Markdown the text holds stays inside the quote.
    std::istringstream lines(visible(raw_field(m, "message", ""), Visible::kLines));
    std::string line;
    bool any = false;
    while (std::getline(lines, line)) {
      md << (line.empty() ? ">" : "> " + line) << "\n";
      any = true;
    }
    if (!any) md << ">\n";
  }
  return md.str();
}

}  // namespace cb::ctl
