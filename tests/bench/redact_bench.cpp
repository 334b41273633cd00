// Throughput of the built-in redaction rules. Prints figures only; nothing here is asserted.
//
//   redact-bench [iterations [label-substring]]
//
// With a label substring only the inputs whose label contains it run (for counting one input's
// instructions: valgrind --tool=callgrind --toggle-collect='cb::redact::Engine::redact*'
// redact-bench 1 embedded; each input runs redact() iterations + 2 times).
//
// Inputs are generated from the seeded test corpus: 50,000-byte messages made of look-alike
// text only, and of text with embedded credentials of every kind, plus adversarial 1 MiB inputs.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/redact/engine.h"
#include "daemon/redact/redactor.h"
#include "tests/redact/corpus.h"

namespace {

constexpr std::size_t kMessageBytes = 50000;

using Clock = std::chrono::steady_clock;

std::string build_message(cb::test::Rng& rng, bool with_secrets) {
  const auto kinds = with_secrets ? cb::test::positive_kinds() : cb::test::negative_kinds();
  std::string text;
  std::size_t next = 0;
  while (text.size() < kMessageBytes) {
    const std::string& kind = kinds[next++ % kinds.size()];
    const auto m =
        with_secrets ? cb::test::make_positive(kind, rng) : cb::test::make_negative(kind, rng);
    text += m.text + "\n\n";
  }
  text.resize(kMessageBytes);
  return text;
}

std::string repeat(std::string_view unit, std::size_t bytes) {
  std::string out;
  while (out.size() < bytes) out += unit;
  out.resize(bytes);
  return out;
}

struct Result {
  double median_us;
  double mean_us;
  double best_us;
};

Result measure(const cb::redact::Redactor& redactor, const std::string& text, int iterations) {
  std::vector<double> us;
  us.reserve(static_cast<std::size_t>(iterations));
  std::size_t sink = 0;
  for (int i = 0; i < iterations; ++i) {
    const auto start = Clock::now();
    const auto out = redactor.redact(text);
    const auto stop = Clock::now();
    sink += out.hits.size();
    us.push_back(std::chrono::duration<double, std::micro>(stop - start).count());
  }
  std::sort(us.begin(), us.end());
  double total = 0;
  for (double u : us) total += u;
  if (sink == static_cast<std::size_t>(-1)) std::puts("");
  return {us[us.size() / 2], total / static_cast<double>(us.size()), us.front()};
}

const char* g_only = nullptr;  // run only inputs whose label contains this

void report(const char* label, const cb::redact::Redactor& redactor, const std::string& text,
            int iterations) {
  if (g_only != nullptr && std::string_view(label).find(g_only) == std::string_view::npos) return;
  const Result r = measure(redactor, text, iterations);
  const auto out = redactor.redact(text);
  cb::redact::ScanStats stats;
  if (const auto* engine = dynamic_cast<const cb::redact::Engine*>(&redactor)) {
    engine->redact(text, &stats);
  }
  const double mb_per_s = static_cast<double>(text.size()) / r.median_us;  // bytes/us == MB/s
  std::printf(
      "%-34s %9zu B %9.1f us median %9.1f us mean %9.1f us best %8.1f MB/s  hits %5zu"
      "  regex calls %6zu  regex bytes %9zu\n",
      label, text.size(), r.median_us, r.mean_us, r.best_us, mb_per_s, out.hits.size(),
      stats.regex_calls, stats.window_bytes);
}

}  // namespace

int main(int argc, char** argv) {
  const int iterations = argc > 1 ? std::atoi(argv[1]) : 300;
  if (argc > 2) g_only = argv[2];
  const auto build_start = Clock::now();
  const auto fresh = cb::redact::Redactor::create({});
  const double build_ms =
      std::chrono::duration<double, std::milli>(Clock::now() - build_start).count();
  const auto redactor = cb::redact::Redactor::builtin();
  std::printf("rules: %zu kinds; building the rule set took %.1f ms\n", redactor->kinds().size(),
              build_ms);
  (void)fresh;

  cb::test::Rng rng(42);
  const std::string clean = build_message(rng, false);
  const std::string secrets = build_message(rng, true);
  std::string prose;
  while (prose.size() < kMessageBytes) prose += cb::test::filler_sentence(rng) + " ";
  prose.resize(kMessageBytes);

  report("50 kB look-alikes, no secrets", *redactor, clean, iterations);
  report("50 kB with embedded secrets", *redactor, secrets, iterations);
  report("50 kB prose about secrets", *redactor, prose, iterations);
  report("50 kB plain ASCII (a-z)", *redactor, repeat("lorem ipsum dolor sit amet ", kMessageBytes),
         iterations);
  const int big = std::max(3, iterations / 30);
  report("1 MiB 'a=' pairs", *redactor, repeat("a=", 1 << 20), big);
  report("1 MiB 'password=a '", *redactor, repeat("password=a ", 1 << 20), big);
  report("1 MiB 'token: key '", *redactor, repeat("token: key ", 1 << 20), big);
  report("1 MiB look-alikes", *redactor, repeat(clean, 1 << 20), big);
  report("1 MiB with secrets", *redactor, repeat(secrets, 1 << 20), big);
  return 0;
}
