#include "daemon/mcp/validation_text.h"

#include <cmath>
#include <cstdint>
#include <set>

#include "common/utf8.h"

namespace cb::mcp {
namespace {

// One step of a path into the arguments: a property name, or an item index.
struct Step {
  std::string name;
  bool index = false;
};

std::vector<Step> steps_of(const std::vector<std::string>& context) {
  std::vector<Step> steps;
  for (const auto& part : context) {
    if (part == "<root>") continue;
    std::string inner = part;
    if (inner.size() >= 2 && inner.front() == '[' && inner.back() == ']') {
      inner = inner.substr(1, inner.size() - 2);
    }
    const bool index = !inner.empty() && inner.find_first_not_of("0123456789") == std::string::npos;
    if (!index && inner.size() >= 2 && inner.front() == '"' && inner.back() == '"') {
      inner = inner.substr(1, inner.size() - 2);
    }
    steps.push_back({inner, index});
  }
  return steps;
}

// "message", "files_involved[3]", "arguments" for the root.
std::string path_text(const std::vector<Step>& steps) {
  std::string path;
  for (const auto& s : steps) {
    if (s.index) {
      path += "[" + s.name + "]";
    } else {
      path += (path.empty() ? "" : ".") + s.name;
    }
  }
  return path.empty() ? "arguments" : path;
}

const Json* schema_at(const Json& schema, const std::vector<Step>& steps) {
  const Json* s = &schema;
  for (const auto& step : steps) {
    if (!s->is_object()) return nullptr;
    if (step.index) {
      auto it = s->find("items");
      if (it == s->end()) return nullptr;
      s = &*it;
    } else {
      auto props = s->find("properties");
      if (props == s->end() || !props->is_object()) return nullptr;
      auto it = props->find(step.name);
      if (it == props->end()) return nullptr;
      s = &*it;
    }
  }
  return s;
}

const Json* value_at(const Json& value, const std::vector<Step>& steps) {
  const Json* v = &value;
  for (const auto& step : steps) {
    if (step.index) {
      const std::size_t i = std::stoul(step.name);
      if (!v->is_array() || i >= v->size()) return nullptr;
      v = &(*v)[i];
    } else {
      if (!v->is_object()) return nullptr;
      auto it = v->find(step.name);
      if (it == v->end()) return nullptr;
      v = &*it;
    }
  }
  return v;
}

// A schema number as a person writes it: 200, not 200.000000.
std::string number_text(const Json& n) {
  if (n.is_number_integer()) return n.dump();
  if (n.is_number_float()) {
    const double d = n.get<double>();
    if (std::nearbyint(d) == d && std::fabs(d) < 1e15) {
      return std::to_string(static_cast<std::int64_t>(d));
    }
  }
  return dump(n);
}

std::string keyword(const Json* schema, const char* name) {
  if (schema == nullptr || !schema->is_object() || !schema->contains(name)) return "?";
  return number_text((*schema)[name]);
}

bool starts(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

std::string type_words(const Json* schema) {
  if (schema == nullptr || !schema->contains("type")) return "of another type";
  const Json& t = (*schema)["type"];
  std::string words;
  auto article = [](const std::string& type) {
    return (type == "integer" || type == "object" || type == "array" ? "an " : "a ") + type;
  };
  if (t.is_string()) return article(t.get<std::string>());
  for (const auto& one : t) {
    if (!one.is_string()) continue;
    const std::string name = one.get<std::string>();
    words += (words.empty() ? "" : " or ") + (name == "null" ? std::string("null") : article(name));
  }
  return words;
}

std::string value_size(const Json* value) {
  if (value == nullptr) return "";
  if (value->is_string()) {
    return " (it is " + std::to_string(code_points(value->get_ref<const std::string&>())) + ")";
  }
  if (value->is_array()) return " (it holds " + std::to_string(value->size()) + ")";
  if (value->is_number()) return " (it is " + dump(*value) + ")";
  return "";
}

}  // namespace

std::string describe_pattern(const std::string& pattern) {
  // ^PREFIX[a-f0-9]{N}$, the shape of every id and token of ours.
  static const std::string kHex = "[a-f0-9]{";
  const auto hex = pattern.find(kHex);
  if (pattern.size() > 2 && pattern.front() == '^' && pattern.back() == '$' &&
      hex != std::string::npos && pattern.compare(pattern.size() - 2, 2, "}$") == 0) {
    const std::string prefix = pattern.substr(1, hex - 1);
    const std::string count = pattern.substr(hex + kHex.size(), pattern.size() - 2 - hex - kHex.size());
    const bool plain_prefix = prefix.find_first_not_of("abcdefghijklmnopqrstuvwxyz_-") == std::string::npos;
    const bool number = !count.empty() && count.find_first_not_of("0123456789") == std::string::npos;
    if (plain_prefix && number) {
      return (prefix.empty() ? "" : "\"" + prefix + "\" followed by ") + count +
             " lowercase hex digits";
    }
  }
  return "text matching the pattern " + pattern;
}

std::vector<std::string> describe_problems(const Json& schema, const Json& value,
                                           const std::vector<SchemaProblem>& problems) {
  std::set<std::string> patterned;  // paths with a pattern problem
  for (const auto& p : problems) {
    if (starts(p.description, "Failed to match regex")) patterned.insert(path_text(steps_of(p.context)));
  }
  std::vector<std::string> lines;
  std::set<std::string> seen;
  for (const auto& p : problems) {
    const std::string& d = p.description;
    // valijson also reports every enclosing container as failed; the inner problem says it all.
    if (starts(d, "Failed to validate item #") ||
        starts(d, "Failed to validate against schema associated with") ||
        starts(d, "Failed to validate against child schema") ||
        starts(d, "Failed to validate against additional properties schema")) {
      continue;
    }
    const auto steps = steps_of(p.context);
    const std::string path = path_text(steps);
    const Json* sub = schema_at(schema, steps);
    const Json* val = value_at(value, steps);
    std::string text;
    if (starts(d, "Failed to match regex")) {
      text = "must be " + describe_pattern(sub && sub->contains("pattern")
                                               ? (*sub)["pattern"].get<std::string>()
                                               : std::string("?"));
    } else if (starts(d, "String should be no more than")) {
      if (patterned.count(path)) continue;
      text = "must be at most " + keyword(sub, "maxLength") + " characters long" + value_size(val);
    } else if (starts(d, "String should be no fewer than")) {
      if (patterned.count(path)) continue;
      text = "must be at least " + keyword(sub, "minLength") + " characters long" + value_size(val);
    } else if (starts(d, "Expected number less than or equal to")) {
      text = "must be at most " + keyword(sub, "maximum") + value_size(val);
    } else if (starts(d, "Expected number greater than or equal to")) {
      text = "must be at least " + keyword(sub, "minimum") + value_size(val);
    } else if (starts(d, "Expected number less than")) {
      text = "must be less than " + keyword(sub, "exclusiveMaximum") + value_size(val);
    } else if (starts(d, "Expected number greater than")) {
      text = "must be greater than " + keyword(sub, "exclusiveMinimum") + value_size(val);
    } else if (starts(d, "Array should contain no more than")) {
      text = "may hold at most " + keyword(sub, "maxItems") + " items" + value_size(val);
    } else if (starts(d, "Array should contain no fewer than")) {
      text = "must hold at least " + keyword(sub, "minItems") + " items" + value_size(val);
    } else if (starts(d, "Failed to match against any enum values") && sub && sub->contains("enum")) {
      std::string options;
      for (const auto& e : (*sub)["enum"]) options += (options.empty() ? "" : ", ") + dump(e);
      text = "must be one of " + options;
    } else if (starts(d, "Failed to match expected value set by 'const'") && sub &&
               sub->contains("const")) {
      text = "must be " + dump((*sub)["const"]);
    } else if (starts(d, "Object contains a property that could not be validated")) {
      // "...: 'limt'." names the stray key last.
      const auto open = d.find(": '");
      const std::string name = open == std::string::npos ? "?" : d.substr(open + 3, d.rfind('\'') - open - 3);
      std::string known;
      if (sub && sub->contains("properties")) {
        for (const auto& [k, _] : (*sub)["properties"].items()) known += (known.empty() ? "" : ", ") + k;
      }
      text = "unknown property " + dump(Json(name)) + (known.empty() ? "" : " (known: " + known + ")");
    } else if (starts(d, "Missing required property '")) {
      const std::string name = d.substr(27, d.rfind('\'') - 27);
      text = "missing required property " + dump(Json(name));
    } else if (starts(d, "Value type not permitted")) {
      text = "must be " + type_words(sub);
    } else {
      text = d;
      while (!text.empty() && (text.back() == '.' || text.back() == ' ')) text.pop_back();
    }
    std::string line = path + ": " + text;
    if (seen.insert(line).second) lines.push_back(std::move(line));
  }
  return lines;
}

}  // namespace cb::mcp
