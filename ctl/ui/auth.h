#pragma once

#include <atomic>
#include <string>
#include <string_view>

// Who may use the console: the checks every request passes before anything else
// (SECURITY.md, "The web console"). Pure logic, no HTTP library, so the unit tests reach it.
namespace cb::ctl::ui {

// `bytes` random bytes from the kernel (getrandom), as lower-case hex. Throws
// std::runtime_error when the kernel has none to give (never on Linux >= 3.17).
std::string random_hex(std::size_t bytes);

// Equal contents, in time that depends only on the lengths.
bool constant_time_equal(std::string_view a, std::string_view b);

inline constexpr const char* kCookieName = "cb_console";

class Gate {
 public:
  // `token` goes into the printed URL and works once; `session` is the cookie's value, never
  // shown anywhere. Both are made by random_hex() in the ui command.
  Gate(std::string token, std::string session, int port)
      : token_(std::move(token)), session_(std::move(session)), port_(port) {}

  // The Host header names this console: "127.0.0.1:PORT" or "localhost:PORT" exactly, so a
  // page of another site whose name was rebound to 127.0.0.1 (DNS rebinding) is refused.
  bool host_ok(std::string_view host) const;
  // The Origin header of a POST: "http://127.0.0.1:PORT" or "http://localhost:PORT".
  bool origin_ok(std::string_view origin) const;
  // Trades the one-time token for the session cookie: true for the first matching token, false
  // for every later call, matching or not.
  bool redeem(std::string_view token);
  // The value of the kCookieName cookie is this console's session.
  bool session_ok(std::string_view cookie) const;
  // The Set-Cookie header value that hands the session to the browser.
  std::string set_cookie() const;

 private:
  std::string token_;
  std::string session_;
  int port_;
  std::atomic<bool> redeemed_{false};
};

}  // namespace cb::ctl::ui
