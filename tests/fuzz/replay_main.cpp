// A main() for the fuzz targets in builds without libFuzzer (GCC, the normal unit-test build).
// Replays every file under the given paths through LLVMFuzzerTestOneInput (the committed seed
// corpora and the regressions/ inputs that once crashed), then runs --mutations N inputs
// made by a small deterministic mutator from those files (byte flips, inserts, deletes,
// duplicated stretches, splices and a few interesting tokens). An invariant failure aborts
// with the offending input written to ./fuzz-replay-failure (and its path on stderr).
//
//   fuzz-replay-<target> [--mutations N] [--seed S] PATH...
#include <algorithm>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);
extern "C" __attribute__((weak)) int LLVMFuzzerInitialize(int* argc, char*** argv);

namespace {

std::string current;  // the input being run, saved on abort

void save_current(int) {
  {
    std::ofstream out("fuzz-replay-failure", std::ios::binary);
    out.write(current.data(), static_cast<std::streamsize>(current.size()));
  }
  std::fprintf(stderr, "fuzz-replay: the failing input (%zu bytes) is in %s/fuzz-replay-failure\n",
               current.size(), std::filesystem::current_path().c_str());
  std::signal(SIGABRT, SIG_DFL);
  std::abort();
}

void run(const std::string& input) {
  current = input;
  LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(current.data()), current.size());
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string mutate(std::string s, const std::vector<std::string>& pool, std::mt19937_64& rng) {
  static const char* const kTokens[] = {"\n", "\"", "\\", "{", "}", "[", "]", ":", ",", "null",
                                        "0", "-1", "1e308", "\xff", "\xc3\xa9", "\r\n", "\\u0000",
                                        "\"id\":", "@TA@", "@TB@", "@CONV@", "=", "'"};
  const int steps = 1 + static_cast<int>(rng() % 4);
  for (int i = 0; i < steps; ++i) {
    const std::size_t at = s.empty() ? 0 : rng() % (s.size() + 1);
    switch (rng() % 6) {
      case 0:
        if (!s.empty()) s[at % s.size()] ^= static_cast<char>(1u << (rng() % 8));
        break;
      case 1:
        s.insert(at, 1, static_cast<char>(rng() % 256));
        break;
      case 2:
        if (!s.empty()) s.erase(at % s.size(), 1 + rng() % 8);
        break;
      case 3: {
        if (s.empty()) break;
        const std::size_t from = rng() % s.size();
        const std::size_t len = 1 + rng() % std::min<std::size_t>(64, s.size() - from);
        s.insert(at, s.substr(from, len));
        break;
      }
      case 4: {
        const std::string& other = pool[rng() % pool.size()];
        if (other.empty()) break;
        const std::size_t from = rng() % other.size();
        s.insert(at, other.substr(from, 1 + rng() % (other.size() - from)));
        break;
      }
      default:
        s.insert(at, kTokens[rng() % (sizeof kTokens / sizeof *kTokens)]);
        break;
    }
  }
  if (s.size() > 65536) s.resize(65536);
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  if (LLVMFuzzerInitialize) LLVMFuzzerInitialize(&argc, &argv);
  long mutations = 0;
  std::uint64_t seed = 1;
  std::vector<std::filesystem::path> files;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--mutations" && i + 1 < argc) {
      mutations = std::strtol(argv[++i], nullptr, 10);
    } else if (a == "--seed" && i + 1 < argc) {
      seed = std::strtoull(argv[++i], nullptr, 10);
    } else if (std::filesystem::is_directory(a)) {
      for (const auto& e : std::filesystem::recursive_directory_iterator(a)) {
        if (e.is_regular_file() && e.path().filename().string()[0] != '.') files.push_back(e.path());
      }
    } else if (std::filesystem::is_regular_file(a)) {
      files.emplace_back(a);
    } else {
      std::fprintf(stderr, "fuzz-replay: no such file or directory: %s\n", a.c_str());
      return 2;
    }
  }
  std::sort(files.begin(), files.end());
  std::signal(SIGABRT, save_current);
  std::vector<std::string> pool;
  for (const auto& f : files) {
    pool.push_back(read_file(f));
    run(pool.back());
  }
  if (pool.empty()) pool.emplace_back();
  std::mt19937_64 rng(seed);
  for (long i = 0; i < mutations; ++i) run(mutate(pool[rng() % pool.size()], pool, rng));
  std::printf("fuzz-replay: %zu files and %ld mutations ran clean\n", files.size(), mutations);
  return 0;
}
