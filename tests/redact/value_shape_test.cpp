// The value heuristics under the checks: stand-in values are recognised wherever their marker
// sits and in any case, and random values are told from words. Guards the branch-free scans
// of value_shape.cpp (a prefilter that missed a position would let a stand-in through).
#include "daemon/redact/value_shape.h"

#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <string_view>
#include <vector>

#include "tests/redact/fake_secrets.h"

namespace {

using cb::redact::is_placeholder;
using cb::redact::looks_random;
using cb::redact::shannon_entropy;

// The definition, summed over distinct bytes in order of first appearance.
double reference_entropy(std::string_view s) {
  std::vector<std::size_t> counts(256, 0);
  std::vector<unsigned char> order;
  for (unsigned char c : s) {
    if (counts[c]++ == 0) order.push_back(c);
  }
  double sum = 0.0;
  for (unsigned char c : order) {
    sum += static_cast<double>(counts[c]) * std::log2(static_cast<double>(counts[c]));
  }
  const double n = static_cast<double>(s.size());
  return std::log2(n) - sum / n;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
  return out;
}

std::string alternating(std::string_view s) {
  std::string out(s);
  for (std::size_t i = 0; i < out.size(); i += 2) {
    if (out[i] >= 'a' && out[i] <= 'z') out[i] = static_cast<char>(out[i] - 'a' + 'A');
  }
  return out;
}

}  // namespace

TEST_CASE("a stand-in marker makes a placeholder at any position and in any case") {
  // Markers of 7+ bytes count in token bodies too; shorter ones only in other values.
  const std::vector<std::string> long_markers = {"redacted",  "example",   "placeholder",
                                                 "yourkey",   "yourtoken", "changeme",
                                                 "change_me", "replaceme", "insert_"};
  const std::vector<std::string> short_markers = {"dummy",        "your-", "****", "...",
                                                  "\xe2\x80\xa6", "<",     ">"};
  cb::test::Rng rng(2026);
  for (std::size_t length : {8u, 21u, 40u, 63u, 100u}) {  // values up to 128 bytes are read whole
    const std::string body = rng.chars(cb::test::kAlnum, length);
    for (std::size_t at = 0; at <= length; at += (length > 40 ? 3 : 1)) {
      for (const std::string& marker : long_markers) {
        for (const std::string& form : {marker, upper(marker), alternating(marker)}) {
          const std::string v = body.substr(0, at) + form + body.substr(at);
          CAPTURE(v);
          CHECK(is_placeholder(v));
          CHECK(is_placeholder(v, /*token=*/true));
        }
      }
      for (const std::string& marker : short_markers) {
        const std::string v = body.substr(0, at) + upper(marker) + body.substr(at);
        CAPTURE(v);
        CHECK(is_placeholder(v));
      }
      for (std::string_view marker : {"{{", "}}", "${", "$(", "#{", "xxxxxx", "######"}) {
        const std::string v = body.substr(0, at) + std::string(marker) + body.substr(at);
        CAPTURE(v);
        CHECK(is_placeholder(v));
      }
    }
  }
}

TEST_CASE("random values are not placeholders; short markers do not count in token bodies") {
  cb::test::Rng rng(7);
  int placeholders = 0;
  for (int i = 0; i < 2000; ++i) {
    const std::string v = rng.chars(cb::test::kAlnum, rng.between(12, 100));
    if (is_placeholder(v)) ++placeholders;
  }
  CHECK(placeholders <= 10);  // only by chance ("example" and the like inside random bytes)
  const std::string body = rng.chars(cb::test::kAlnum, 30);
  CHECK_FALSE(is_placeholder(body.substr(0, 10) + "dummy" + body.substr(10), /*token=*/true));
  CHECK_FALSE(is_placeholder(body.substr(0, 10) + "your-" + body.substr(10), /*token=*/true));
  CHECK(is_placeholder("aaaaaaaa"));                          // one byte repeated
  CHECK(is_placeholder("sk-xXxXxXxXab"));                     // mostly mask bytes
  CHECK(is_placeholder("Password"));                          // a stand-in word
  CHECK(is_placeholder(std::string(200, 'Q') + "REDACTED"));  // judged by its tail
}

TEST_CASE("looks_random tells machine-made values from words, dates and identifiers") {
  cb::test::Rng rng(11);
  for (int i = 0; i < 200; ++i) {
    const std::string v = rng.chars(cb::test::kAlnum, rng.between(16, 64));
    CAPTURE(v);
    CHECK(looks_random(v));
  }
  CHECK(looks_random("Kq7-Zr2_Xw9.Pm4"));
  CHECK_FALSE(looks_random("release-2024-01-01"));
  CHECK_FALSE(looks_random("my-app-key-2024"));
  CHECK_FALSE(looks_random("MySecretApplicationName"));
  CHECK_FALSE(looks_random("abcdefghabcdefgh"));
  CHECK_FALSE(looks_random("12345678901234567890"));  // no letters
  CHECK_FALSE(looks_random("short7"));
}

TEST_CASE("shannon_entropy equals the definition exactly, for short and long values") {
  // Thresholds compare against it (>= 3.0, >= 2.5), so the fast paths must not round
  // differently.
  cb::test::Rng rng(3);
  for (std::size_t length = 1; length <= 300; ++length) {
    for (std::string_view alphabet : {cb::test::kHex, cb::test::kBase64, cb::test::kLower}) {
      const std::string v = rng.chars(alphabet, length);
      CAPTURE(v);
      CHECK(shannon_entropy(v) == reference_entropy(v));
    }
  }
  CHECK(shannon_entropy(std::string(1500, 'a') + "b") ==
        reference_entropy(std::string(1500, 'a') + "b"));
}
