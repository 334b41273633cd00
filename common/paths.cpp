#include "common/paths.h"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace cb::paths {
namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

std::filesystem::path home() {
  std::string h = env("HOME");
  if (!h.empty()) return h;
  if (const passwd* pw = ::getpwuid(::geteuid()); pw && pw->pw_dir) return pw->pw_dir;
  return "/";
}

std::string octal(unsigned mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", mode & 07777u);
  return buf;
}

}  // namespace

std::filesystem::path default_socket_dir() {
  std::string runtime = env("XDG_RUNTIME_DIR");
  if (!runtime.empty()) return std::filesystem::path(runtime) / "claude-bridge";
  std::filesystem::path run_user = "/run/user/" + std::to_string(::geteuid());
  std::error_code ec;
  if (std::filesystem::is_directory(run_user, ec)) return run_user / "claude-bridge";
  std::string tmp = env("TMPDIR");
  if (tmp.empty()) tmp = "/tmp";
  return std::filesystem::path(tmp) / ("claude-bridge-" + std::to_string(::geteuid()));
}

std::filesystem::path default_state_dir() {
  std::string state = env("XDG_STATE_HOME");
  std::filesystem::path base = state.empty() ? home() / ".local" / "state" : std::filesystem::path(state);
  return base / "claude-bridge";
}

std::filesystem::path default_config_file() {
  std::string config = env("XDG_CONFIG_HOME");
  std::filesystem::path base = config.empty() ? home() / ".config" : std::filesystem::path(config);
  return base / "claude-bridge" / "config.toml";
}

std::filesystem::path resolve(std::string_view flag_value, const char* env_name,
                              const std::filesystem::path& fallback) {
  std::filesystem::path chosen;
  if (!flag_value.empty()) {
    chosen = std::string(flag_value);
  } else if (std::string v = env(env_name); !v.empty()) {
    chosen = v;
  } else {
    chosen = fallback;
  }
  std::error_code ec;
  if (chosen.is_relative()) {
    auto abs = std::filesystem::absolute(chosen, ec);
    if (!ec) chosen = abs;
  }
  return chosen.lexically_normal();
}

Status check_private_dir(const std::filesystem::path& dir, const DirUse& use) {
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0) {
    return Status::error(dir_errors::kUnreadable, dir.string() + ": " + std::strerror(errno));
  }
  if (S_ISLNK(st.st_mode)) {
    return Status::error(
        dir_errors::kSymlink,
        dir.string() + " is a symbolic link; it must be a real directory — remove it and retry");
  }
  if (!S_ISDIR(st.st_mode)) {
    return Status::error(dir_errors::kNotDirectory,
                         dir.string() + " is not a directory — remove it and retry");
  }
  if (st.st_uid != ::geteuid()) {
    return Status::error(dir_errors::kNotOwned,
                         dir.string() + " is owned by uid " + std::to_string(st.st_uid) +
                             ", not by you (uid " + std::to_string(::geteuid()) +
                             ") — use a directory of your own (" + use.flag + ")");
  }
  if ((st.st_mode & 077) != 0) {
    return Status::error(dir_errors::kOpenMode, dir.string() + " has mode " + octal(st.st_mode) +
                                                    "; " + use.exposure + " — run: chmod 700 " +
                                                    dir.string());
  }
  return {};
}

Status ensure_private_dir(const std::filesystem::path& dir, const DirUse& use) {
  std::error_code ec;
  if (dir.has_parent_path()) std::filesystem::create_directories(dir.parent_path(), ec);
  const mode_t old = ::umask(077);
  const int rc = ::mkdir(dir.c_str(), 0700);
  const int err = errno;
  ::umask(old);
  if (rc != 0 && err != EEXIST) {
    return Status::error(dir_errors::kCannotCreate,
                         "cannot create " + dir.string() + ": " + std::strerror(err));
  }
  return check_private_dir(dir, use);
}

}  // namespace cb::paths
