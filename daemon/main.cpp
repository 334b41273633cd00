#include <cstdio>

#include "cb_config.h"

int main() {
  std::printf("claude-bridged %s\n", CB_VERSION);
  return 0;
}
