// common/status.h: the one vocabulary for expected failures.
#include "common/status.h"

#include <doctest/doctest.h>

#include <memory>
#include <string>

using cb::Result;
using cb::Status;

TEST_CASE("Status: OK by default; an error keeps its code, message and retry hint") {
  Status ok;
  CHECK(ok.ok());
  CHECK(ok.code().empty());
  Status e = Status::error("rate_limited", "retry in 3 s", 3);
  CHECK_FALSE(e.ok());
  CHECK(e.code() == "rate_limited");
  CHECK(e.message() == "retry in 3 s");
  REQUIRE(e.retry_after_seconds());
  CHECK(*e.retry_after_seconds() == 3);
  CHECK_FALSE(Status::error("bad_token", "x").retry_after_seconds());
  CHECK(Status::invalid("config: no such key").code() == "invalid");
}

TEST_CASE("Result: a value or the Status that explains its absence; move-only values work") {
  Result<std::string> v = std::string("conv_1");
  REQUIRE(v.ok());
  CHECK(static_cast<bool>(v));
  CHECK(*v == "conv_1");
  CHECK(v->size() == 6);
  Result<std::string> f = Status::error("unknown_conversation", "no such conversation");
  REQUIRE_FALSE(f.ok());
  CHECK(f.status().code() == "unknown_conversation");
  Result<std::unique_ptr<int>> p = std::make_unique<int>(7);
  std::unique_ptr<int> taken = std::move(p).value();
  CHECK(*taken == 7);
  Result<int> moved_status = Status::error("expired", "gone");
  Status s = std::move(moved_status).status();
  CHECK(s.message() == "gone");
}
