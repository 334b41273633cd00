// Texts and small helpers of command execution, shared by exec_service.cpp and exec_command.cpp.
#include "daemon/bridge/exec_texts.h"

#include <cstdio>

#include "common/utf8.h"

namespace cb::bridge::exec_texts {

namespace fs = std::filesystem;

std::string mode_text(exec::Mode m) { return std::string(exec::mode_name(m)); }

// "~/proj" for a path below the daemon user's home, else the path.
std::string pretty_path(const fs::path& p, const fs::path& home) {
  const std::string s = p.string();
  const std::string h = home.string();
  if (h.size() > 1 && s.size() > h.size() && s.compare(0, h.size(), h) == 0 && s[h.size()] == '/') {
    return "~" + s.substr(h.size());
  }
  return s;
}

std::string roots_text(const ExecSettings& s) {
  std::string out;
  for (const auto& r : s.workspaces) out += (out.empty() ? "" : ", ") + r.string();
  return out.empty() ? "(none)" : out;
}

std::string disabled_text() {
  return "Command execution (YOLO mode) is turned off, and no tool call can turn it on: only a "
         "person can enable it, in the daemon's configuration. Ask your user if you need it.";
}

std::string unavailable_text(const ExecSettings& s) {
  return "Command execution is turned on but cannot run on this host: " + s.unavailable +
         ". There is no unsandboxed fallback; a person has to fix the host (see YOLO_MODE.md, "
         "systemd/claude-bridge-yolo.conf) and reload the daemon.";
}

// Output of a command: bytes as produced. Invalid UTF-8 sequences (and NUL) become U+FFFD, so
// the text can be stored, redacted and sent as JSON.
std::string valid_utf8(std::string_view in) {
  static constexpr const char* kReplacement = "\xEF\xBF\xBD";
  std::string out;
  out.reserve(in.size());
  std::size_t i = 0;
  while (i < in.size()) {
    const auto c = static_cast<unsigned char>(in[i]);
    if (c == 0) {
      out += kReplacement;
      ++i;
      continue;
    }
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    std::size_t len = 0;
    std::uint32_t cp = 0;
    std::uint32_t min = 0;
    if ((c & 0xE0) == 0xC0) {
      len = 2, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4, cp = c & 0x07, min = 0x10000;
    } else {
      out += kReplacement;
      ++i;
      continue;
    }
    std::size_t j = 1;
    for (; j < len && i + j < in.size(); ++j) {
      const auto d = static_cast<unsigned char>(in[i + j]);
      if ((d & 0xC0) != 0x80) break;
      cp = (cp << 6) | (d & 0x3F);
    }
    if (j < len || cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      out += kReplacement;
      i += j;  // the lead byte and the continuation bytes that belonged to it
      continue;
    }
    out.append(in.substr(i, len));
    i += len;
  }
  return out;
}

// At most `max` code points of `text`, with a note when cut.
std::string cut_for_message(const std::string& text, std::size_t max) {
  if (code_points(text) <= max) return text;
  std::size_t n = 0;
  std::size_t i = 0;
  for (; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      if (n == max) break;
      ++n;
    }
  }
  return text.substr(0, i) + "\n[cut here: " + std::to_string(code_points(text) - max) +
         " more characters; the requesting session has the full output]";
}

std::vector<fs::path> hidden_paths(const ExecSettings& s) {
  std::vector<fs::path> paths = exec::default_hidden_paths();
  paths.insert(paths.end(), s.extra_hidden_paths.begin(), s.extra_hidden_paths.end());
  return paths;
}

std::string seconds_text(std::int64_t ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", static_cast<double>(ms) / 1000.0);
  return buf;
}

// Refusals are built outside coroutines: GCC 12 miscompiles brace-initialised temporaries in
// coroutine bodies.
Status withdrawn_refusal() {
  return Status::error("cancelled", "The call was cancelled; the approval was withdrawn and nothing ran");
}

Status expired_refusal(const std::string& id, std::int64_t seconds) {
  return Status::error("expired", "Approval " + id + " expired: no person approved the command within " +
                                     std::to_string(seconds) +
                                     " s, so nothing ran. Tell your user what you want to run and "
                                     "why; they approve it with `claude-bridgectl approve " +
                                     id + "` while you wait in execute_command");
}

Status client_denied_refusal(const std::string& answer) {
  if (answer == "no_answer") {
    return Status::error("denied",
                        "The client did not answer the confirmation dialog, so the command was "
                        "denied and nothing ran");
  }
  return Status::error("denied", "Denied in the confirmation dialog (" + answer +
                                    "); nothing ran. Do not retry the same command unless your "
                                    "user asks for it");
}

Status operator_denied_refusal(const std::string& id) {
  return Status::error("denied", "Approval " + id +
                                    " was denied by the operator; nothing ran. Do not retry the "
                                    "same command unless your user asks for it");
}


}  // namespace cb::bridge::exec_texts
