// The bridge's entry in Claude Code's ~/.claude.json and Gemini CLI's settings.json.
//
// Both clients write these files with JSON.stringify(value, null, 2). The document is read with
// its keys in file order and written back in that layout, so a file the client wrote comes back
// byte for byte after an add and a remove; a file in another layout is rewritten in the 2-space
// one (its content unchanged), and the plan says so.
#include "ctl/setup_json.h"

#include "ctl/setup.h"

namespace cb::ctl::setup {
namespace detail {

std::string dump(const OJson& doc) {
  return doc.dump(2, ' ', false, OJson::error_handler_t::replace);
}

namespace {

std::size_t line_of(const std::string& text, std::size_t byte) {
  std::size_t line = 1;
  for (std::size_t i = 0; i < byte && i < text.size(); ++i) line += text[i] == '\n';
  return line;
}

bool blank(const std::string& s) { return s.find_first_not_of(" \t\r\n") == std::string::npos; }

}  // namespace

Result<OJson> parse_object(const std::string& file, const std::string& text) {
  if (blank(text)) return OJson::object();
  OJson doc;
  try {
    doc = OJson::parse(text);
  } catch (const OJson::parse_error& e) {
    // Gemini CLI reads settings.json with comments; setup would drop them, so it refuses.
    const bool with_comments =
        OJson::accept(text, /*ignore_comments=*/true) && !OJson::accept(text, false);
    if (with_comments) {
      return Status::invalid(file +
                             " has comments, which setup would drop — add the entry by hand "
                             "(--dry-run prints it) or remove the comments; nothing was changed");
    }
    return Status::invalid(file + " is not valid JSON (line " +
                           std::to_string(line_of(text, e.byte)) +
                           ") — fix it or move it away; nothing was changed");
  }
  if (!doc.is_object()) {
    return Status::invalid(file + " holds a JSON " + doc.type_name() +
                           ", not an object — fix it or move it away; nothing was changed");
  }
  return doc;
}

std::string tail_of(const std::optional<std::string>& before) {
  if (!before) return "\n";
  const auto end = before->find_last_not_of(" \t\r\n");
  return end == std::string::npos ? std::string() : before->substr(end + 1);
}

std::string layout_note(const std::string& file, const std::optional<std::string>& before,
                        const OJson& doc) {
  if (!before || blank(*before) || dump(doc) + tail_of(before) == *before) return {};
  return file +
         " was not in the 2-space layout its client writes: it is rewritten in that layout, "
         "with the same settings";
}

}  // namespace detail

namespace {

using detail::dump;
using detail::OJson;

OJson entry_for(const Target& t, const Spec& spec) {
  OJson env = OJson::object();
  if (!spec.agent.empty()) env[kAgentEnv] = spec.agent;
  OJson e = OJson::object();
  if (t.client == ClientKind::kClaudeCode) {
    // The layout `claude mcp add` writes, plus alwaysLoad: the tools are listed from the first
    // request instead of hiding behind ToolSearch.
    e["type"] = "stdio";
    e["command"] = spec.command;
    e["args"] = spec.args;
    e["env"] = env;
    e["alwaysLoad"] = true;
  } else {
    // The layout `gemini mcp add` writes.
    e["command"] = spec.command;
    e["args"] = spec.args;
    if (!env.empty()) e["env"] = env;
  }
  return e;
}

}  // namespace

Result<Plan> plan_json(const Target& t, const std::optional<std::string>& before,
                       const std::optional<Spec>& want) {
  const std::string file = t.file.string();
  auto parsed = detail::parse_object(file, before.value_or(""));
  if (!parsed) return std::move(parsed).status();
  OJson doc = std::move(parsed.value());
  // What follows the document (the newline an editor leaves) is kept as it was.
  const std::string tail = detail::tail_of(before);
  Plan plan;
  plan.note = detail::layout_note(file, before, doc);

  // Walk to the servers' table, creating it only when adding.
  std::vector<OJson*> chain{&doc};
  for (std::size_t i = 0; i < t.container.size(); ++i) {
    OJson& parent = *chain.back();
    const std::string& key = t.container[i];
    if (!parent.contains(key)) {
      if (!want) {
        plan.action = Plan::Action::kAbsent;
        return plan;
      }
      parent[key] = OJson::object();
    }
    OJson& child = parent[key];
    if (!child.is_object()) {
      const std::vector<std::string> at(t.container.begin(), t.container.begin() + i + 1);
      return Status::invalid(file + ": " + key_path(at) + " is a JSON " + child.type_name() +
                             ", not an object — fix it; nothing was changed");
    }
    chain.push_back(&child);
  }
  OJson& servers = *chain.back();
  const auto it = servers.find(kServerName);
  if (it != servers.end()) {
    const OJson& old = *it;
    const std::string command =
        old.is_object() && old.contains("command") && old["command"].is_string()
            ? old["command"].get<std::string>()
            : std::string();
    if (!is_shim_command(command)) {
      return Status::invalid(
          file + " already has an MCP server named \"" + kServerName + "\" that runs " +
          (command.empty() ? std::string("no command") : "\"" + command + "\"") +
          ", not claude-bridge-shim — rename or remove it first; nothing was changed");
    }
  }
  if (want) {
    const OJson entry = entry_for(t, *want);
    plan.entry_text = entry.dump(2, ' ', false, OJson::error_handler_t::replace);
    if (it != servers.end() && *it == entry) {
      plan.action = Plan::Action::kUnchanged;
      plan.note.clear();
      return plan;
    }
    plan.action = it == servers.end() ? Plan::Action::kAdd : Plan::Action::kUpdate;
    servers[kServerName] = entry;
  } else {
    if (it == servers.end()) {
      plan.action = Plan::Action::kAbsent;
      plan.note.clear();
      return plan;
    }
    plan.entry_text = it->dump(2, ' ', false, OJson::error_handler_t::replace);
    plan.action = Plan::Action::kRemove;
    servers.erase(kServerName);
    // Tables left empty are taken to be the ones setup created (documented: an mcpServers the
    // person kept empty goes too), from the innermost outwards — except the mcpServers of a
    // Claude Code project entry that holds anything else, as Claude Code writes an empty one
    // into every project it has seen.
    const bool claude_project = t.client == ClientKind::kClaudeCode && !t.user;
    for (std::size_t i = t.container.size(); i > 0; --i) {
      if (!chain[i]->empty()) break;
      if (claude_project && i == t.container.size() && chain[i - 1]->size() > 1) break;
      chain[i - 1]->erase(t.container[i - 1]);
    }
    if (doc.empty()) {
      plan.delete_file = true;
      return plan;
    }
  }
  plan.after = dump(doc) + tail;
  return plan;
}

Result<std::vector<Found>> find_shim_entries(const Target& t, const std::string& bytes) {
  if (t.toml) return find_toml_shim_entries(t, bytes);
  auto parsed = detail::parse_object(t.file.string(), bytes);
  if (!parsed) return std::move(parsed).status();
  const OJson* node = &parsed.value();
  for (const auto& key : t.container) {
    if (!node->is_object() || !node->contains(key)) return std::vector<Found>{};
    node = &(*node)[key];
  }
  std::vector<Found> found;
  if (!node->is_object()) return found;
  for (const auto& [name, entry] : node->items()) {
    if (entry.is_object() && entry.contains("command") && entry["command"].is_string() &&
        is_shim_command(entry["command"].get<std::string>())) {
      found.push_back({name, entry["command"].get<std::string>()});
    }
  }
  return found;
}

}  // namespace cb::ctl::setup
