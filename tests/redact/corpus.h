#pragma once

#include <functional>
#include <string>
#include <utility>
#include <string_view>
#include <vector>

#include "tests/redact/fake_secrets.h"

// A generated corpus of agent-to-agent messages: positives embed one fake credential of a given
// kind in a realistic context (config files, code in several languages, shell, HTTP, logs,
// markdown, prose); negatives are look-alikes that contain no credential at all.
namespace cb::test {

struct CorpusMessage {
  std::string kind;
  std::string text;
  std::vector<std::string> hidden;  // positives: fragments that must not survive redaction
  std::string placeholder;          // positives: the placeholder we expect to see
};

std::vector<std::string> positive_kinds();
std::vector<std::string> negative_kinds();
// A positive message of `kind`: its text, the secrets it hides and the placeholder expected.
inline CorpusMessage message(std::string kind, std::string text, std::vector<std::string> hidden,
                             std::string placeholder) {
  return {std::move(kind), std::move(text), std::move(hidden), std::move(placeholder)};
}
CorpusMessage make_positive(std::string_view kind, Rng& rng);
CorpusMessage make_negative(std::string_view kind, Rng& rng);

// The families of secrets recognised by context rather than shape (corpus_contextual.cpp):
// prose, unfamiliar key names, generic .env keys, Twilio, Azure storage keys, API key headers,
// quoted values with spaces, trailing punctuation, AWS file layouts; and their look-alikes.
// positive_kinds() and negative_kinds() include them.
std::vector<std::pair<std::string, std::function<CorpusMessage(Rng&)>>>
contextual_positive_makers();
std::vector<std::pair<std::string, std::function<std::string(Rng&)>>>
contextual_negative_makers();

// --- Building blocks shared by the generators (corpus_embed.cpp) ---

// Key naming conventions of the syntaxes below.
enum class KeyStyle { kUpperSnake, kSnake, kCamel, kKebab, kPascal };
std::string style_key(std::string_view name, KeyStyle style);

// `key` assigned `value` in one of many syntaxes (.env, YAML, JSON, JSON-in-JSON, TOML, INI,
// XML, Python, JS, Go, Rust, Java, PHP, Ruby, PowerShell, docker -e, GitHub Actions env).
std::string assignment(Rng& rng, std::string_view key, std::string_view value);

// A message around a snippet: an opening sentence, optionally a fenced code block, a closing
// sentence. `language` names the fence ("" for none).
std::string wrap(Rng& rng, std::string_view snippet, std::string_view language = "");

// Prose that mentions the vocabulary of secrets without containing one.
std::string filler_sentence(Rng& rng);

}  // namespace cb::test
