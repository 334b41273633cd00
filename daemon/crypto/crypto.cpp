#include "daemon/crypto/crypto.h"

#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "common/fd.h"

namespace cb::crypto {

void init_library() { OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CRYPTO_STRINGS, nullptr); }

std::string random_bytes(std::size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    throw std::runtime_error("the system random generator failed");
  }
  return out;
}

std::string hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
            reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len)) {
    throw std::runtime_error("HMAC-SHA256 failed");
  }
  return std::string(reinterpret_cast<const char*>(out), len);
}

HmacSha256::HmacSha256(std::string_view key) : ctx_(nullptr) {
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (mac) ctx_ = EVP_MAC_CTX_new(mac);
  EVP_MAC_free(mac);  // the context keeps its own reference
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                               OSSL_PARAM_END};
  if (!ctx_ || EVP_MAC_init(ctx_, reinterpret_cast<const unsigned char*>(key.data()), key.size(),
                            params) != 1) {
    EVP_MAC_CTX_free(ctx_);
    throw std::runtime_error("HMAC-SHA256 is not available from OpenSSL");
  }
}

HmacSha256::~HmacSha256() { EVP_MAC_CTX_free(ctx_); }

std::string HmacSha256::operator()(std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  std::size_t len = 0;
  // A null key re-initialises the context with the key it already holds.
  if (EVP_MAC_init(ctx_, nullptr, 0, nullptr) != 1 ||
      EVP_MAC_update(ctx_, reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1 ||
      EVP_MAC_final(ctx_, out, &len, sizeof out) != 1) {
    throw std::runtime_error("HMAC-SHA256 failed");
  }
  return std::string(reinterpret_cast<const char*>(out), len);
}

bool equal_constant_time(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

void wipe(std::string& s) {
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
  s.clear();
}

Result<std::string> load_or_create_key(const std::filesystem::path& path) {
  constexpr std::size_t kKeySize = 32;
  const std::string p = path.string();
  UniqueFd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd && errno == ENOENT) {
    std::string key = random_bytes(kKeySize);
    UniqueFd out(::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!out) {
      wipe(key);
      return Status::error(key_errors::kCannotCreate,
                           "cannot create server key " + p + ": " + std::strerror(errno));
    }
    if (::write(out.get(), key.data(), key.size()) != static_cast<ssize_t>(key.size()) ||
        ::fsync(out.get()) != 0) {
      const int err = errno;
      wipe(key);
      return Status::error(key_errors::kCannotCreate,
                           "cannot write server key " + p + ": " + std::strerror(err));
    }
    return key;
  }
  if (!fd) {
    return Status::error(key_errors::kCannotOpen,
                         "cannot open server key " + p + ": " + std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return Status::error(key_errors::kNotRegular,
                         "server key " + p + " is not a regular file — move it away");
  }
  if (st.st_uid != ::geteuid()) {
    return Status::error(key_errors::kNotOwned, "server key " + p + " is owned by uid " +
                                                    std::to_string(st.st_uid) +
                                                    ", not by you — fix its owner");
  }
  if ((st.st_mode & 077) != 0) {
    return Status::error(key_errors::kOpenMode,
                         "server key " + p + " is readable by others — run: chmod 600 " + p);
  }
  std::string key(kKeySize + 1, '\0');
  const ssize_t n = ::read(fd.get(), key.data(), key.size());
  if (n != static_cast<ssize_t>(kKeySize)) {
    wipe(key);
    return Status::error(key_errors::kDamaged,
                         "server key " + p +
                             " is damaged (not 32 bytes) — restore it from backup; without it "
                             "existing tokens cannot be verified");
  }
  key.resize(kKeySize);
  return key;
}

}  // namespace cb::crypto
