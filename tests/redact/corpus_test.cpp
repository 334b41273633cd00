// Generates a seeded corpus of agent messages at test time and measures the built-in rules on
// it: recall per credential kind (no hidden fragment survives) and the share of look-alike
// messages that were changed at all. Prints the table; asserts recall >= 99% and changed
// negatives <= 0.5%, per kind and overall.
#include "tests/redact/corpus.h"

#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "daemon/redact/redactor.h"

namespace {

constexpr double kMinRecall = 0.99;
constexpr double kMaxChanged = 0.005;

struct Tally {
  std::string kind;
  int total = 0;
  int bad = 0;          // positives: a fragment survived; negatives: text changed
  int placeholder = 0;  // positives: the expected placeholder appears
  std::vector<std::string> examples;
};

std::size_t samples(const char* variable, std::size_t fallback) {
  const char* value = std::getenv(variable);
  return value != nullptr ? static_cast<std::size_t>(std::strtoul(value, nullptr, 10)) : fallback;
}

std::string describe(const cb::redact::Redacted& out, std::string_view input) {
  std::string line;
  for (const auto& hit : out.hits) {
    line += " [" + hit.kind + ": " +
            std::string(input.substr(hit.offset, std::min<std::size_t>(hit.length, 60))) + "]";
  }
  return line;
}

std::string excerpt(const std::string& text) {
  std::string out = text.substr(0, 400);
  for (char& c : out) {
    if (c == '\n') c = '|';
  }
  return out;
}

}  // namespace

TEST_CASE("corpus: recall per credential kind and changed look-alikes") {
  const auto redactor = cb::redact::Redactor::builtin();
  const std::size_t per_positive = samples("CB_REDACT_CORPUS_POSITIVES", 1000);
  const std::size_t per_negative = samples("CB_REDACT_CORPUS_NEGATIVES", 2000);
  cb::test::Rng rng(samples("CB_REDACT_CORPUS_SEED", 20240501));

  std::vector<Tally> positives;
  int positive_total = 0, positive_missed = 0;
  for (const std::string& kind : cb::test::positive_kinds()) {
    Tally tally{kind};
    for (std::size_t i = 0; i < per_positive; ++i) {
      const cb::test::CorpusMessage m = cb::test::make_positive(kind, rng);
      const auto out = redactor->redact(m.text);
      bool leaked = false;
      for (const std::string& fragment : m.hidden) {
        if (out.text.find(fragment) != std::string::npos) leaked = true;
      }
      ++tally.total;
      if (leaked) {
        ++tally.bad;
        if (tally.examples.size() < 3)
          tally.examples.push_back(excerpt(m.text) + "\n      => " + excerpt(out.text));
      }
      if (out.text.find(m.placeholder) != std::string::npos) ++tally.placeholder;
    }
    positive_total += tally.total;
    positive_missed += tally.bad;
    positives.push_back(tally);
  }

  std::vector<Tally> negatives;
  int negative_total = 0, negative_changed = 0;
  for (const std::string& kind : cb::test::negative_kinds()) {
    Tally tally{kind};
    for (std::size_t i = 0; i < per_negative; ++i) {
      const cb::test::CorpusMessage m = cb::test::make_negative(kind, rng);
      const auto out = redactor->redact(m.text);
      ++tally.total;
      if (out.changed()) {
        ++tally.bad;
        if (tally.examples.size() < 3)
          tally.examples.push_back(excerpt(m.text) + "\n      hits:" + describe(out, m.text));
      }
    }
    negative_total += tally.total;
    negative_changed += tally.bad;
    negatives.push_back(tally);
  }

  std::printf("\n%-24s %8s %8s %9s %12s\n", "credential kind", "messages", "missed", "recall",
              "placeholder");
  for (const Tally& t : positives) {
    std::printf("%-24s %8d %8d %8.2f%% %11.1f%%\n", t.kind.c_str(), t.total, t.bad,
                100.0 * (t.total - t.bad) / t.total, 100.0 * t.placeholder / t.total);
  }
  std::printf("%-24s %8d %8d %8.2f%%\n\n", "ALL POSITIVES", positive_total, positive_missed,
              100.0 * (positive_total - positive_missed) / positive_total);
  std::printf("%-24s %8s %8s %9s\n", "look-alike family", "messages", "changed", "changed%");
  for (const Tally& t : negatives) {
    std::printf("%-24s %8d %8d %8.2f%%\n", t.kind.c_str(), t.total, t.bad, 100.0 * t.bad / t.total);
  }
  std::printf("%-24s %8d %8d %8.2f%%\n\n", "ALL NEGATIVES", negative_total, negative_changed,
              100.0 * negative_changed / negative_total);
  for (const auto* group : {&positives, &negatives}) {
    for (const Tally& t : *group) {
      for (const std::string& example : t.examples)
        std::printf("[%s] %s\n", t.kind.c_str(), example.c_str());
    }
  }
  std::fflush(stdout);

  for (const Tally& t : positives) {
    CAPTURE(t.kind);
    CHECK(t.total - t.bad >= kMinRecall * t.total);
  }
  CHECK(positive_total - positive_missed >= kMinRecall * positive_total);
  for (const Tally& t : negatives) {
    CAPTURE(t.kind);
    CHECK(t.bad <= kMaxChanged * t.total);
  }
  CHECK(negative_changed <= kMaxChanged * negative_total);
}
