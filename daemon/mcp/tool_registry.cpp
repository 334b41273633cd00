#define VALIJSON_USE_EXCEPTIONS 1
#include "daemon/mcp/tool_registry.h"

#include <stdexcept>
#include <unordered_set>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include "daemon/mcp/quick_check.h"
#include "daemon/mcp/validation_text.h"

namespace cb::mcp {

struct ToolRegistry::Compiled {
  Tool tool;
  std::unique_ptr<valijson::Schema> input;  // replaced whole by replace_input_schema()
  QuickCheck quick_input;  // spares valijson the arguments that certainly conform
  valijson::Schema output;
  bool has_output = false;
  bool listed = true;  // published in tools/list (an unlisted tool is still callable)
};

namespace {

bool valid_tool_name(const std::string& name) {
  if (name.empty() || name.size() > 128) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

void compile(const Json& schema, valijson::Schema* out) {
  valijson::SchemaParser parser;
  valijson::adapters::NlohmannJsonAdapter adapter(schema);
  parser.populateSchema(adapter, *out);
}

// Keys beyond a closed schema's properties that still get the validator's full list of problems.
constexpr std::size_t kStrayKeys = 20;

std::vector<std::string> run(valijson::Validator& validator, const valijson::Schema& schema,
                             const Json& schema_json, const Json& value) {
  valijson::ValidationResults results;
  valijson::adapters::NlohmannJsonAdapter target(value);
  if (validator.validate(schema, target, &results)) return {};
  std::vector<SchemaProblem> problems;
  for (const auto& e : results) problems.push_back({e.context, e.description});
  return describe_problems(schema_json, value, problems);
}

// An object with far more keys than a closed schema (additionalProperties: false) names is
// wrong whatever the keys are: said in one line that names the schema's properties and a few
// of the strays (valijson would name only the first stray key), without running the validator.
// A few stray keys still get the validator's full list of problems. (Objects of more than
// kMaxObjectMembers are refused before parsing, in jsonrpc.cpp.)
std::vector<std::string> too_many_keys(const std::string& tool, const Json& schema,
                                       const Json& arguments) {
  if (!arguments.is_object() || schema.value("additionalProperties", true) != false) return {};
  const auto props = schema.find("properties");
  const std::size_t allowed = props != schema.end() && props->is_object() ? props->size() : 0;
  if (arguments.size() <= allowed + kStrayKeys) return {};
  std::string known;
  if (props != schema.end() && props->is_object()) {
    for (const auto& [name, _] : props->items()) known += (known.empty() ? "" : ", ") + name;
  }
  std::string unknown;
  std::size_t listed = 0;
  for (const auto& [name, _] : arguments.items()) {
    if (props != schema.end() && props->is_object() && props->contains(name)) continue;
    if (listed++ == 3) {
      unknown += ", …";
      break;
    }
    std::string shown = name.size() > 40 ? name.substr(0, 40) + "…" : name;
    unknown += (unknown.empty() ? "" : ", ") + dump(Json(shown));
  }
  return {"arguments: " + std::to_string(arguments.size()) + " properties, but " + tool +
          " takes at most " + std::to_string(allowed) + " (" + known + "); unknown: " + unknown};
}

// Appends `text`, which must be valid UTF-8 (a dump's output is), as a JSON string the way
// nlohmann's dump writes one: `"` and `\` escaped, control characters as \b \f \n \r \t or
// \u00xx, everything else as it is.
void append_json_string(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  static constexpr std::string_view kShortFrom = "\"\\\b\f\n\r\t";
  static constexpr std::string_view kShortTo = "\"\\bfnrt";
  out.push_back('"');
  std::size_t plain = 0;  // start of the run not yet copied
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(text, plain, i - plain);
    plain = i + 1;
    out.push_back('\\');
    if (const auto k = kShortFrom.find(static_cast<char>(c)); k != std::string_view::npos) {
      out.push_back(kShortTo[k]);
    } else {
      out += "u00";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  out.append(text, plain, text.size() - plain);
  out.push_back('"');
}

}  // namespace

std::string ToolResult::response_frame(const Json& id, bool modern) const {
  // Keys in the order nlohmann's std::map-backed objects dump them: sorted.
  const std::string body = is_error ? dump(Json(text)) : dump(structured);
  std::string out;
  out.reserve(body.size() * 2 + 160);
  out += R"({"id":)";
  out += dump(id);
  out += R"(,"jsonrpc":"2.0","result":{"content":[{"text":)";
  if (is_error) {
    out += body;
  } else {
    append_json_string(out, body);
  }
  out += R"(,"type":"text"}],"isError":)";
  out += is_error ? "true" : "false";
  if (modern) out += R"(,"resultType":"complete")";
  if (!is_error) {
    out += R"(,"structuredContent":)";
    out += body;
  }
  out += "}}";
  return out;
}

ToolRegistry::ToolRegistry() : validator_(std::make_unique<valijson::Validator>()) {}
ToolRegistry::~ToolRegistry() = default;

void ToolRegistry::add(Tool tool) {
  if (!valid_tool_name(tool.name)) throw std::invalid_argument("bad tool name: " + tool.name);
  if (find(tool.name)) throw std::invalid_argument("duplicate tool: " + tool.name);
  if (!tool.input_schema.is_object() || tool.input_schema.value("type", "") != "object") {
    throw std::invalid_argument("inputSchema of " + tool.name + " must be an object schema");
  }
  auto compiled = std::make_unique<Compiled>();
  try {
    compiled->input = std::make_unique<valijson::Schema>();
    compile(tool.input_schema, compiled->input.get());
    compiled->quick_input = QuickCheck(tool.input_schema);
    if (!tool.output_schema.is_null()) {
      compile(tool.output_schema, &compiled->output);
      compiled->has_output = true;
    }
  } catch (const std::exception& e) {
    throw std::invalid_argument("schema of " + tool.name + " does not compile: " + e.what());
  }
  compiled->tool = std::move(tool);
  tools_.push_back(std::move(compiled));
}

void ToolRegistry::replace_input_schema(std::string_view name, Json schema) {
  for (auto& c : tools_) {
    if (c->tool.name != name) continue;
    if (!schema.is_object() || schema.value("type", "") != "object") {
      throw std::invalid_argument("inputSchema of " + c->tool.name + " must be an object schema");
    }
    auto input = std::make_unique<valijson::Schema>();
    try {
      compile(schema, input.get());
    } catch (const std::exception& e) {
      throw std::invalid_argument("schema of " + c->tool.name + " does not compile: " + e.what());
    }
    c->input = std::move(input);
    c->tool.input_schema = std::move(schema);
    c->quick_input = QuickCheck(c->tool.input_schema);
    return;
  }
  throw std::invalid_argument("no tool named " + std::string(name));
}

const Tool* ToolRegistry::find(std::string_view name) const {
  for (const auto& c : tools_) {
    if (c->tool.name == name) return &c->tool;
  }
  return nullptr;
}

std::size_t ToolRegistry::size() const { return tools_.size(); }

Json tool_to_json(const Tool& tool) {
  Json j{{"name", tool.name},
         {"title", tool.title},
         {"description", tool.description},
         {"inputSchema", tool.input_schema}};
  if (!tool.output_schema.is_null()) j["outputSchema"] = tool.output_schema;
  j["annotations"] = Json{{"title", tool.title},
                          {"readOnlyHint", tool.annotations.read_only},
                          {"destructiveHint", tool.annotations.destructive},
                          {"idempotentHint", tool.annotations.idempotent},
                          {"openWorldHint", tool.annotations.open_world}};
  return j;
}

void ToolRegistry::set_listed(std::string_view name, bool listed) {
  for (auto& c : tools_) {
    if (c->tool.name == name) c->listed = listed;
  }
}

std::optional<Json> ToolRegistry::list_page(const Json& cursor) const {
  std::vector<const Tool*> listed;
  for (const auto& c : tools_) {
    if (c->listed) listed.push_back(&c->tool);
  }
  std::size_t offset = 0;
  if (!cursor.is_null()) {
    // Cursors are "t<offset>" strings this registry issued.
    if (!cursor.is_string()) return std::nullopt;
    const std::string c = cursor.get<std::string>();
    if (c.size() < 2 || c[0] != 't' || c.size() > 8 ||
        c.find_first_not_of("0123456789", 1) != std::string::npos) {
      return std::nullopt;
    }
    offset = std::stoul(c.substr(1));
    if (offset == 0 || offset >= listed.size() || offset % kPageSize != 0) return std::nullopt;
  }
  Json page = Json::array();
  const std::size_t end = std::min(listed.size(), offset + kPageSize);
  for (std::size_t i = offset; i < end; ++i) page.push_back(tool_to_json(*listed[i]));
  Json result{{"tools", std::move(page)}};
  if (end < listed.size()) result["nextCursor"] = "t" + std::to_string(end);
  return result;
}

std::vector<std::string> ToolRegistry::validate(const Tool& tool, const Json& arguments) const {
  for (const auto& c : tools_) {
    if (&c->tool != &tool) continue;
    if (auto problems = too_many_keys(tool.name, tool.input_schema, arguments); !problems.empty()) {
      return problems;
    }
    if (!c->quick_input.passes(arguments)) {
      return run(*validator_, *c->input, tool.input_schema, arguments);
    }
    if (cross_check_) {
      if (auto problems = run(*validator_, *c->input, tool.input_schema, arguments);
          !problems.empty()) {
        throw std::logic_error("the quick check passed arguments of " + tool.name +
                               " that valijson refuses: " + problems.front());
      }
    }
    return {};
  }
  return {"unknown tool " + tool.name};
}

bool ToolRegistry::quick_passes(const Tool& tool, const Json& arguments) const {
  for (const auto& c : tools_) {
    if (&c->tool == &tool) return c->quick_input.passes(arguments);
  }
  return false;
}

std::vector<std::string> ToolRegistry::validate_output(const Tool& tool,
                                                       const Json& structured) const {
  for (const auto& c : tools_) {
    if (&c->tool != &tool) continue;
    if (!c->has_output) return {};
    return run(*validator_, c->output, tool.output_schema, structured);
  }
  return {"unknown tool " + tool.name};
}

}  // namespace cb::mcp
