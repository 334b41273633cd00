#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/status.h"

// The JSON settings files setup edits (~/.claude.json, settings.json, Codex's hooks.json), read
// with their keys in file order and written back in the 2-space layout their clients write
// (JSON.stringify(value, null, 2), serde_json's pretty printer): setup_json.cpp, setup_hooks.cpp.
namespace cb::ctl::setup::detail {

using OJson = nlohmann::ordered_json;

std::string dump(const OJson& doc);

// `text` as a JSON object (blank: an empty one), or one line naming `file` and what is wrong.
Result<OJson> parse_object(const std::string& file, const std::string& text);

// What follows the document in `before` (the newline an editor leaves); "\n" for a new file.
std::string tail_of(const std::optional<std::string>& before);

// The note a plan carries when `before` was not in the layout setup writes back.
std::string layout_note(const std::string& file, const std::optional<std::string>& before,
                        const OJson& doc);

}  // namespace cb::ctl::setup::detail
