#pragma once

#include <string_view>

#include "daemon/redact/rule.h"

// Locators (see Locate in rule.h): where a rule's capture group sits in a match, computed from
// the match instead of asking RE2 for submatches. Each names the pattern shape it serves; using
// one on any other pattern is a defect that tests/redact/locators_test.cpp catches.
namespace cb::redact {

// ...([A-Za-z0-9+/]{86}==) at the end of the pattern: the last 88 bytes.
Span locate_last_88(std::string_view text, Span match);
// ...([0-9a-f]{32})(?:$|[^A-Za-z0-9_]): the 32 bytes before the closing byte, if any.
Span locate_hex32_before_boundary(std::string_view text, Span match);
// [?&;]sig=(...): everything after the first five bytes.
Span locate_after_sig(std::string_view text, Span match);
// <word>\s+(...) with no blank in the group: from the first non-blank after the first blank.
Span locate_after_scheme(std::string_view text, Span match);
// ://user:(...)@: between the first ':' after "://" and the closing '@'.
Span locate_url_password(std::string_view text, Span match);
// <switch> user:(...): everything after the first ':'.
Span locate_after_colon(std::string_view text, Span match);
// (?i)authorization<quote/bracket/blanks>[:=]<blanks/quote>(?:<scheme>[ \t]+)?([...]{16,}).
Span locate_authorization(std::string_view text, Span match);
// ...\s+[*_"'\x60]{0,2}([^\s"'\x60*()\[\]{}<>]{N,}) at the end of the pattern, N = 3 or 8.
Span locate_prose_value_3(std::string_view text, Span match);
Span locate_prose_value_8(std::string_view text, Span match);

}  // namespace cb::redact
