#pragma once

#include <openssl/types.h>

#include <filesystem>
#include <string>
#include <string_view>

#include "common/status.h"

// The few cryptographic primitives the bridge uses, all from OpenSSL libcrypto.
namespace cb::crypto {

// Initialises libcrypto without its table of error strings: nothing here ever prints
// OpenSSL's error text (errors are the bridge's own one-line messages), and loading the table
// kept ~0.5 MiB of libcrypto resident for the daemon's whole life. The system's OpenSSL
// configuration is loaded as before. Call first, before anything else touches OpenSSL.
void init_library();

// `n` bytes from the OS CSPRNG (RAND_bytes). Throws std::runtime_error if it fails.
std::string random_bytes(std::size_t n);
std::string hex(std::string_view bytes);
std::string hmac_sha256(std::string_view key, std::string_view data);  // raw 32 bytes

// HMAC-SHA256 under one key, set up once: the same result as hmac_sha256(key, data), for a
// quarter of the cost when called for every audit entry (the one-shot call fetches the
// algorithm and schedules the key each time). The key lives only inside OpenSSL's context,
// which is cleansed when freed. Not for use from two threads at once.
class HmacSha256 {
 public:
  explicit HmacSha256(std::string_view key);  // throws std::runtime_error
  ~HmacSha256();
  HmacSha256(const HmacSha256&) = delete;
  HmacSha256& operator=(const HmacSha256&) = delete;

  std::string operator()(std::string_view data);  // raw 32 bytes; throws std::runtime_error

 private:
  EVP_MAC_CTX* ctx_;
};

bool equal_constant_time(std::string_view a, std::string_view b);
// Overwrites the buffer (OPENSSL_cleanse) before it is released.
void wipe(std::string& s);

// A 32-byte key file readable by its owner only. Created on first use (0600, O_EXCL, fsync);
// an existing file must be a regular file of 32 bytes, owned by us, mode 0600 or stricter.
// Fails with one line naming the file and the fix, under one of the codes below. Throws only
// when the system random generator fails (random_bytes).
Result<std::string> load_or_create_key(const std::filesystem::path& path);

namespace key_errors {
inline constexpr const char* kCannotCreate = "key_cannot_create";  // open(O_EXCL), write or fsync
inline constexpr const char* kCannotOpen = "key_cannot_open";
inline constexpr const char* kNotRegular = "key_not_regular";  // a directory, a fifo…
inline constexpr const char* kNotOwned = "key_not_owned";      // owned by another uid
inline constexpr const char* kOpenMode = "key_open_mode";      // group or others may read
inline constexpr const char* kDamaged = "key_damaged";         // not exactly 32 bytes
}  // namespace key_errors

}  // namespace cb::crypto
