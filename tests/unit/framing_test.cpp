#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "common/framing.h"

using cb::LineFramer;

TEST_CASE("lines come out whole, however the bytes were split") {
  const std::string input = "{\"a\":1}\n\n{\"b\":2}\r\n{\"c\":3}\n";
  for (std::size_t chunk = 1; chunk <= input.size(); ++chunk) {
    LineFramer f(100);
    std::vector<std::string> got;
    for (std::size_t i = 0; i < input.size(); i += chunk) {
      f.append(std::string_view(input).substr(i, chunk));
      std::string line;
      while (f.next(line) == LineFramer::Status::kLine) got.push_back(line);
    }
    REQUIRE(got.size() == 3);
    CHECK(got[0] == "{\"a\":1}");
    CHECK(got[1] == "{\"b\":2}\r");
    CHECK(got[2] == "{\"c\":3}");
  }
}

TEST_CASE("an over-long line is refused while it is still being read") {
  LineFramer f(8);
  std::string line;
  f.append("12345678\n");
  CHECK(f.next(line) == LineFramer::Status::kLine);
  f.append("123456789");  // no newline yet, already over the cap
  CHECK(f.next(line) == LineFramer::Status::kTooLong);
  CHECK(f.buffered() == 0);
  f.append("\nok\n");  // the stream cannot be trusted any more
  CHECK(f.next(line) == LineFramer::Status::kTooLong);
}

TEST_CASE("a line exactly at the cap passes; one byte more does not") {
  LineFramer f(4);
  std::string line;
  f.append("abcd\nabcde\n");
  CHECK(f.next(line) == LineFramer::Status::kLine);
  CHECK(line == "abcd");
  CHECK(f.next(line) == LineFramer::Status::kTooLong);
}

TEST_CASE("memory stays bounded over a long stream of short lines") {
  LineFramer f(64);
  std::string line;
  for (int i = 0; i < 100000; ++i) {
    f.append("{\"x\":1}\n");
    REQUIRE(f.next(line) == LineFramer::Status::kLine);
  }
  CHECK(f.buffered() == 0);
}
