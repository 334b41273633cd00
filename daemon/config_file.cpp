#include "daemon/config_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "common/fd.h"

namespace cb {
namespace {

std::string octal(unsigned mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", mode & 07777u);
  return buf;
}

bool trusted_owner(uid_t uid) { return uid == ::geteuid() || uid == 0; }

Status refuse(std::string line) { return Status::error("config", std::move(line)); }

std::string not_yours(const std::string& what, const std::filesystem::path& p, uid_t owner) {
  return what + p.string() + " is owned by uid " + std::to_string(owner) + ", not by you (uid " +
         std::to_string(::geteuid()) +
         ") or root; whoever owns it could turn command execution on — use a config file of "
         "your own (--config)";
}

Status check_directory(const std::filesystem::path& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    return refuse("config directory " + dir.string() + ": " + std::strerror(errno));
  }
  if (!trusted_owner(st.st_uid)) return refuse(not_yours("config directory ", dir, st.st_uid));
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0 && (st.st_mode & S_ISVTX) == 0) {
    return refuse("config directory " + dir.string() + " has mode " + octal(st.st_mode) +
                  "; others could replace the config file and turn command execution on — "
                  "run: chmod go-w " +
                  dir.string());
  }
  return {};
}

std::filesystem::path directory_of(const std::filesystem::path& p) {
  const auto parent = p.parent_path();
  return parent.empty() ? std::filesystem::path(".") : parent;
}

}  // namespace

Result<std::string> read_trusted_file(const std::filesystem::path& path) {
  // O_NONBLOCK: a FIFO put there must not hang start-up; it is refused below.
  const int raw = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (raw < 0) {
    const int err = errno;
    if (err == ENOENT) {
      return Status::error("not_found", "cannot read config file " + path.string() +
                                            ": no such file — check the path (--config)");
    }
    return refuse("cannot read config file " + path.string() + ": " + std::strerror(err) +
                  " — check the path (--config)");
  }
  UniqueFd fd(raw);
  // The checks look at what was opened, so the file cannot be swapped between check and read.
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return refuse("config file " + path.string() + ": " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    return refuse("config file " + path.string() +
                  " is not a regular file — check the path (--config)");
  }
  if (!trusted_owner(st.st_uid)) return refuse(not_yours("config file ", path, st.st_uid));
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    return refuse("config file " + path.string() + " has mode " + octal(st.st_mode) +
                  "; others could turn command execution on — run: chmod go-w " + path.string());
  }
  struct stat entry {};
  if (::lstat(path.c_str(), &entry) == 0 && S_ISLNK(entry.st_mode)) {
    if (!trusted_owner(entry.st_uid)) {
      return refuse(not_yours("config file link ", path, entry.st_uid));
    }
    if (auto s = check_directory(directory_of(path)); !s.ok()) return s;
    std::error_code ec;
    const auto target = std::filesystem::canonical(path, ec);
    if (ec) return refuse("config file " + path.string() + ": " + ec.message());
    if (auto s = check_directory(directory_of(target)); !s.ok()) return s;
  } else if (auto s = check_directory(directory_of(path)); !s.ok()) {
    return s;
  }
  std::string text;
  char buf[16384];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return refuse("cannot read config file " + path.string() + ": " + std::strerror(errno));
    }
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  return text;
}

}  // namespace cb
