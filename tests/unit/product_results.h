#pragma once

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/status.h"
#include "daemon/admin/views_render.h"
#include "daemon/tools/exec_render.h"
#include "daemon/tools/mailbox_render.h"

// The product answers with typed results; the tests read them as the JSON that goes on the
// wire — tool results rendered by daemon/tools/ (mailbox_render.h, exec_render.h), the
// operator's views by daemon/admin/views_render.h — which also exercises the renderers, and
// read refusals as plain fields.
namespace cb::test {

struct Refusal {
  std::string code;
  std::string message;
  std::optional<std::int64_t> retry_after_seconds;
};

template <class T>
nlohmann::json as_json(const T& value) {
  using admin::render;
  using tools::render;
  return render(value);
}

// The rendered answer; fails the test case when the call was refused.
template <class T>
nlohmann::json ok_json(const Result<T>& r) {
  if (!r.ok()) FAIL("refused: " << r.status().code() << ": " << r.status().message());
  return as_json(r.value());
}

// The refusal; fails the test case when the call succeeded.
template <class T>
Refusal refusal_of(const Result<T>& r) {
  REQUIRE_FALSE(r.ok());
  return Refusal{r.status().code(), r.status().message(), r.status().retry_after_seconds()};
}

}  // namespace cb::test
