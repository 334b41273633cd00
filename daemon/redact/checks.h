#pragma once

#include <string_view>

#include "daemon/redact/rule.h"

// The checks of the rule tables (RuleSpec::check). Each runs in time linear in the match plus
// at most kCheckContext bytes around it.
namespace cb::redact {

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
bool check_suffixed_key(std::string_view text, Span match, Span* secret);
bool check_sql_password(std::string_view text, Span match, Span* secret);
bool check_twilio(std::string_view text, Span match, Span* secret);
bool check_secret_value(std::string_view text, Span match, Span* secret);
bool check_url_password(std::string_view text, Span match, Span* secret);
bool check_flag_value(std::string_view text, Span match, Span* secret);
bool check_jwt(std::string_view text, Span match, Span* secret);
bool check_pem(std::string_view text, Span match, Span* secret);
bool check_basic_credentials(std::string_view text, Span match, Span* secret);
bool check_discord(std::string_view text, Span match, Span* secret);
bool check_aws_secret(std::string_view text, Span match, Span* secret);
bool check_base64_blob(std::string_view text, Span match, Span* secret);

}  // namespace cb::redact
