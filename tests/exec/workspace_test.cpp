#include "daemon/exec/workspace.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include "tests/exec/exec_test_util.h"

namespace fs = std::filesystem;
using cb::exec::check_allowed_root;
using cb::exec::resolve_workspace;
using cb::exec::testing::TempDir;

TEST_CASE("workspace: inside a root is accepted and canonicalised") {
  TempDir root;
  fs::create_directories(root.path() / "proj" / "sub");
  fs::create_directory_symlink(root.path() / "proj" / "sub", root.path() / "link-inside");
  const std::vector<fs::path> roots = {root.path()};
  const fs::path real_root = fs::canonical(root.path());

  struct Row {
    fs::path requested;
    fs::path expected;
  };
  const std::vector<Row> rows = {
      {root.path(), real_root},  // the root itself
      {root.path() / "proj", real_root / "proj"},
      {root.path() / "proj" / "sub", real_root / "proj" / "sub"},
      {root.path() / "proj" / "sub" / "..", real_root / "proj"},
      {root.path() / "proj/", real_root / "proj"},
      {root.path() / "link-inside", real_root / "proj" / "sub"},  // symlink staying inside
  };
  for (const Row& row : rows) {
    CAPTURE(row.requested);
    const auto r = resolve_workspace(row.requested.string(), roots);
    REQUIRE(r.ok());
    CHECK(*r == row.expected);
  }
}

TEST_CASE("workspace: everything else is refused with one line") {
  TempDir root;
  TempDir outside;
  fs::create_directories(root.path() / "proj");
  fs::create_directory_symlink(outside.path(), root.path() / "escape");
  fs::create_directory_symlink("/", root.path() / "to-slash");
  fs::create_directory_symlink(root.path() / "proj" / ".." / "..", root.path() / "dotdot");
  cb::exec::testing::write_file(root.path() / "file.txt", "x");
  // A sibling whose name extends the root's: a string-prefix check would wrongly accept it.
  const fs::path sibling = root.path().string() + "-evil";
  fs::create_directories(sibling);
  const std::vector<fs::path> roots = {root.path()};

  struct Row {
    std::string requested;
    std::string must_mention;
  };
  const std::vector<Row> rows = {
      {outside.path().string(), "outside the allowed roots"},
      {(root.path() / "escape").string(), "resolves to"},
      {(root.path() / "escape" / ".").string(), "outside the allowed roots"},
      {(root.path() / "to-slash").string(), "outside the allowed roots"},
      {(root.path() / "dotdot").string(), "outside the allowed roots"},
      {(root.path() / "proj" / ".." / "..").string(), "outside the allowed roots"},
      {sibling.string(), "outside the allowed roots"},
      {"/", "outside the allowed roots"},
      {(root.path() / "missing").string(), "cannot be resolved"},
      {(root.path() / "file.txt").string(), "not a directory"},
      {"proj", "absolute"},
      {"", "empty"},
      {root.path().string() + std::string("\0x", 2), "NUL"},
      {root.path().string() + "\n", "newline"},
      {root.path().string() + "/a\tb", "control"},
  };
  for (const Row& row : rows) {
    CAPTURE(row.requested);
    const auto r = resolve_workspace(row.requested, roots);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == "bad_workspace");
    CHECK(r.status().message().find('\n') == std::string::npos);
    CHECK_MESSAGE(r.status().message().find(row.must_mention) != std::string::npos,
                  r.status().message());
  }
  fs::remove_all(sibling);
}

TEST_CASE("workspace: roots are canonicalised, and unusable roots are ignored") {
  TempDir real;
  TempDir links;
  fs::create_directories(real.path() / "proj");
  fs::create_directory_symlink(real.path(), links.path() / "root-link");

  // A root given through a symlink still admits the real directories under it.
  auto r = resolve_workspace((real.path() / "proj").string(), {links.path() / "root-link"});
  CHECK(r.ok());

  // "/" as a root would admit everything: it is refused and ignored.
  const cb::Status slash = check_allowed_root("/");
  CHECK(slash.code() == cb::exec::kBadAllowedRoot);
  CHECK(slash.message() ==
        "allowed workspace root '/' resolves to /, which would allow every directory; name a "
        "project directory");
  const cb::Status relative = check_allowed_root("relative/root");
  CHECK(relative.code() == cb::exec::kBadAllowedRoot);
  CHECK(relative.message() == "allowed workspace root 'relative/root' must be an absolute path");
  const cb::Status missing = check_allowed_root(real.path() / "missing");
  CHECK(missing.code() == cb::exec::kBadAllowedRoot);
  CHECK(missing.message().find("cannot be resolved: No such file or directory") !=
        std::string::npos);
  CHECK(check_allowed_root(real.path()).ok());
  r = resolve_workspace((real.path() / "proj").string(), {"/"});
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("no allowed workspace roots") != std::string::npos);
  r = resolve_workspace((real.path() / "proj").string(), {});
  CHECK_FALSE(r.ok());

  // Any one of several roots suffices.
  TempDir other;
  r = resolve_workspace((real.path() / "proj").string(), {other.path(), real.path()});
  CHECK(r.ok());
}
