// The engine's contracts: custom-rule validation, overlap resolution, hit invariants, kinds and
// counts, and linear work on adversarial input (counted, never timed).
#include "daemon/redact/engine.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "daemon/redact/redactor.h"
#include "tests/redact/fake_secrets.h"

namespace {

using cb::redact::RedactionRule;
using cb::redact::Redactor;

std::shared_ptr<const cb::redact::Redactor> with_rules(const std::vector<cb::redact::RedactionRule>& rules) {
  auto redactor = cb::redact::Redactor::create(rules);
  REQUIRE_MESSAGE(redactor.ok(), (redactor.ok() ? std::string() : redactor.status().message()));
  return std::move(redactor).value();
}

void check_invariants(std::string_view input, const cb::redact::Redacted& out) {
  std::size_t previous_end = 0;
  for (const auto& hit : out.hits) {
    CHECK(hit.length > 0);
    CHECK(hit.offset >= previous_end);
    CHECK(hit.offset + hit.length <= input.size());
    previous_end = hit.offset + hit.length;
  }
}

}  // namespace

TEST_CASE("custom rules are validated with one line naming the rule") {
  struct Bad {
    cb::redact::RedactionRule rule;
    std::string expected;
  };
  const std::vector<Bad> bad = {
      {{"", "acme_[a-z]{8}", "ACME_REDACTED"}, "redaction rule #1: empty name"},
      {{"acme", "acme_[a-z]{8}", ""}, "redaction rule 'acme': empty placeholder"},
      {{"acme", "acme_[a-z", "ACME_REDACTED"}, "redaction rule 'acme': pattern does not compile"},
      {{"acme", "(?<=x)acme", "ACME_REDACTED"}, "redaction rule 'acme': pattern does not compile"},
      {{"stars", "x*", "X_REDACTED"}, "redaction rule 'stars': pattern matches the empty string"},
      {{"alt", "acme|", "X_REDACTED"}, "redaction rule 'alt': pattern matches the empty string"},
      {{"edge", "\\b", "X_REDACTED"}, "redaction rule 'edge': pattern matches the empty string"},
      {{"opt", "(acme_[a-z]+)?", "X_REDACTED"},
       "redaction rule 'opt': pattern matches the empty string"},
      // RE2 quotes the offending part of the pattern, control characters and all (found by
      // the config fuzz target: a TOML "\n" inside a pattern made a two-line start-up error).
      {{"ticket", "ticket=(\\\n", "X_REDACTED"},
       "redaction rule 'ticket': pattern does not compile"},
      {{"two\nlines", "x*", "X_REDACTED"},
       "redaction rule 'two\\nlines': pattern matches the empty string"},
  };
  for (const Bad& b : bad) {
    CAPTURE(b.rule.pattern);
    auto refused = cb::redact::Redactor::create({b.rule});
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.status().code() == "redaction_rule");
    CHECK(refused.status().message().starts_with(b.expected));
    CHECK(refused.status().message().find('\n') == std::string::npos);
  }
  auto second =
      cb::redact::Redactor::create({{"ok", "acme_[a-z]{8}", "ACME_REDACTED"}, {"", "x", "Y"}});
  REQUIRE_FALSE(second.ok());
  CHECK(second.status().message() == "redaction rule #2: empty name");
}

TEST_CASE("custom rules: whole match, group 1, kinds and counts") {
  auto redactor = with_rules({{"acme_token", "acme_[a-z0-9]{12}", "ACME_TOKEN_REDACTED"},
                              {"ticket_pin", "(?i)pin code:\\s*([0-9]{4,8})", "PIN_REDACTED"},
                              {"unicode", "größe=([a-z]+)", "U_REDACTED"}});
  const auto out = redactor->redact(
      "use acme_abcdef123456 or acme_zzzzzz999999; PIN code: 123456; GRÖSSE=x größe=abc");
  CHECK(out.text ==
        "use ACME_TOKEN_REDACTED or ACME_TOKEN_REDACTED; PIN code: PIN_REDACTED; GRÖSSE=x "
        "größe=U_REDACTED");
  CHECK(out.counts() ==
        std::map<std::string, int>{{"acme_token", 2}, {"ticket_pin", 1}, {"unicode", 1}});
  const auto kinds = redactor->kinds();
  CHECK(std::find(kinds.begin(), kinds.end(), "acme_token") != kinds.end());
  CHECK(std::find(kinds.begin(), kinds.end(), "github_token") != kinds.end());
  CHECK(std::find(kinds.begin(), kinds.end(), "private_key") != kinds.end());
  // No duplicates even though several built-in rules share a kind.
  for (std::size_t i = 0; i < kinds.size(); ++i) {
    CHECK(std::count(kinds.begin(), kinds.end(), kinds[i]) == 1);
  }
  // The literal prefilter of custom rules is case-insensitive where the pattern is, and a rule
  // whose literal is absent costs nothing and finds nothing.
  auto folded = with_rules({{"acme", "(?i)acme_[a-z]{6}", "ACME_REDACTED"},
                            {"never", "zzqq_[0-9]{4}", "NEVER_REDACTED"}});
  CHECK(folded->redact("x ACME_QWERTY y").text == "x ACME_REDACTED y");
  CHECK(folded->redact("zzqq 1234").text == "zzqq 1234");
  // A custom rule with no literal to prefilter on still runs.
  auto bare = with_rules({{"digits", "[0-9]{9}", "NINE_REDACTED"}});
  CHECK(bare->redact("id 123456789 ok").text == "id NINE_REDACTED ok");
}

TEST_CASE("overlapping hits: longer wins, then earlier, then the rule listed first") {
  SUBCASE("nested: the longer span wins") {
    auto r = with_rules({{"inner", "bcd", "IN_REDACTED"}, {"outer", "abcdef", "OUT_REDACTED"}});
    const auto out = r->redact("xx abcdef yy");
    CHECK(out.text == "xx OUT_REDACTED yy");
    REQUIRE(out.hits.size() == 1);
    CHECK(out.hits[0].kind == "outer");
  }
  SUBCASE("partial overlap: the longer span wins and absorbs the rest") {
    auto r = with_rules({{"left", "abcd", "L_REDACTED"}, {"right", "cdefgh", "R_REDACTED"}});
    const auto out = r->redact("abcdefgh!");
    CHECK(out.text == "R_REDACTED!");
    REQUIRE(out.hits.size() == 1);
    CHECK(out.hits[0].kind == "right");
    CHECK(out.hits[0].offset == 0);
    CHECK(out.hits[0].length == 8);
  }
  SUBCASE("equal length: the earlier span wins") {
    auto r = with_rules({{"second", "cdef", "B_REDACTED"}, {"first", "abcd", "A_REDACTED"}});
    const auto out = r->redact("abcdef");
    CHECK(out.text == "A_REDACTED");
    CHECK(out.hits[0].kind == "first");
  }
  SUBCASE("same span: the rule listed first wins, built-in before custom") {
    auto r = with_rules({{"one", "q[0-9]{6}", "ONE_REDACTED"}, {"two", "q[0-9]+", "TWO_REDACTED"}});
    CHECK(r->redact("q123456").text == "ONE_REDACTED");
    const std::string token =
        std::string("gh") + "p_" + cb::test::Rng(9).chars(cb::test::kAlnum, 36);
    auto c = with_rules({{"mine", "gh[a-z]_[A-Za-z0-9]{36}", "MINE_REDACTED"}});
    CHECK(c->redact(token).text == "GITHUB_TOKEN_REDACTED");
  }
  SUBCASE("adjacent spans stay separate") {
    auto r = with_rules({{"a", "aaa", "A_REDACTED"}, {"b", "bbb", "B_REDACTED"}});
    const auto out = r->redact("aaabbb");
    CHECK(out.text == "A_REDACTEDB_REDACTED");
    CHECK(out.hits.size() == 2);
  }
  SUBCASE("a chain of overlaps becomes one hit") {
    auto r = with_rules({{"x", "[0-9]{4}-[0-9]{4}", "X_REDACTED"}});
    const auto out = r->redact("1111-2222-3333-4444");
    check_invariants("1111-2222-3333-4444", out);
    CHECK(out.text.find("3333") == std::string::npos);
  }
}

TEST_CASE("hits point at the input and are sorted and disjoint") {
  cb::test::Rng rng(10);
  std::string input;
  std::vector<std::string> secrets;
  for (const std::string& kind : cb::test::token_kinds()) {
    const auto s = cb::test::make_token(kind, rng);
    secrets.push_back(s.value);
    input += "- " + kind + ": " + s.value + "\n";
  }
  const auto out = cb::redact::Redactor::builtin()->redact(input);
  check_invariants(input, out);
  CHECK(out.hits.size() == secrets.size());
  for (std::size_t i = 0; i < out.hits.size() && i < secrets.size(); ++i) {
    CHECK(input.substr(out.hits[i].offset, out.hits[i].length) == secrets[i]);
  }
  for (const std::string& s : secrets) CHECK(out.text.find(s) == std::string::npos);
}

TEST_CASE("empty and tiny inputs") {
  for (std::string_view text : {"", "a", "\n", "==", "sk-", "-----BEGIN"}) {
    const auto out = cb::redact::Redactor::builtin()->redact(text);
    CHECK(out.text == text);
    CHECK(!out.changed());
  }
}

TEST_CASE("work stays linear on adversarial input") {
  const auto redactor = cb::redact::Redactor::builtin();
  const auto* engine = dynamic_cast<const cb::redact::Engine*>(redactor.get());
  REQUIRE(engine != nullptr);
  auto repeat = [](std::string_view unit, std::size_t bytes) {
    std::string out;
    out.reserve(bytes + unit.size());
    while (out.size() < bytes) out += unit;
    return out;
  };
  const std::size_t n = 1 << 20;
  const std::string pem_header = "-----BEGIN RSA " + std::string("PRIV") + "ATE KEY-----";
  const std::vector<std::string> inputs = {
      repeat("a=", n),
      repeat("password=a", n),
      repeat("password=\"aaaaaaaaaa", n),
      repeat("token: ", n),
      repeat("key", n),
      repeat("sk-", n),
      repeat(pem_header, n),
      repeat("Bearer ", n),
      repeat("://a:", n),
      repeat("MT", n),
      repeat(":AA", n),
      repeat("eyJ", n) + "." + repeat("ey", 1000),
      "kind: Secret\ndata:\n" + repeat("  k: v\n", n),
      repeat("---\nkind: Secret\ndata:\n  k: dmFsdWU=\n", n),
      repeat("kind: Secret ", n),
      repeat("\"kind\": \"Secret\", \"data\": {", n),
      repeat("name: DB_PASSWORD\n", n),
      repeat("--password --token --api-key ", n),
      repeat(pem_header + "\\n", n),
      repeat("https://u:p@", n),
      repeat("AKIA", n),
      repeat("ghp_", n) + repeat("a", n),
      repeat("{\"kind\": \"Secret\", \"data\": {\"a\": \"b\"}}", n),
  };
  for (const std::string& text : inputs) {
    CAPTURE(text.substr(0, 40));
    cb::redact::ScanStats stats;
    const auto out = engine->redact(text, &stats);
    check_invariants(text, out);
    // Every rule reads each byte a bounded number of times: total regex input is at most a
    // small multiple of the text times the number of rules that can fire on it.
    CHECK(stats.window_bytes <= 8 * text.size());
    CHECK(stats.regex_calls <= 2 * text.size() + 16);
    CHECK(stats.gated_hits <= 16 * text.size());
  }
}

TEST_CASE("hits name the rule and the context that fired, redacted") {
  const auto redactor = cb::redact::Redactor::builtin();
  cb::test::Rng rng(2626);
  const std::string pw = "Zq7" + rng.chars(cb::test::kAlnum, 12);
  {
    const auto out = redactor->redact("ok, pw for staging: " + pw + "\nthanks");
    REQUIRE(out.hits.size() == 1);
    CHECK(out.hits[0].kind == "password");
    CHECK(out.hits[0].rule.starts_with("prose: "));
    CHECK(out.hits[0].context == "pw for staging: PASSWORD_REDACTED");
  }
  {
    const auto out = redactor->redact("db:\n  db_pass: " + pw + "\n");
    REQUIRE(out.hits.size() == 1);
    CHECK(out.hits[0].rule.find("naming a password") != std::string::npos);
    CHECK(out.hits[0].context == "pass: PASSWORD_REDACTED");
  }
  {
    // Two secrets in one match: the context shows neither.
    const cb::test::FakeSecret id = cb::test::make_token("aws_access_key_id", rng);
    const std::string secret = "wJ" + rng.chars(cb::test::kAlnum, 30) + "/K7" +
                               rng.chars(cb::test::kAlnum, 5);
    const auto out = redactor->redact("Access key ID,Secret access key\n" + id.value + "," +
                                      secret + "\n");
    REQUIRE(out.hits.size() == 2);
    for (const auto& hit : out.hits) {
      CAPTURE(hit.context);
      CHECK(hit.context.find(id.value) == std::string::npos);
      CHECK(hit.context.find(secret) == std::string::npos);
      CHECK(hit.context.find("AWS_KEY_REDACTED") != std::string::npos);
    }
    CHECK(out.hits[1].context == "AWS_KEY_REDACTED,AWS_KEY_REDACTED");
  }
  {
    // Multi-byte characters before the secret: the context starts on a character boundary.
    std::string text;
    for (int i = 0; i < 40; ++i) text += "\xc3\xa9";  // e-acute
    text += " password=" + pw;
    const auto out = redactor->redact(text);
    REQUIRE(out.hits.size() == 1);
    const std::string& context = out.hits[0].context;
    REQUIRE(!context.empty());
    CHECK((static_cast<unsigned char>(context[0]) & 0xC0) != 0x80);
    CHECK(context.ends_with("password=PASSWORD_REDACTED"));
  }
}
