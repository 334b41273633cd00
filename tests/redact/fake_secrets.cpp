#include "tests/redact/fake_secrets.h"

#include <algorithm>
#include <map>

namespace cb::test {
namespace {

const std::vector<std::string> kWords = {
    "summer",  "river",  "falcon", "orange", "winter", "purple", "rocket", "silver", "garden",
    "thunder", "castle", "monkey", "dragon", "pepper", "shadow", "coffee", "planet", "violet"};

std::string capitalize(std::string word) {
  if (!word.empty() && word[0] >= 'a' && word[0] <= 'z') word[0] = static_cast<char>(word[0] - 32);
  return word;
}

std::string digits_no_leading_zero(Rng& rng, std::size_t n) {
  return rng.chars("123456789", 1) + rng.chars(kDigits, n - 1);
}

FakeSecret token(std::string kind, std::string value, std::string placeholder,
                 std::vector<std::string> keys) {
  FakeSecret secret;
  secret.kind = std::move(kind);
  secret.hidden = {value};
  secret.value = std::move(value);
  secret.placeholder = std::move(placeholder);
  secret.key_names = std::move(keys);
  return secret;
}

using SecretMaker = FakeSecret (*)(Rng&);

// Prefixes below are split in two so that the source holds no complete token prefix.
const std::map<std::string, SecretMaker>& secret_makers() {
  static const std::map<std::string, SecretMaker> table = {
      {"aws_access_key_id",
       [](Rng& r) {
         return token("aws_access_key_id",
                      std::string(r.chance(0.7) ? "AK" : "AS") + "IA" +
                          r.chars("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16),
                      "AWS_KEY_REDACTED",
                      {"AWS_ACCESS_KEY_ID", "aws_access_key_id", "AccessKeyId"});
       }},
      {"aws_session_token",
       [](Rng& r) {
         return token("aws_session_token",
                      std::string("IQoJb3Jp") + "Z2luX2Vj" + r.chars(kBase64, r.between(300, 700)),
                      "AWS_SESSION_TOKEN_REDACTED",
                      {"AWS_SESSION_TOKEN", "aws_session_token", "SessionToken"});
       }},
      {"google_api_key",
       [](Rng& r) {
         return token("google_api_key", std::string("AI") + "za" + r.chars(kBase64Url, 35),
                      "GOOGLE_API_KEY_REDACTED",
                      {"GOOGLE_API_KEY", "apiKey", "key", "GEMINI_API_KEY"});
       }},
      {"google_oauth_secret",
       [](Rng& r) {
         return token("google_oauth_secret", std::string("GOC") + "SPX-" + r.chars(kBase64Url, 28),
                      "GOOGLE_OAUTH_SECRET_REDACTED", {"client_secret", "GOOGLE_CLIENT_SECRET"});
       }},
      {"google_oauth_token",
       [](Rng& r) {
         return token("google_oauth_token",
                      std::string("ya") + "29." + r.chars(kBase64Url, r.between(120, 220)),
                      "GOOGLE_OAUTH_TOKEN_REDACTED", {"access_token", "GOOGLE_TOKEN"});
       }},
      {"azure_client_secret",
       [](Rng& r) {
         return token(
             "azure_client_secret",
             r.chars(kAlnum, 3) + r.chars(kDigits, 1) + "Q~" +
                 r.chars("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_~.-", 33) +
                 r.chars(kAlnum, 1),
             "AZURE_CLIENT_SECRET_REDACTED", {"AZURE_CLIENT_SECRET", "client_secret"});
       }},
      {"github_token",
       [](Rng& r) {
         if (r.chance(0.25)) {
           return token(
               "github_token",
               std::string("github") + "_pat_" + r.chars(kAlnum, 22) + "_" + r.chars(kAlnum, 59),
               "GITHUB_TOKEN_REDACTED", {"GITHUB_TOKEN", "GH_TOKEN", "token"});
         }
         const std::string kinds = "pousr";
         return token("github_token",
                      std::string("gh") + kinds[r.below(kinds.size())] + "_" + r.chars(kAlnum, 36),
                      "GITHUB_TOKEN_REDACTED", {"GITHUB_TOKEN", "GH_TOKEN", "token"});
       }},
      {"gitlab_token",
       [](Rng& r) {
         return token("gitlab_token", std::string("glp") + "at-" + r.chars(kBase64Url, 20),
                      "GITLAB_TOKEN_REDACTED", {"GITLAB_TOKEN", "PRIVATE-TOKEN", "gitlab_token"});
       }},
      {"npm_token",
       [](Rng& r) {
         return token("npm_token", std::string("np") + "m_" + r.chars(kAlnum, 36),
                      "NPM_TOKEN_REDACTED", {"NPM_TOKEN", "_authToken"});
       }},
      {"pypi_token",
       [](Rng& r) {
         return token(
             "pypi_token",
             std::string("py") + "pi-AgEIcHlwaS5vcmc" + r.chars(kBase64Url, r.between(150, 200)),
             "PYPI_TOKEN_REDACTED", {"PYPI_TOKEN", "TWINE_PASSWORD", "password"});
       }},
      {"docker_hub_token",
       [](Rng& r) {
         return token("docker_hub_token", std::string("dck") + "r_pat_" + r.chars(kBase64Url, 27),
                      "DOCKER_HUB_TOKEN_REDACTED", {"DOCKERHUB_TOKEN", "DOCKER_PASSWORD"});
       }},
      {"openai_key",
       [](Rng& r) {
         std::string value = "sk-";
         switch (r.below(4)) {
           case 0:
             value += "proj-" + r.chars(kBase64Url, 74) + "T3Blb" + "kFJ" + r.chars(kBase64Url, 74);
             break;
           case 1:
             value += r.chars(kAlnum, 20) + "T3Blb" + "kFJ" + r.chars(kAlnum, 20);
             break;
           case 2:
             value += "svcacct-" + r.chars(kBase64Url, 100);
             break;
           default:
             value += r.chars(kAlnum, 48);
             break;
         }
         return token("openai_key", value, "OPENAI_KEY_REDACTED",
                      {"OPENAI_API_KEY", "api_key", "openai.api_key"});
       }},
      {"anthropic_key",
       [](Rng& r) {
         return token("anthropic_key",
                      std::string("sk-") + "ant-api03-" + r.chars(kBase64Url, 93) + "AA",
                      "ANTHROPIC_KEY_REDACTED", {"ANTHROPIC_API_KEY", "x-api-key", "api_key"});
       }},
      {"huggingface_token",
       [](Rng& r) {
         return token("huggingface_token", std::string("h") + "f_" + r.chars(kLetters, 34),
                      "HUGGINGFACE_TOKEN_REDACTED",
                      {"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "token"});
       }},
      {"ai_provider_key",
       [](Rng& r) {
         std::string value;
         std::string placeholder;
         switch (r.below(8)) {
           case 0:
             value = std::string("gs") + "k_" + r.chars(kAlnum, 52);
             placeholder = "GROQ_KEY_REDACTED";
             break;
           case 1:
             value = std::string("r") + "8_" + r.chars(kAlnum, 37);
             placeholder = "REPLICATE_TOKEN_REDACTED";
             break;
           case 2:
             value = std::string("pp") + "lx-" + r.chars(kAlnum, 48);
             placeholder = "PERPLEXITY_KEY_REDACTED";
             break;
           case 3:
             value = std::string("xa") + "i-" + r.chars(kAlnum, 80);
             placeholder = "XAI_KEY_REDACTED";
             break;
           case 4:
             value = std::string("sk-") + "or-v1-" + r.chars(kHex, 64);
             placeholder = "OPENROUTER_KEY_REDACTED";
             break;
           case 5:
             value = std::string("sk-") + r.chars(kHex, 32);
             placeholder = "OPENAI_KEY_REDACTED";
             break;
           case 6:
             value = std::string("tv") + "ly-" + r.chars(kAlnum, 32);
             placeholder = "TAVILY_KEY_REDACTED";
             break;
           default:
             value = std::string("lsv2") + "_pt_" + r.chars(kHex, 32) + "_" + r.chars(kHex, 10);
             placeholder = "LANGSMITH_KEY_REDACTED";
             break;
         }
         return token("ai_provider_key", value, placeholder, {"API_KEY", "api_key", "LLM_API_KEY"});
       }},
      {"slack_token",
       [](Rng& r) {
         const std::string kinds = "bpa";
         return token("slack_token",
                      std::string("xo") + "x" + kinds[r.below(3)] + "-" +
                          digits_no_leading_zero(r, 12) + "-" + digits_no_leading_zero(r, 13) +
                          "-" + r.chars(kAlnum, 24),
                      "SLACK_TOKEN_REDACTED", {"SLACK_BOT_TOKEN", "SLACK_TOKEN", "token"});
       }},
      {"discord_bot_token",
       [](Rng& r) {
         const std::string id = base64(digits_no_leading_zero(r, r.between(18, 19)), false, false);
         return token("discord_bot_token",
                      id + "." + r.chars(kBase64Url, 6) + "." + r.chars(kBase64Url, 38),
                      "DISCORD_TOKEN_REDACTED", {"DISCORD_TOKEN", "BOT_TOKEN", "token"});
       }},
      {"telegram_bot_token",
       [](Rng& r) {
         return token("telegram_bot_token",
                      digits_no_leading_zero(r, r.between(9, 10)) + ":AA" + r.chars(kBase64Url, 33),
                      "TELEGRAM_BOT_TOKEN_REDACTED", {"TELEGRAM_BOT_TOKEN", "BOT_TOKEN"});
       }},
      {"stripe_key",
       [](Rng& r) {
         return token("stripe_key",
                      std::string(r.chance(0.8) ? "sk" : "rk") +
                          (r.chance(0.7) ? "_live_" : "_test_") +
                          r.chars(kAlnum, r.between(24, 99)),
                      "STRIPE_KEY_REDACTED", {"STRIPE_SECRET_KEY", "stripe.api_key", "STRIPE_KEY"});
       }},
      {"twilio_api_key",
       [](Rng& r) {
         return token("twilio_api_key", std::string("S") + "K" + r.chars(kHex, 32),
                      "TWILIO_KEY_REDACTED", {"TWILIO_API_KEY", "api_key_sid"});
       }},
      {"sendgrid_key",
       [](Rng& r) {
         return token(
             "sendgrid_key",
             std::string("S") + "G." + r.chars(kBase64Url, 22) + "." + r.chars(kBase64Url, 43),
             "SENDGRID_KEY_REDACTED", {"SENDGRID_API_KEY"});
       }},
      {"mailgun_key",
       [](Rng& r) {
         return token("mailgun_key", std::string("ke") + "y-" + r.chars(kHex, 32),
                      "MAILGUN_KEY_REDACTED", {"MAILGUN_API_KEY"});
       }},
      {"shopify_token",
       [](Rng& r) {
         return token("shopify_token", std::string("shp") + "at_" + r.chars(kHex, 32),
                      "SHOPIFY_TOKEN_REDACTED", {"SHOPIFY_ACCESS_TOKEN", "X-Shopify-Access-Token"});
       }},
      {"sentry_token",
       [](Rng& r) {
         if (r.chance(0.5)) {
           return token("sentry_token", std::string("sntr") + "yu_" + r.chars(kHex, 64),
                        "SENTRY_TOKEN_REDACTED", {"SENTRY_AUTH_TOKEN"});
         }
         return token(
             "sentry_token",
             std::string("sntr") + "ys_" +
                 base64("{\"iat\":" + r.chars(kDigits, 10) + ",\"url\":\"https://sentry.io\"}",
                        false, false) +
                 "_" + r.chars(kBase64Url, 43),
             "SENTRY_TOKEN_REDACTED", {"SENTRY_AUTH_TOKEN"});
       }},
      {"databricks_token",
       [](Rng& r) {
         return token("databricks_token", std::string("dap") + "i" + r.chars(kHex, 32),
                      "DATABRICKS_TOKEN_REDACTED", {"DATABRICKS_TOKEN"});
       }},
      {"vault_token",
       [](Rng& r) {
         return token("vault_token",
                      std::string("hv") + "s." + r.chars(kBase64Url, r.between(90, 100)),
                      "VAULT_TOKEN_REDACTED", {"VAULT_TOKEN", "X-Vault-Token"});
       }},
      {"linear_key",
       [](Rng& r) {
         return token("linear_key", std::string("lin_") + "api_" + r.chars(kAlnum, 40),
                      "LINEAR_KEY_REDACTED", {"LINEAR_API_KEY"});
       }},
      {"notion_token",
       [](Rng& r) {
         if (r.chance(0.5)) {
           return token("notion_token",
                        std::string("nt") + "n_" + r.chars(kDigits, 11) + r.chars(kAlnum, 35),
                        "NOTION_TOKEN_REDACTED", {"NOTION_TOKEN", "NOTION_API_KEY"});
         }
         return token("notion_token", std::string("sec") + "ret_" + r.chars(kAlnum, 43),
                      "NOTION_TOKEN_REDACTED", {"NOTION_TOKEN", "NOTION_API_KEY"});
       }},
      {"heroku_key",
       [](Rng& r) {
         return token("heroku_key", std::string("HRK") + "U-AA" + r.chars(kBase64Url, 58),
                      "HEROKU_KEY_REDACTED", {"HEROKU_API_KEY"});
       }},
      {"digitalocean_token",
       [](Rng& r) {
         return token("digitalocean_token", std::string("do") + "p_v1_" + r.chars(kHex, 64),
                      "DIGITALOCEAN_TOKEN_REDACTED", {"DIGITALOCEAN_TOKEN", "DO_TOKEN"});
       }},
      {"age_secret_key",
       [](Rng& r) {
         return token(
             "age_secret_key",
             std::string("AGE-SEC") + "RET-KEY-1" + r.chars("QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L", 58),
             "AGE_SECRET_KEY_REDACTED", {"SOPS_AGE_KEY", "AGE_KEY"});
       }},
      {"jwt",
       [](Rng& r) {
         return token("jwt", fake_jwt(r), "JWT_REDACTED", {"id_token", "JWT", "access_token"});
       }},
  };
  return table;
}

}  // namespace

std::uint64_t Rng::next() {
  std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::string Rng::chars(std::string_view alphabet, std::size_t n) {
  std::string out(n, ' ');
  for (char& c : out) c = alphabet[below(alphabet.size())];
  return out;
}

std::string Rng::bytes(std::size_t n) {
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(next() & 0xff);
  return out;
}

std::string base64(std::string_view bytes, bool url_safe, bool pad) {
  const std::string_view alphabet = url_safe ? kBase64Url : kBase64;
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) |
                       (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                       static_cast<unsigned char>(bytes[i + 2]);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
    if (rest == 2) v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    if (rest == 2) out += alphabet[(v >> 6) & 63];
    if (pad) out += rest == 2 ? "=" : "==";
  }
  return out;
}

std::string join(const std::vector<std::string>& parts, std::string_view separator) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += separator;
    out += parts[i];
  }
  return out;
}

std::vector<std::string> token_kinds() {
  std::vector<std::string> kinds;
  for (const auto& [kind, maker] : secret_makers()) kinds.push_back(kind);
  return kinds;
}

FakeSecret make_token(std::string_view kind, Rng& rng) {
  return secret_makers().at(std::string(kind))(rng);
}

std::string fake_password(Rng& rng, std::string_view forbidden) {
  std::string symbols = "!#%^*-_+=.~@";
  symbols.erase(std::remove_if(symbols.begin(), symbols.end(),
                               [&](char c) { return forbidden.find(c) != std::string_view::npos; }),
                symbols.end());
  std::string out;
  switch (rng.below(3)) {
    case 0: {  // random, all four classes
      out = rng.chars(kUpper, 1) + rng.chars(kLower, 1) + rng.chars(kDigits, 1);
      std::string pool = std::string(kAlnum) + symbols;
      out += rng.chars(pool, rng.between(7, 17));
      if (!symbols.empty()) out.insert(rng.between(1, out.size()), rng.chars(symbols, 1));
      // "..." marks an elided value (sk-abc...xyz) and is deliberately not redacted.
      for (std::size_t dots = out.find("..."); dots != std::string::npos; dots = out.find("...")) {
        out[dots + 1] = 'x';
      }
      break;
    }
    case 1:  // Summer2024!
      out = capitalize(rng.pick(kWords)) + rng.chars(kDigits, rng.between(2, 4)) +
            (symbols.empty() ? "" : rng.chars(symbols, 1));
      break;
    default: {  // horse-battery-staple-7
      const std::string separator = symbols.find('-') != std::string::npos ? "-" : "";
      out = rng.pick(kWords) + separator + rng.pick(kWords) + separator + rng.pick(kWords) +
            rng.chars(kDigits, 1);
      break;
    }
  }
  return out;
}

std::string fake_generic_secret(Rng& rng) {
  switch (rng.below(4)) {
    case 0:
      return rng.chars(kAlnum, 32);
    case 1:
      return rng.chars(kHex, 40);
    case 2:
      return rng.chars(kBase64Url, 48);
    default:
      return rng.chars(kHex, 8) + "-" + rng.chars(kHex, 4) + "-4" + rng.chars(kHex, 3) + "-a" +
             rng.chars(kHex, 3) + "-" + rng.chars(kHex, 12);
  }
}

std::string fake_pem_body(Rng& rng, std::size_t lines) {
  std::vector<std::string> out;
  out.push_back("MII" + rng.chars(kBase64, 61));
  for (std::size_t i = 1; i + 1 < lines; ++i) out.push_back(rng.chars(kBase64, 64));
  out.push_back(rng.chars(kBase64, rng.between(20, 60)) + "==");
  return join(out, "\n");
}

std::string fake_pem_private_key(Rng& rng, std::string_view type) {
  const std::string label = std::string(type) + "PRIV" + "ATE KEY";
  const bool pgp = type == "PGP ";
  const std::string block = pgp ? " BLOCK" : "";
  std::string out = "-----BEGIN " + label + block + "-----\n";
  if (pgp) out += "Version: GnuPG v2\n\n";
  if (type == "RSA " && rng.chance(0.3)) {  // legacy OpenSSL encryption headers
    out += "Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC," + rng.chars("0123456789ABCDEF", 32) +
           "\n\n";
  }
  out += fake_pem_body(rng, rng.between(8, 26));
  if (pgp) out += "\n=" + rng.chars(kBase64, 4);
  out += "\n-----END " + label + block + "-----";
  return out;
}

std::string fake_jwt(Rng& rng) {
  const std::string header = rng.chance(0.5)
                                 ? R"({"alg":"HS256","typ":"JWT"})"
                                 : R"({"alg":"RS256","kid":")" + rng.chars(kHex, 16) + "\"}";
  const std::string payload = R"({"sub":")" + rng.chars(kDigits, 10) + R"(","name":")" +
                              capitalize(rng.pick(kWords)) + R"(","iat":)" +
                              rng.chars(kDigits, 10) + R"(,"exp":)" + rng.chars(kDigits, 10) + "}";
  return base64(header, true, false) + "." + base64(payload, true, false) + "." +
         rng.chars(kBase64Url, 43);
}

}  // namespace cb::test
