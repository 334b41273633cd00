// Locators (RuleSpec::locate) stand in for RE2's capture of a rule's group: the engine asks RE2
// only for the match bounds and the locator says where the group is. They must agree with RE2
// exactly, on every match from every start position, so this compares them on the generated
// corpus and on inputs made to hit the edges of each pattern (which side of a greedy {0,2}
// an '_' lands on, an optional scheme word, '$' versus a closing byte).
#include "daemon/redact/locators.h"

#include <doctest/doctest.h>
#include <re2/re2.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "daemon/redact/rule.h"
#include "tests/redact/corpus.h"

namespace {

using cb::redact::RuleSpec;
using cb::redact::Span;

std::vector<RuleSpec> located_rules() {
  std::vector<RuleSpec> out;
  for (auto table : {cb::redact::provider_rules(), cb::redact::context_rules()}) {
    for (RuleSpec& spec : table) {
      if (spec.locate != nullptr) out.push_back(std::move(spec));
    }
  }
  return out;
}

// Inputs aimed at each locator's edge cases. Values are generated, never literal secrets.
std::vector<std::string> edge_inputs(cb::test::Rng& rng) {
  const std::string hex = rng.chars(cb::test::kHex, 32);
  const std::string b64 = rng.chars(cb::test::kBase64, 86);
  const std::string tok = rng.chars(cb::test::kAlnum, 24);
  const std::string word = rng.chars(cb::test::kLower, 5);
  return {
      "twilio auth token " + hex,  // the group ends the text: '$'
      "Twilio token: " + hex + ".",
      "AC" + hex + "\n" + hex + "\n",
      "key1 " + b64 + "==",
      "\"key2\": \"" + b64 + "==\"",
      "https://a.blob.core.windows.net/c?sv=2021&sig=" + tok + "%3D%3D&se=1",
      "curl -H 'Authorization: Bearer  " + tok + "'",
      "Authorization: Basic " + rng.chars(cb::test::kBase64, 16) + "==",
      "authorization:=" + tok,
      "Authorization: token " + tok,
      "Authorization: TOKEN\t\t" + tok,
      "authorization = \\\"api-key " + tok + "\\\"",
      "authorization: token" + tok,
      "Authorization\\\"]: \\\"" + tok,
      "postgres://user:" + word + "@" + word + "@db:5432/x",
      "curl -u admin:" + word + "@1 https://x",
      "curl --user=\"ci:" + tok + "\" https://x",
      "the password is _" + word,
      "the password is __" + word,
      "the password is *_" + word,
      "password: _ab",
      "password: __ab",
      "password -> \"_" + word + "\"",
      "the token is __" + tok.substr(0, 7),
      "the token is _" + tok.substr(0, 7),
      "the token is *_" + tok,
      "api key was: `" + tok + "`",
      "log in with the password __" + word,
      "use the password '" + word + "'",
      "enter the password *" + word + "* when asked",
      "type my pw _" + word,
      "sign in with passphrase " + tok,
  };
}

// The span RE2 reports for the first participating group, as the engine took it before
// locators: the whole match when no group participates.
Span captured(const re2::StringPiece* groups, int count, std::string_view text) {
  for (int g = 1; g < count; ++g) {
    if (groups[g].data() != nullptr) {
      const auto begin = static_cast<std::size_t>(groups[g].data() - text.data());
      return {begin, begin + groups[g].size()};
    }
  }
  const auto begin = static_cast<std::size_t>(groups[0].data() - text.data());
  return {begin, begin + groups[0].size()};
}

}  // namespace

TEST_CASE("locators find exactly the span RE2 captures, from every start position") {
  const std::vector<RuleSpec> rules = located_rules();
  REQUIRE(rules.size() >= 11);
  RE2::Options options;
  options.set_log_errors(false);
  options.set_encoding(RE2::Options::EncodingLatin1);

  cb::test::Rng rng(26);
  std::vector<std::string> inputs = edge_inputs(rng);
  for (int round = 0; round < 25; ++round) {
    for (const std::string& kind : cb::test::positive_kinds()) {
      inputs.push_back(cb::test::make_positive(kind, rng).text);
    }
  }
  for (int round = 0; round < 5; ++round) {
    for (const std::string& kind : cb::test::negative_kinds()) {
      inputs.push_back(cb::test::make_negative(kind, rng).text);
    }
  }

  std::map<std::string, int> matches;  // rule -> matches compared
  const auto name = [](const RuleSpec& spec) {
    return spec.label.empty() ? spec.name : spec.label;
  };
  for (const RuleSpec& spec : rules) {
    const RE2 re(spec.pattern, options);
    REQUIRE(re.ok());
    const int count = re.NumberOfCapturingGroups() + 1;
    REQUIRE(count <= 8);
    re2::StringPiece groups[8];
    for (const std::string& text : inputs) {
      const re2::StringPiece input(text);
      for (std::size_t pos = 0; pos < text.size(); ++pos) {
        if (!re.Match(input, pos, text.size(), RE2::ANCHOR_START, groups, count)) continue;
        const Span want = captured(groups, count, text);
        const auto begin = static_cast<std::size_t>(groups[0].data() - text.data());
        const Span got = spec.locate(text, Span{begin, begin + groups[0].size()});
        CAPTURE(name(spec));
        CAPTURE(text.substr(begin, groups[0].size()));
        CHECK(got.begin == want.begin);
        CHECK(got.end == want.end);
        ++matches[name(spec)];
      }
    }
  }
  for (const RuleSpec& spec : rules) {
    CAPTURE(name(spec));
    CHECK(matches[name(spec)] >= 3);  // every locator was exercised
  }
}
