#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "daemon/bridge/exec_service.h"
#include "daemon/exec/policy.h"

// What command execution tells the model and the partner, and small helpers it shares.
namespace cb::bridge::exec_texts {

std::string mode_text(exec::Mode m);
// "~/proj" for a path below the daemon user's home, else the path.
std::string pretty_path(const std::filesystem::path& p, const std::filesystem::path& home);
std::string roots_text(const ExecSettings& s);
// The refusal while execution is off: a person must enable it (the how-to is in the docs, not
// in a tool result an agent could act on).
std::string disabled_text();
std::string unavailable_text(const ExecSettings& s);
// Output of a command: bytes as produced. Invalid UTF-8 sequences (and NUL) become U+FFFD, so
// the text can be stored, redacted and sent as JSON.
std::string valid_utf8(std::string_view in);
// At most `max` code points of `text`, with a note when cut.
std::string cut_for_message(const std::string& text, std::size_t max);
std::vector<std::filesystem::path> hidden_paths(const ExecSettings& s);
std::string seconds_text(std::int64_t ms);

Status withdrawn_refusal();
Status expired_refusal(const std::string& id, std::int64_t seconds);
Status client_denied_refusal(const std::string& answer);
Status operator_denied_refusal(const std::string& id);

}  // namespace cb::bridge::exec_texts
