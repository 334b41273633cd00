// The bridge's entry in Codex's config.toml ([mcp_servers.bridge]).
//
// toml++ reads TOML but writes it without the person's comments and in its own key order, so
// the file is never re-serialized: setup appends its table as text, and removes exactly the
// lines of the [mcp_servers.bridge] tables. toml++ then checks each edit: the edited text must
// parse to the old document plus (or minus) the entry and nothing else, or nothing is written.
#include <toml++/toml.h>

#include <cstdio>
#include <regex>

#include "ctl/setup.h"

namespace cb::ctl::setup {
namespace {

bool blank(const std::string& s) { return s.find_first_not_of(" \t\r\n") == std::string::npos; }

// A TOML basic string.
std::string quote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04X", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

// The tables setup writes, in the layout `codex mcp add` uses.
std::string block_for(const Spec& spec) {
  std::string out = std::string("[mcp_servers.") + kServerName +
                    "]\ncommand = " + quote(spec.command) + "\nargs = [";
  for (std::size_t i = 0; i < spec.args.size(); ++i) out += (i ? ", " : "") + quote(spec.args[i]);
  out += "]\n";
  if (!spec.agent.empty()) {
    out += std::string("\n[mcp_servers.") + kServerName + ".env]\n" + kAgentEnv + " = " +
           quote(spec.agent) + "\n";
  }
  return out;
}

Result<toml::table> parse(const Target& t, const std::string& text) {
  try {
    return toml::parse(text, t.file.string());
  } catch (const toml::parse_error& e) {
    return Status::invalid(
        t.file.string() + " is not valid TOML (line " + std::to_string(e.source().begin.line) +
        ": " + std::string(e.description()) + ") — fix it or move it away; nothing was changed");
  }
}

// The document with the bridge's entry set to `entry` (nullptr: removed); a servers' table left
// empty is dropped, so that "[mcp_servers]" alone and no table at all compare equal.
toml::table with_entry(toml::table doc, const toml::table* entry) {
  toml::table* servers = doc["mcp_servers"].as_table();
  if (entry) {
    if (!servers) {
      doc.insert_or_assign("mcp_servers", toml::table{});
      servers = doc["mcp_servers"].as_table();
    }
    servers->insert_or_assign(kServerName, *entry);
  } else if (servers) {
    servers->erase(kServerName);
  }
  if (servers && servers->empty()) doc.erase("mcp_servers");
  return doc;
}

toml::table normalized(toml::table doc) {
  if (const auto* servers = doc["mcp_servers"].as_table(); servers && servers->empty()) {
    doc.erase("mcp_servers");
  }
  return doc;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t nl = text.find('\n', start);
    const std::size_t end = nl == std::string::npos ? text.size() : nl + 1;
    lines.push_back(text.substr(start, end - start));
    start = end;
  }
  return lines;
}

// Removes the lines of every [mcp_servers.bridge] and [mcp_servers.bridge.*] table: from its
// header to the next other header, leaving the comment lines just above that header (they
// describe it), and the blank line setup put before its own table.
std::string remove_tables(const std::string& text, std::string* removed = nullptr) {
  static const std::regex ours(
      R"(^\s*\[\s*mcp_servers\s*\.\s*("bridge"|'bridge'|bridge)\s*(\.[^\]]*)?\]\s*(#.*)?\r?\n?$)");
  static const std::regex header(R"(^\s*\[.*\r?\n?$)");
  static const std::regex comment(R"(^\s*#.*\r?\n?$)");
  std::vector<std::string> lines = split_lines(text);
  for (std::size_t i = 0; i < lines.size();) {
    if (!std::regex_match(lines[i], ours)) {
      ++i;
      continue;
    }
    std::size_t end = i + 1;
    while (end < lines.size() &&
           (!std::regex_match(lines[end], header) || std::regex_match(lines[end], ours))) {
      ++end;
    }
    if (end < lines.size()) {
      while (end > i + 1 && std::regex_match(lines[end - 1], comment)) --end;
    }
    for (std::size_t k = i; k < end && removed; ++k) *removed += lines[k];
    lines.erase(lines.begin() + static_cast<std::ptrdiff_t>(i),
                lines.begin() + static_cast<std::ptrdiff_t>(end));
    if (i > 0 && blank(lines[i - 1]) && (i == lines.size() || blank(lines[i]))) {
      lines.erase(lines.begin() + static_cast<std::ptrdiff_t>(i - 1));
      --i;
    }
  }
  std::string out;
  for (const auto& l : lines) out += l;
  return out;
}

std::string append_block(std::string text, const std::string& block) {
  if (!text.empty() && text.back() != '\n') text += '\n';
  if (!blank(text)) text += '\n';
  return text + block;
}

std::string command_of(const toml::node* entry) {
  if (!entry || !entry->is_table()) return {};
  const auto* c = entry->as_table()->get("command");
  return c && c->is_string() ? c->as_string()->get() : std::string();
}

}  // namespace

Result<Plan> plan_toml(const Target& t, const std::optional<std::string>& before,
                       const std::optional<Spec>& want) {
  const std::string file = t.file.string();
  const std::string text = before.value_or("");
  auto parsed = parse(t, text);
  if (!parsed) return std::move(parsed).status();
  const toml::table& doc = parsed.value();
  const toml::node* old = nullptr;
  if (const auto* servers = doc.get("mcp_servers")) {
    if (!servers->is_table()) {
      return Status::invalid(file + ": mcp_servers is not a table — fix it; nothing was changed");
    }
    old = servers->as_table()->get(kServerName);
  }
  if (old) {
    const std::string command = command_of(old);
    if (!is_shim_command(command)) {
      return Status::invalid(
          file + " already has an MCP server named \"" + kServerName + "\" that runs " +
          (command.empty() ? std::string("no command") : "\"" + command + "\"") +
          ", not claude-bridge-shim — rename or remove it first; nothing was changed");
    }
  }
  Plan plan;
  toml::table expected;
  if (want) {
    const std::string block = block_for(*want);
    plan.entry_text = block;
    const toml::table entry_doc = toml::parse(block);
    const toml::table& entry = *entry_doc["mcp_servers"][kServerName].as_table();
    if (old && old->is_table() && *old->as_table() == entry) {
      plan.action = Plan::Action::kUnchanged;
      return plan;
    }
    plan.action = old ? Plan::Action::kUpdate : Plan::Action::kAdd;
    plan.after = append_block(old ? remove_tables(text) : text, block);
    expected = with_entry(doc, &entry);
  } else {
    if (!old) {
      plan.action = Plan::Action::kAbsent;
      return plan;
    }
    plan.action = Plan::Action::kRemove;
    plan.after = remove_tables(text, &plan.entry_text);
    expected = with_entry(doc, nullptr);
  }
  // The edit is written only when it did exactly what was meant.
  bool exact = false;
  try {
    exact = normalized(toml::parse(plan.after)) == expected;
  } catch (const toml::parse_error&) {
    exact = false;
  }
  if (!exact) {
    return Status::invalid(file + " defines mcp_servers." + kServerName +
                           " in a form setup does not edit (an inline table or dotted keys) — "
                           "remove that entry by hand, then run setup again; nothing was changed");
  }
  if (!want && blank(plan.after) && expected.empty()) plan.delete_file = true;
  return plan;
}

Result<std::vector<Found>> find_toml_shim_entries(const Target& t, const std::string& bytes) {
  auto parsed = parse(t, bytes);
  if (!parsed) return std::move(parsed).status();
  std::vector<Found> found;
  const auto* servers = parsed.value().get("mcp_servers");
  if (!servers || !servers->is_table()) return found;
  for (const auto& [name, entry] : *servers->as_table()) {
    const std::string command = command_of(&entry);
    if (is_shim_command(command)) found.push_back({std::string(name.str()), command});
  }
  return found;
}

}  // namespace cb::ctl::setup
