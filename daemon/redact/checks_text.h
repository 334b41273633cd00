#pragma once

// Internal to daemon/redact/checks*.cpp: the text-reading helpers the checks share (where a
// key's value starts and ends; whether it is quoted, prose, a reference, a path or code).
// Defined, with their contracts, in checks_text.cpp.

#include <cstddef>
#include <string_view>

#include "daemon/redact/ascii.h"
#include "daemon/redact/rule.h"

namespace cb::redact::checks_internal {

using ascii::contains;
using ascii::is_alnum;
using ascii::is_alpha;
using ascii::is_digit;
using ascii::is_lower;
using ascii::is_space;
using ascii::is_upper;
using ascii::lowercase;
using ascii::slice;
using ascii::to_lower;

void trim_sentence_punctuation(std::string_view text, Span* secret);
std::size_t key_name_start(std::string_view text, std::size_t pos);
bool ends_config_line(std::string_view text, std::size_t key_begin, Span secret);
void take_line_end_punctuation(std::string_view text, std::size_t key_begin, Span* secret);
bool is_prose_phrase(std::string_view v);
bool is_quoted_passphrase(std::string_view v, bool strict);
bool is_quoted(std::string_view text, Span secret);
bool has_space(std::string_view s);
bool looks_like_path_or_url(std::string_view v);
bool is_reference(std::string_view v);
bool is_yaml_sigil(std::string_view v);
bool is_identifier_like(std::string_view v);
bool is_dotted_reference(std::string_view v);
bool is_colon_path(std::string_view text, Span match, Span secret);
bool inside_blob(std::string_view text, std::size_t key_begin);
bool is_camel_case(std::string_view v);
bool ends_line(std::string_view text, std::size_t pos);
Span locate_value(std::string_view text, Span match, std::size_t from, bool blank_separates);
void narrow_to_value(std::string_view text, Span match, Span* secret, bool blank_separates);

}  // namespace cb::redact::checks_internal
