#pragma once

#include <filesystem>
#include <memory>
#include <string>

namespace cb {

struct DaemonOptions {
  std::filesystem::path socket_dir;
  std::filesystem::path state_dir;
  std::filesystem::path config_file;
  bool config_required = false;  // named by flag or environment: a missing file is an error
  std::string log_level;         // overrides the config when non-empty
};

// Runs the daemon until SIGTERM/SIGINT. Returns the process exit status; start-up failures are
// reported as one line on stderr.
int run_daemon(const DaemonOptions& options);

}  // namespace cb
