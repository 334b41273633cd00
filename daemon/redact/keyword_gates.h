#pragma once

#include <cstddef>
#include <string_view>

// Gates (see Gate in rule.h): constant-time shape tests that let the engine skip the keyword
// occurrences of ordinary prose and code ("token" in "tokens are counted", "key" in "keyboard")
// without running a regex. Each looks at most kCheckContext bytes around the occurrence, and
// each may let through occurrences the regex then rejects, never the reverse.
namespace cb::redact {

// key[letters] [closing quotes, ], *, _] [blanks] then ':', '=', '!=', '=>' or '>' (XML).
bool gate_assignment(std::string_view text, std::size_t pos, std::size_t length);
// "<qualifier>[_.-]key" (signing_key, accessKey) followed by an assignment.
bool gate_qualified_key(std::string_view text, std::size_t pos, std::size_t length);
// key[letters] [for ...] then "is", "was", "to", "set", "changed".
bool gate_prose(std::string_view text, std::size_t pos, std::size_t length);
// As gate_prose, plus "should", "will", "on", "of", "at", "'s" or an operator (":", "=", "->").
bool gate_password_prose(std::string_view text, std::size_t pos, std::size_t length);
// key[letters], then words and blanks up to a single quote (SQL: IDENTIFIED BY 'x').
bool gate_quote_after(std::string_view text, std::size_t pos, std::size_t length);
// gate_assignment, and the word "value" within 128 bytes ({"name": "X", "value": ...}).
bool gate_named(std::string_view text, std::size_t pos, std::size_t length);
// key[letters], its closing quote, then ',' (a header setter's arguments).
bool gate_comma_after(std::string_view text, std::size_t pos, std::size_t length);
// key[letters], a short separator, then 86+ base64 bytes (an Azure storage key).
bool gate_base64_key_after(std::string_view text, std::size_t pos, std::size_t length);
// "AC" followed by 32 lowercase hex (a Twilio account SID), or the word Twilio.
bool gate_twilio(std::string_view text, std::size_t pos, std::size_t length);
// "... as the password": " as " shortly before the key.
bool gate_as_before(std::string_view text, std::size_t pos, std::size_t length);
// "<name>_key" / "<name>-key" followed by an assignment.
bool gate_suffixed_key(std::string_view text, std::size_t pos, std::size_t length);
// "with", "using", "use", "enter" or "type" shortly before the key ("log in with the password").
bool gate_verb_before(std::string_view text, std::size_t pos, std::size_t length);
// A "-P" switch later on the same line (sqlcmd, bcp).
bool gate_capital_p_on_line(std::string_view text, std::size_t pos, std::size_t length);
// --[words-]key then a blank: a command-line flag.
bool gate_flag(std::string_view text, std::size_t pos, std::size_t length);
// -u, -a, --user, --auth as a separate word followed by a blank or '='.
bool gate_switch(std::string_view text, std::size_t pos, std::size_t length);
// An HTTP auth scheme word followed by blanks and a token byte.
bool gate_scheme(std::string_view text, std::size_t pos, std::size_t length);
// "://" followed by userinfo containing ':' and '@' before the host ends.
bool gate_url_userinfo(std::string_view text, std::size_t pos, std::size_t length);
// A "-p" switch later on the same line (mysql, docker login, sshpass).
bool gate_p_switch_on_line(std::string_view text, std::size_t pos, std::size_t length);
// "password" later on the same line (.netrc).
bool gate_password_on_line(std::string_view text, std::size_t pos, std::size_t length);
// `kind: Secret` / "kind": "Secret".
bool gate_kind_before(std::string_view text, std::size_t pos, std::size_t length);
// A Discord token: '.' 24 to 28 bytes after the start.
bool gate_discord(std::string_view text, std::size_t pos, std::size_t length);
// An Airtable token: '.' 17 bytes after the start.
bool gate_airtable(std::string_view text, std::size_t pos, std::size_t length);

}  // namespace cb::redact
