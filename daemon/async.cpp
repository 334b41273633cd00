#include <spdlog/spdlog.h>

#include "daemon/async.h"

namespace cb {

void log_coroutine_failure(const std::string& what, std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    spdlog::error("{} ended with an error: {}", what, e.what());
  } catch (...) {
    spdlog::error("{} ended with an unknown error", what);
  }
}

}  // namespace cb
