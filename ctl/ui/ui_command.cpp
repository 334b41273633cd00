// `claude-bridgectl ui`: the overseer's web console (docs/cli.md, SECURITY.md "The web
// console"). A process of its own beside the daemon: it reads the daemon over ctl.sock like
// every other command and serves one page on 127.0.0.1.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <stdexcept>

#include "common/exit_codes.h"
#include "ctl/commands.h"
#include "ctl/ui/auth.h"
#include "ctl/ui/events.h"
#include "ctl/ui/feed.h"
#include "ctl/ui/server.h"

extern char** environ;

namespace cb::ctl {
namespace {

namespace fs = std::filesystem;

bool display_available() {
  for (const char* v : {"DISPLAY", "WAYLAND_DISPLAY"}) {
    const char* s = std::getenv(v);
    if (s && *s) return true;
  }
  return false;
}

// Opens the console in the person's browser without putting the token on any command line
// (other users can read every process's argv): xdg-open gets a private file that redirects to
// the URL, as Jupyter does. Returns the file to remove at exit, or an empty path.
fs::path open_browser(Context& ctx, const std::string& url) {
  const auto xdg_open = find_on_path("xdg-open");
  if (!xdg_open) {
    ctx.warn("xdg-open is not installed; open the link above in your browser");
    return {};
  }
  const char* runtime = std::getenv("XDG_RUNTIME_DIR");
  std::string templ =
      (runtime && *runtime ? std::string(runtime) : fs::temp_directory_path().string()) +
      "/claude-bridge-ui-XXXXXX";
  if (!::mkdtemp(templ.data())) {
    ctx.warn("cannot make a private directory for the browser's link; open the link above");
    return {};
  }
  const fs::path file = fs::path(templ) / "open.html";
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return {};
  const std::string html = "<!doctype html><meta http-equiv=\"refresh\" content=\"0;url=" + url +
                           "\"><a href=\"" + url + "\">Open the console</a>\n";
  const bool written = ::write(fd, html.data(), html.size()) == static_cast<ssize_t>(html.size());
  ::close(fd);
  if (!written) return file;
  const std::string target = "file://" + file.string();
  std::string program = xdg_open->string();
  char* argv[] = {program.data(), const_cast<char*>(target.c_str()), nullptr};
  pid_t pid = 0;
  if (::posix_spawn(&pid, program.c_str(), nullptr, nullptr, argv, environ) != 0) {
    ctx.warn("xdg-open did not start; open the link above in your browser");
  }
  return file;
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char ch : s) {
    if (ch == '\'')
      out += "'\\''";
    else
      out += ch;
  }
  return out + "'";
}

int run_ui(Context& ctx, int port, bool no_open) {
  if (port < 0 || port > 65535) {
    throw CtlError(exit_code::kUsage,
                   "--port must be a port number, 1 to 65535 — see: "
                   "claude-bridgectl ui --help");
  }
  // Every thread made from here on blocks these; the main thread takes them with sigwait.
  // SIGUSR1 is the watch thread telling it the daemon went away.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  std::signal(SIGCHLD, SIG_IGN);  // xdg-open is not waited for

  ui::Hub hub;
  ui::Feed feed(ctx.socket_dir(), hub, [] { ::kill(::getpid(), SIGUSR1); });
  feed.start();
  std::string ctl_command = "claude-bridgectl";
  if (!ctx.socket_dir_flag.empty())
    ctl_command += " --socket-dir " + shell_quote(ctx.socket_dir_flag);
  ui::Server server(ui::ServerOptions{port, ctx.socket_dir(), ctl_command}, hub, feed);
  const std::string token = ui::random_hex(32);
  int bound = 0;
  try {
    bound = server.start(token, ui::random_hex(32));
  } catch (const std::runtime_error& e) {
    throw CtlError(exit_code::kFailure, std::string(e.what()) +
                                            " — choose another --port, or leave it out for a "
                                            "free one");
  }
  const std::string url = "http://127.0.0.1:" + std::to_string(bound) + "/?token=" + token;
  std::printf("%s\n", url.c_str());
  std::fflush(stdout);
  std::fprintf(stderr,
               "claude-bridgectl: the console serves on 127.0.0.1:%d; the link opens once, in "
               "one browser. Ctrl-C stops it.\n",
               bound);
  fs::path redirect;
  if (!no_open && display_available()) redirect = open_browser(ctx, url);

  int sig = 0;
  sigwait(&set, &sig);
  server.stop();
  feed.stop();
  if (!redirect.empty()) {
    std::error_code ec;
    fs::remove_all(redirect.parent_path(), ec);
  }
  if (sig == SIGUSR1) {
    throw CtlError(exit_code::kUnavailable,
                   "the daemon closed ctl.sock (it stopped); the console stopped too");
  }
  return exit_code::kOk;
}

}  // namespace

void add_ui_commands(CLI::App& app, Context& ctx, std::vector<Command>& out) {
  auto port = std::make_shared<int>(0);
  auto no_open = std::make_shared<bool>(false);
  auto* ui = app.add_subcommand(
      "ui", "The overseer's web console on 127.0.0.1: conversations, audit, approvals, health");
  ui->add_option("--port", *port, "Port to serve on, 1 to 65535 (default: a free one)")
      ->type_name("N");
  ui->add_flag("--no-open", *no_open, "Print the link only; do not start a browser");
  out.push_back({ui, [&ctx, port, no_open] { return run_ui(ctx, *port, *no_open); }});
}

}  // namespace cb::ctl
