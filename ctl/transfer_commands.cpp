// export / import of one conversation, backup / restore of the whole database.
//
// Files named for import, backup and restore are opened by the daemon (it alone touches the
// database), so their paths are made absolute here; a daemon under a hardened systemd unit may
// see a different /tmp, which is why a backup is checked for visibility afterwards.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>

#include "common/ctl_protocol.h"
#include "common/exit_codes.h"
#include "ctl/commands.h"

namespace cb::ctl {
namespace fs = std::filesystem;
namespace {

constexpr int kFileTimeoutSeconds = 600;

fs::path absolute(const std::string& file) {
  std::error_code ec;
  fs::path p = fs::absolute(file, ec);
  if (ec) throw CtlError(exit_code::kFailure, file + ": " + ec.message());
  return p.lexically_normal();
}

// Writes `text` to `path` (0600: exports hold message texts), refusing to replace an existing
// file unless `force`.
void write_private_file(const fs::path& path, const std::string& text, bool force) {
  int flags = O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | (force ? O_TRUNC : O_EXCL);
  const int fd = ::open(path.c_str(), flags, 0600);
  if (fd < 0) {
    if (errno == EEXIST) {
      throw CtlError(exit_code::kFailure, path.string() + " exists; pass --force to replace it");
    }
    throw CtlError(exit_code::kFailure,
                   "cannot write " + path.string() + ": " + std::strerror(errno));
  }
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      throw CtlError(exit_code::kFailure,
                     "cannot write " + path.string() + ": " + std::strerror(err));
    }
    done += static_cast<std::size_t>(n);
  }
  ::fchmod(fd, 0600);
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    throw CtlError(exit_code::kFailure,
                   "cannot write " + path.string() + ": " + std::strerror(errno));
  }
}

struct ExportOptions {
  std::string conv;
  std::string format = "json";
  std::string output;
  bool force = false;
  std::int64_t page_bytes = 0;  // 0: the daemon's default
};

// The whole document, asked for page by page (see the daemon's `export`).
Json fetch_export(Context& ctx, const ExportOptions& o) {
  Json params{{"conversation_id", o.conv}};
  if (o.page_bytes > 0) params["page_bytes"] = o.page_bytes;
  Json doc = ctx.call(ctl_protocol::kExport, params, kFileTimeoutSeconds);
  for (;;) {
    const Json page = doc.value("page", Json::object());
    doc.erase("page");
    const Json next_after = page.value("next_after_id", Json());
    if (page.value("complete", true) || !next_after.is_number_integer()) return doc;
    params["after_id"] = next_after;
    Json next = ctx.call(ctl_protocol::kExport, params, kFileTimeoutSeconds);
    for (auto& m : next["messages"]) doc["messages"].push_back(std::move(m));
    doc["page"] = next.value("page", Json::object());
  }
}

int run_export(Context& ctx, const ExportOptions& o) {
  Json doc = fetch_export(ctx, o);
  const std::string text = o.format == "markdown"
                               ? export_markdown(doc)
                               : doc.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
  if (o.output.empty() || o.output == "-") {
    std::fwrite(text.data(), 1, text.size(), stdout);
    return exit_code::kOk;
  }
  const fs::path path = absolute(o.output);
  write_private_file(path, text, o.force);
  const std::size_t messages = doc.value("messages", Json::array()).size();
  if (ctx.json) {
    print_json(Json{{"conversation_id", o.conv},
                    {"path", path.string()},
                    {"format", o.format},
                    {"messages", messages},
                    {"bytes", text.size()}});
  } else {
    std::printf("Exported %s (%zu message%s) as %s to %s\n", o.conv.c_str(), messages,
                messages == 1 ? "" : "s", o.format.c_str(), path.string().c_str());
  }
  return exit_code::kOk;
}

int run_import(Context& ctx, const std::string& file) {
  const fs::path path = absolute(file);
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    throw CtlError(exit_code::kFailure, path.string() + ": no such file");
  }
  Json r = ctx.call(ctl_protocol::kImport, Json{{"path", path.string()}}, kFileTimeoutSeconds);
  if (ctx.json) {
    print_json(r);
  } else {
    std::printf(
        "Imported %s: %lld message%s, %lld status%s\n", field(r, "conversation_id", "").c_str(),
        static_cast<long long>(r.value("messages", 0)), r.value("messages", 0) == 1 ? "" : "s",
        static_cast<long long>(r.value("statuses", 0)), r.value("statuses", 0) == 1 ? "" : "es");
  }
  if (r.value("redacted_on_import", 0) > 0) {
    ctx.warn(std::to_string(r.value("redacted_on_import", 0)) +
             " secret(s) in the file were redacted on import");
  }
  return exit_code::kOk;
}

int run_backup(Context& ctx, const std::string& file, bool force) {
  const fs::path path = absolute(file);
  Json r = ctx.call(ctl_protocol::kBackup, Json{{"path", path.string()}, {"overwrite", force}},
                    kFileTimeoutSeconds);
  if (ctx.json) {
    print_json(r);
  } else {
    std::printf("Backup written to %s (%lld pages, %lld bytes, %lld ms)\n", path.string().c_str(),
                static_cast<long long>(r.value("pages", 0)),
                static_cast<long long>(r.value("bytes", 0)),
                static_cast<long long>(r.value("duration_ms", 0)));
  }
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    ctx.warn("the daemon wrote " + path.string() +
             " but it is not visible here: the daemon has its own view of the file system "
             "(systemd PrivateTmp?); back up to a directory under your home instead");
  }
  return exit_code::kOk;
}

bool confirm_restore(const fs::path& path) {
  std::fprintf(stderr,
               "This replaces every conversation, message, status and audit entry of the running "
               "daemon with the contents of %s.\nContinue? [y/N] ",
               path.string().c_str());
  std::string answer;
  if (!std::getline(std::cin, answer)) return false;
  return answer == "y" || answer == "Y" || answer == "yes";
}

int run_restore(Context& ctx, const std::string& file, bool check_only, bool yes) {
  const fs::path path = absolute(file);
  if (!check_only && !yes) {
    // Replacing every conversation is never done on a silent default: without a person at a
    // terminal to ask, the caller must say --yes.
    if (::isatty(STDIN_FILENO) != 1) {
      throw CtlError(exit_code::kUsage,
                     "restore replaces the whole database and stdin is not a terminal to ask "
                     "on; nothing changed — run it again with --yes to restore without asking");
    }
    if (!confirm_restore(path))
      throw CtlError(exit_code::kFailure, "restore cancelled; nothing changed");
  }
  Json r = ctx.call(ctl_protocol::kRestore,
                    Json{{"path", path.string()}, {"check_only", check_only}}, kFileTimeoutSeconds);
  if (ctx.json) {
    print_json(r);
  } else if (check_only) {
    std::printf("%s is a valid backup (%lld pages, %lld bytes); nothing was restored\n",
                path.string().c_str(), static_cast<long long>(r.value("pages", 0)),
                static_cast<long long>(r.value("bytes", 0)));
  } else {
    std::printf("Restored %s: %lld conversation%s, audit chain of %lld entries %s (%lld ms)\n",
                path.string().c_str(), static_cast<long long>(r.value("conversations", 0)),
                r.value("conversations", 0) == 1 ? "" : "s",
                static_cast<long long>(r.value("audit_entries", 0)),
                r.value("audit_ok", false) ? "verified" : "NOT verified",
                static_cast<long long>(r.value("duration_ms", 0)));
  }
  if (!check_only && !r.value("audit_ok", true)) {
    ctx.warn("the restored audit chain does not verify (" +
             r.value("audit_problem", std::string()) +
             "); was the backup taken by an installation with another server.key?");
  }
  return exit_code::kOk;
}

}  // namespace

void add_transfer_commands(CLI::App& app, Context& ctx, std::vector<Command>& out) {
  auto eo = std::make_shared<ExportOptions>();
  auto* exp = app.add_subcommand(
      "export", "Write one conversation as re-importable JSON or a Markdown transcript");
  exp->add_option("CONV", eo->conv, "Conversation id")->required();
  exp->add_option("--format", eo->format, "json (re-importable, default) or markdown")
      ->check(CLI::IsMember({"json", "markdown"}));
  exp->add_option("-o,--output", eo->output, "Write to FILE (mode 0600) instead of stdout")
      ->type_name("FILE");
  exp->add_flag("--force", eo->force, "Replace FILE if it exists");
  // Hidden: lets tests force many pages.
  exp->add_option("--page-bytes", eo->page_bytes, "Message text per request")->group("");
  out.push_back({exp, [&ctx, eo] { return run_export(ctx, *eo); }});

  auto ifile = std::make_shared<std::string>();
  auto* imp = app.add_subcommand(
      "import", "Load a conversation exported as JSON (refused if its id exists already)");
  imp->add_option("FILE", *ifile, "An export document (claude-bridgectl export CONV)")->required();
  out.push_back({imp, [&ctx, ifile] { return run_import(ctx, *ifile); }});

  auto bfile = std::make_shared<std::string>();
  auto bforce = std::make_shared<bool>(false);
  auto* backup = app.add_subcommand(
      "backup", "Consistent copy of the whole database while the daemon runs (written 0600)");
  backup->add_option("FILE", *bfile, "Where the daemon writes the copy")->required();
  backup->add_flag("--force", *bforce, "Replace FILE if it exists");
  out.push_back({backup, [&ctx, bfile, bforce] { return run_backup(ctx, *bfile, *bforce); }});

  auto rfile = std::make_shared<std::string>();
  auto rcheck = std::make_shared<bool>(false);
  auto ryes = std::make_shared<bool>(false);
  auto* restore =
      app.add_subcommand("restore", "Replace the live database with a backup, after validating it");
  restore->add_option("FILE", *rfile, "A file written by claude-bridgectl backup")->required();
  restore->add_flag("--check", *rcheck, "Only validate FILE; change nothing");
  restore->add_flag("-y,--yes", *ryes,
                    "Do not ask for confirmation (required when stdin is not a terminal)");
  out.push_back(
      {restore, [&ctx, rfile, rcheck, ryes] { return run_restore(ctx, *rfile, *rcheck, *ryes); }});
}

}  // namespace cb::ctl
