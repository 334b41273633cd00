#include "ctl/ui/auth.h"

#include <sys/random.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace cb::ctl::ui {

std::string random_hex(std::size_t bytes) {
  std::vector<unsigned char> buf(bytes);
  std::size_t got = 0;
  while (got < bytes) {
    const ssize_t n = ::getrandom(buf.data() + got, bytes - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(std::string("getrandom: ") + std::strerror(errno));
    }
    got += static_cast<std::size_t>(n);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes * 2);
  for (unsigned char c : buf) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return diff == 0;
}

bool Gate::host_ok(std::string_view host) const {
  const std::string port = ":" + std::to_string(port_);
  return host == "127.0.0.1" + port || host == "localhost" + port;
}

bool Gate::origin_ok(std::string_view origin) const {
  const std::string port = ":" + std::to_string(port_);
  return origin == "http://127.0.0.1" + port || origin == "http://localhost" + port;
}

bool Gate::redeem(std::string_view token) {
  if (token.empty() || !constant_time_equal(token, token_)) return false;
  bool expected = false;
  return redeemed_.compare_exchange_strong(expected, true);
}

bool Gate::session_ok(std::string_view cookie) const {
  return !cookie.empty() && constant_time_equal(cookie, session_);
}

std::string Gate::set_cookie() const {
  return std::string(kCookieName) + "=" + session_ + "; Path=/; HttpOnly; SameSite=Strict";
}

}  // namespace cb::ctl::ui
