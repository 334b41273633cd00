// claude-bridge-hook: the client hooks of issue 24 in a binary that starts in about a
// millisecond (it runs after every tool call; claude-bridgectl, which links the CLI, TOML and
// web console libraries, takes several). `claude-bridgectl hook` runs the same code.
#include <string>
#include <vector>

#include "ctl/hook/hook.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return cb::hook::main(args);
}
