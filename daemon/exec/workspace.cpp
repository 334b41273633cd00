#include "daemon/exec/workspace.h"

#include <sys/stat.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace cb::exec {
namespace {

namespace fs = std::filesystem;

bool is_dir(const fs::path& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool has_control(std::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return true;
  }
  return false;
}

Status bad_root(std::string message) { return Status::error(kBadAllowedRoot, std::move(message)); }

Status refuse_workspace(std::string message) {
  return Status::error(kBadWorkspace, std::move(message));
}

}  // namespace

fs::path real_path(const fs::path& p) {
  std::unique_ptr<char, decltype(&std::free)> resolved(::realpath(p.c_str(), nullptr), &std::free);
  return resolved ? fs::path(resolved.get()) : fs::path();
}

bool inside(const fs::path& inner, const fs::path& outer) {
  auto o = outer.begin();
  auto i = inner.begin();
  for (; o != outer.end(); ++o, ++i) {
    if (i == inner.end() || *i != *o) return false;
  }
  return true;
}

Status check_allowed_root(const fs::path& root) {
  if (root.empty() || !root.is_absolute()) {
    return bad_root("allowed workspace root '" + root.string() + "' must be an absolute path");
  }
  if (has_control(root.native())) {
    return bad_root("allowed workspace root contains a control character");
  }
  const fs::path real = real_path(root);
  if (real.empty()) {
    return bad_root("allowed workspace root '" + root.string() +
                    "' cannot be resolved: " + std::strerror(errno));
  }
  if (!is_dir(real)) {
    return bad_root("allowed workspace root '" + root.string() + "' is not a directory");
  }
  if (real == fs::path("/")) {
    return bad_root("allowed workspace root '" + root.string() +
                    "' resolves to /, which would allow every directory; name a project directory");
  }
  return {};
}

Result<std::filesystem::path> resolve_workspace(std::string_view requested,
                                                const std::vector<fs::path>& allowed_roots) {
  if (requested.empty()) return refuse_workspace("refused: the workspace path is empty");
  if (requested.find('\0') != std::string_view::npos) {
    return refuse_workspace("refused: the workspace path contains a NUL byte");
  }
  if (has_control(requested)) {
    return refuse_workspace(
        "refused: the workspace path contains a newline or another control character");
  }
  if (requested.size() >= PATH_MAX) {
    return refuse_workspace("refused: the workspace path is too long");
  }
  const fs::path path{std::string(requested)};
  if (!path.is_absolute()) {
    return refuse_workspace("refused: the workspace must be an absolute path, got '" +
                            path.string() + "'");
  }
  const fs::path real = real_path(path);
  if (real.empty()) {
    return refuse_workspace("refused: workspace '" + path.string() +
                            "' cannot be resolved: " + std::strerror(errno));
  }
  if (!is_dir(real)) {
    return refuse_workspace("refused: workspace '" + path.string() + "' is not a directory");
  }
  std::string roots_text;
  for (const fs::path& root : allowed_roots) {
    if (!check_allowed_root(root).ok()) continue;
    const fs::path real_root = real_path(root);
    if (inside(real, real_root)) return real;
    roots_text += (roots_text.empty() ? "" : ", ") + real_root.string();
  }
  if (roots_text.empty()) {
    return refuse_workspace(
        "refused: no allowed workspace roots are configured, so no workspace can be "
        "used; the human must add one to the configuration");
  }
  const bool moved = real != path.lexically_normal();
  return refuse_workspace("refused: workspace '" + path.string() + "'" +
                          (moved ? " resolves to '" + real.string() + "', which" : "") +
                          " is outside the allowed roots (" + roots_text + ")");
}

}  // namespace cb::exec
