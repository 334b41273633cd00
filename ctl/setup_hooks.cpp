// The bridge's hooks in each client's own hook settings (ctl/setup.h, docs/cli.md "setup").
//
// All three clients read the same shape: "hooks" maps an event name to a list of groups
// {"matcher"?, "hooks": [{"type": "command", "command", …}]} (verified in the pinned packages:
// Claude Code 2.1.330's settings schema, Codex 0.171.0's hooks.json as `codex app-server`
// hooks/list reports it, Gemini CLI 0.61.0's HookDefinitionArray). The bridge's hooks are the
// command hooks that run `claude-bridgectl … hook …`; setup writes them as one group per event,
// without a matcher (every source, every tool), and finds them again by their command wherever
// they are, so that a second run, an update and --remove touch nothing else.
// The bridge's hooks are those that run claude-bridge-hook, or `claude-bridgectl … hook`.
#include <algorithm>
#include <cstdlib>

#include "ctl/commands.h"
#include "ctl/setup.h"
#include "ctl/setup_json.h"

namespace cb::ctl::setup {
namespace fs = std::filesystem;
namespace {

using detail::OJson;

constexpr const char* kCtlName = "claude-bridgectl";

fs::path env_dir(const char* name, const fs::path& fallback) {
  if (const char* v = std::getenv(name); v && *v) return v;
  return fallback;
}

// A word for sh: as it is when it holds only characters sh leaves alone, else single-quoted.
std::string sh_quote(const std::string& s) {
  bool plain = !s.empty();
  for (char c : s) {
    plain = plain && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '/' || c == '.' || c == '_' || c == '-' || c == '+' || c == ':' ||
                      c == '=' || c == '@' || c == ',');
  }
  if (plain) return s;
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// The words of the first simple command in `command`, as sh would split them (quotes and
// backslashes; no expansions). Enough to see which program a hook runs, and with what.
std::vector<std::string> sh_words(const std::string& command) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  for (std::size_t i = 0; i < command.size(); ++i) {
    const char c = command[i];
    if (c == ' ' || c == '\t' || c == '\n') {
      if (in_word) words.push_back(word);
      word.clear();
      in_word = false;
      continue;
    }
    if (c == ';' || c == '|' || c == '&') break;
    in_word = true;
    if (c == '\'') {
      const auto end = command.find('\'', i + 1);
      if (end == std::string::npos) return {};
      word += command.substr(i + 1, end - i - 1);
      i = end;
    } else if (c == '"') {
      for (++i; i < command.size() && command[i] != '"'; ++i) {
        if (command[i] == '\\' && i + 1 < command.size()) ++i;
        word += command[i];
      }
      if (i >= command.size()) return {};
    } else if (c == '\\' && i + 1 < command.size()) {
      word += command[++i];
    } else {
      word += c;
    }
  }
  if (in_word) words.push_back(word);
  return words;
}

// The program a command runs, after any leading NAME=value assignments; its index in `words`.
std::size_t program_index(const std::vector<std::string>& words) {
  std::size_t i = 0;
  while (i < words.size()) {
    const auto eq = words[i].find('=');
    if (eq == std::string::npos || eq == 0 || words[i].find('/') < eq) break;
    ++i;
  }
  return i;
}

OJson hook_object(ClientKind client, const HookWant& want, const HookSpec& spec) {
  OJson h = OJson::object();
  if (client == ClientKind::kGemini) h["name"] = "claude-bridge-" + spec.verb;
  h["type"] = "command";
  h["command"] = hook_command(client, want, spec);
  if (spec.async_rewake) {
    h["timeout"] = kWaitTimeoutSeconds;
    h["asyncRewake"] = true;
  }
  return h;
}

// The groups setup writes, one per event, in hook_entries' order of events.
std::vector<std::pair<std::string, OJson>> wanted_groups(ClientKind client, const HookWant& want) {
  std::vector<std::pair<std::string, OJson>> groups;
  for (const auto& spec : hook_entries(client)) {
    if (groups.empty() || groups.back().first != spec.event) {
      groups.push_back({spec.event, OJson{{"hooks", OJson::array()}}});
    }
    groups.back().second["hooks"].push_back(hook_object(client, want, spec));
  }
  return groups;
}

bool is_bridge_hook(const OJson& hook) {
  return hook.is_object() && hook.contains("command") && hook["command"].is_string() &&
         is_hook_command(hook["command"].get<std::string>());
}

// Adds `hook` under `event` to the plan's list and its text ("EVENT: COMMAND  (asyncRewake…)").
void describe(Plan& plan, const std::string& event, const OJson& hook) {
  HookLine line{event, hook.value("command", std::string()), hook.value("asyncRewake", false)};
  plan.entry_text += event + ": " + line.command;
  if (line.async_rewake) {
    plan.entry_text +=
        "  (asyncRewake, timeout " + std::to_string(hook.value("timeout", 0)) + " s)";
  }
  plan.entry_text += "\n";
  plan.hooks.push_back(std::move(line));
}

}  // namespace

std::vector<HookSpec> hook_entries(ClientKind client) {
  switch (client) {
    case ClientKind::kClaudeCode:
      return {{"SessionStart", "session-start", false},
              {"SessionStart", "wait", true},
              {"UserPromptSubmit", "tell", false},
              {"PostToolUse", "tell", false},
              {"Stop", "wait", true}};
    case ClientKind::kCodex:
      return {{"SessionStart", "session-start", false},
              {"UserPromptSubmit", "tell", false},
              {"PostToolUse", "tell", false}};
    case ClientKind::kGemini:
      return {{"SessionStart", "session-start", false},
              {"BeforeAgent", "tell", false},
              {"AfterTool", "tell", false}};
  }
  return {};
}

HookTarget hook_target_for(ClientKind client, bool user, const fs::path& project) {
  HookTarget t;
  t.client = client;
  t.user = user;
  t.project = project;
  const fs::path home = home_dir();
  switch (client) {
    case ClientKind::kClaudeCode:
      // Claude Code reads a project's local settings at the root it keys the project by (its
      // git work tree's root), as for the server entry (target_for).
      t.file = user ? env_dir("CLAUDE_CONFIG_DIR", home / ".claude") / "settings.json"
                    : fs::path(target_for(client, false, project).container[1]) / ".claude" /
                          "settings.local.json";
      break;
    case ClientKind::kCodex:
      t.file = (user ? env_dir("CODEX_HOME", home / ".codex") : project / ".codex") / "hooks.json";
      break;
    case ClientKind::kGemini:
      t.file = target_for(client, user, project).file;
      break;
  }
  return t;
}

std::string hook_command(ClientKind client, const HookWant& want, const HookSpec& spec) {
  std::string out = sh_quote(want.program) + " " + spec.verb;
  if (client != ClientKind::kClaudeCode) out += " --client " + client_name(client);
  for (const auto& a : want.socket_args) out += " " + sh_quote(a);
  return out;
}

bool is_hook_command(const std::string& command) {
  const auto words = sh_words(command);
  const std::size_t p = program_index(words);
  if (p >= words.size()) return false;
  const std::string program = fs::path(words[p]).filename().string();
  if (program == kHookName) return true;
  if (program != kCtlName) return false;
  for (std::size_t i = p + 1; i < words.size(); ++i) {
    if (words[i] == "hook") return true;
  }
  return false;
}

Result<Plan> plan_hooks(const HookTarget& t, const std::optional<std::string>& before,
                        const std::optional<HookWant>& want) {
  const std::string file = t.file.string();
  auto parsed = detail::parse_object(file, before.value_or(""));
  if (!parsed) return std::move(parsed).status();
  const OJson original = std::move(parsed.value());
  OJson doc = original;
  const auto groups =
      want ? wanted_groups(t.client, *want) : std::vector<std::pair<std::string, OJson>>{};
  auto wanted_event = [&](const std::string& event) {
    for (const auto& g : groups) {
      if (g.first == event) return true;
    }
    return false;
  };

  Plan plan;
  if (doc.contains("hooks") && !doc["hooks"].is_object()) {
    return Status::invalid(file + ": hooks is a JSON " + std::string(doc["hooks"].type_name()) +
                           ", not an object — fix it; nothing was changed");
  }
  // Take the bridge's hooks out wherever they are, remembering where each event's first one
  // was: the new group goes there, so an update keeps its place among the person's hooks.
  bool had = false;
  std::vector<std::pair<std::string, std::size_t>> first_at;
  if (doc.contains("hooks")) {
    OJson& hooks = doc["hooks"];
    std::vector<std::string> emptied;
    for (auto& [event, list] : hooks.items()) {
      if (!list.is_array()) {
        if (wanted_event(event)) {
          return Status::invalid(file + ": hooks." + event + " is a JSON " +
                                 std::string(list.type_name()) +
                                 ", not a list — fix it; nothing was changed");
        }
        continue;
      }
      OJson kept = OJson::array();
      std::optional<std::size_t> first;
      for (const auto& group : list) {
        if (!group.is_object() || !group.contains("hooks") || !group["hooks"].is_array()) {
          kept.push_back(group);
          continue;
        }
        OJson rest = OJson::array();
        for (const auto& h : group["hooks"]) {
          if (is_bridge_hook(h)) {
            if (!first) first = kept.size();
            had = true;
            describe(plan, event, h);
          } else {
            rest.push_back(h);
          }
        }
        if (rest.size() == group["hooks"].size()) {
          kept.push_back(group);
        } else if (!rest.empty()) {
          OJson g = group;
          g["hooks"] = rest;
          kept.push_back(g);
        }
      }
      if (first) first_at.push_back({event, *first});
      if (kept.empty() && !list.empty() && !wanted_event(event)) emptied.push_back(event);
      list = kept;
    }
    for (const auto& e : emptied) hooks.erase(e);
    if (hooks.empty() && !original.at("hooks").empty() && !want) doc.erase("hooks");
  }

  if (want) {
    plan.entry_text.clear();
    plan.hooks.clear();
    if (!doc.contains("hooks")) doc["hooks"] = OJson::object();
    OJson& hooks = doc["hooks"];
    for (const auto& [event, group] : groups) {
      for (const auto& h : group["hooks"]) describe(plan, event, h);
      if (!hooks.contains(event)) hooks[event] = OJson::array();
      OJson& list = hooks[event];
      std::size_t at = list.size();
      for (const auto& [e, i] : first_at) {
        if (e == event) at = std::min(i, list.size());
      }
      list.insert(list.begin() + static_cast<std::ptrdiff_t>(at), group);
    }
  }

  if (doc == original) {
    plan.action = want ? Plan::Action::kUnchanged : Plan::Action::kAbsent;
    return plan;
  }
  plan.note = detail::layout_note(file, before, original);
  plan.action = want ? (had ? Plan::Action::kUpdate : Plan::Action::kAdd) : Plan::Action::kRemove;
  if (!want && doc.empty()) {
    plan.delete_file = true;
    return plan;
  }
  plan.after = detail::dump(doc) + detail::tail_of(before);
  return plan;
}

Result<std::vector<FoundHook>> find_hook_entries(const HookTarget& t, const std::string& bytes) {
  auto parsed = detail::parse_object(t.file.string(), bytes);
  if (!parsed) return std::move(parsed).status();
  const OJson& doc = parsed.value();
  std::vector<FoundHook> found;
  if (!doc.contains("hooks") || !doc["hooks"].is_object()) return found;
  for (const auto& [event, list] : doc["hooks"].items()) {
    if (!list.is_array()) continue;
    for (const auto& group : list) {
      if (!group.is_object() || !group.contains("hooks") || !group["hooks"].is_array()) continue;
      for (const auto& h : group["hooks"]) {
        if (!is_bridge_hook(h)) continue;
        const std::string command = h["command"].get<std::string>();
        const auto words = sh_words(command);
        const std::size_t p = program_index(words);
        found.push_back({event, command, p < words.size() ? words[p] : std::string()});
      }
    }
  }
  return found;
}

}  // namespace cb::ctl::setup
