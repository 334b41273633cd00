#pragma once

#include <string>
#include <string_view>

#include "daemon/bridge/redact/rule.h"

// Value heuristics shared by the rule tables. All run in time linear in their input.
namespace cb::bridge::redact {

// Shannon entropy in bits per byte.
double shannon_entropy(std::string_view s);

// Not a secret but a stand-in for one: template and environment references ($VAR, ${VAR},
// %VAR%, {{ secrets.X }}, $(cmd)), angle-bracket and "your key here" wording, masks (xxxx,
// ****), values already redacted, "..." (an elided value such as sk-abc...xyz), and words such
// as null/true/string/password. With `token` (a value with a vendor prefix and random body) only
// marker words of 7+ bytes count, since a random body may contain "your-" or "dummy" by chance.
bool is_placeholder(std::string_view value, bool token = false);

// Looks machine-generated: mixes letters and digits (or upper and lower case over 16+ bytes)
// with enough entropy, and is not a hyphenated/underscored sequence of words and numbers.
bool looks_random(std::string_view value);

// Standard or URL-safe alphabet, padding optional. False on any other byte.
bool base64_decode(std::string_view in, std::string* out);

// RuleSpec::check implementations. Those that take a capture-free "key<op>value" match locate
// the value themselves (cheaper than asking RE2 for submatches).
bool check_token(std::string_view text, Span match, Span* secret);
bool check_token_value(std::string_view text, Span match, Span* secret);
bool check_flag_secret(std::string_view text, Span match, Span* secret);
bool check_random_value(std::string_view text, Span match, Span* secret);
bool check_password_value(std::string_view text, Span match, Span* secret);
bool check_password_assignment(std::string_view text, Span match, Span* secret);
bool check_named_value(std::string_view text, Span match, Span* secret);
bool check_curl_password(std::string_view text, Span match, Span* secret);
bool check_password_prose(std::string_view text, Span match, Span* secret);
bool check_secret_value(std::string_view text, Span match, Span* secret);
bool check_url_password(std::string_view text, Span match, Span* secret);
bool check_flag_value(std::string_view text, Span match, Span* secret);
bool check_jwt(std::string_view text, Span match, Span* secret);
bool check_pem(std::string_view text, Span match, Span* secret);
bool check_basic_credentials(std::string_view text, Span match, Span* secret);
bool check_discord(std::string_view text, Span match, Span* secret);
bool check_aws_secret(std::string_view text, Span match, Span* secret);
bool check_base64_blob(std::string_view text, Span match, Span* secret);

}  // namespace cb::bridge::redact
