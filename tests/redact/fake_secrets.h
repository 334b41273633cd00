#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

// Fake credentials for the redaction tests, generated at run time from a seeded PRNG: right
// prefix, charset and length, random body. Prefixes are assembled from pieces so that no
// secret-looking literal exists in the source tree (secret scanners flag those).
namespace cb::test {

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next();  // splitmix64
  std::size_t below(std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(next() % n); }
  std::size_t between(std::size_t lo, std::size_t hi) { return lo + below(hi - lo + 1); }
  bool chance(double p) { return static_cast<double>(next() >> 11) * 0x1.0p-53 < p; }
  std::string chars(std::string_view alphabet, std::size_t n);
  std::string bytes(std::size_t n);
  template <typename T>
  const T& pick(const std::vector<T>& items) {
    return items[below(items.size())];
  }

 private:
  std::uint64_t state_;
};

inline constexpr std::string_view kLower = "abcdefghijklmnopqrstuvwxyz";
inline constexpr std::string_view kUpper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
inline constexpr std::string_view kDigits = "0123456789";
inline constexpr std::string_view kLetters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
inline constexpr std::string_view kAlnum =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
inline constexpr std::string_view kHex = "0123456789abcdef";
inline constexpr std::string_view kBase64 =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
inline constexpr std::string_view kBase64Url =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string base64(std::string_view bytes, bool url_safe = false, bool pad = true);
std::string join(const std::vector<std::string>& parts, std::string_view separator);

// One generated credential. `value` is what a person pastes; `hidden` are the fragments that
// must not survive redaction (usually just `value`).
struct FakeSecret {
  std::string kind;  // the corpus kind (not necessarily the rule name)
  std::string value;
  std::vector<std::string> hidden;
  std::string placeholder;             // the placeholder the redactor should use
  std::vector<std::string> key_names;  // names this credential is usually assigned to
};

// Every kind the corpus covers that is a standalone string (context kinds such as passwords in
// URLs are built by the corpus itself).
std::vector<std::string> token_kinds();
FakeSecret make_token(std::string_view kind, Rng& rng);

// Pieces the corpus combines.
std::string fake_password(Rng& rng, std::string_view forbidden = "");
std::string fake_generic_secret(Rng& rng);  // opaque API key / secret of a vendor without prefix
std::string fake_pem_body(Rng& rng, std::size_t lines);
// A PEM private key with real newlines; `type` is "", "RSA ", "EC ", "OPENSSH ", ...
std::string fake_pem_private_key(Rng& rng, std::string_view type);
std::string fake_jwt(Rng& rng);

}  // namespace cb::test
