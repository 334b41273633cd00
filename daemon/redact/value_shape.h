#pragma once

#include <string>
#include <string_view>

// What a candidate value looks like: random or a word, a real value or a stand-in for one. All
// run in time linear in their input.
namespace cb::redact {

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

}  // namespace cb::redact
