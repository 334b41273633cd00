// One row per built-in rule (and per syntax a rule must handle), plus look-alikes that must come
// back unchanged. Every secret is generated at run time (tests/redact/fake_secrets.h).
#include <doctest/doctest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "daemon/redact/redactor.h"
#include "tests/redact/fake_secrets.h"

namespace {

using cb::redact::Redactor;
using cb::test::FakeSecret;
using cb::test::Rng;

struct Row {
  std::string label;
  std::string input;
  std::string expected;
};

std::string redact(const std::string& text) { return cb::redact::Redactor::builtin()->redact(text).text; }

// Kinds hit by the rows of this file; the last test case checks every rule kind is among them.
std::set<std::string>& exercised() {
  static std::set<std::string> kinds;
  return kinds;
}

void check_rows(const std::vector<Row>& rows) {
  for (const Row& row : rows) {
    CAPTURE(row.label);
    CAPTURE(row.input);
    const auto out = cb::redact::Redactor::builtin()->redact(row.input);
    CHECK(out.text == row.expected);
    for (const auto& hit : out.hits) exercised().insert(hit.kind);
    // Redacting twice changes nothing more: placeholders are never secrets themselves.
    CHECK(redact(row.expected) == row.expected);
  }
}

const std::string kPk = std::string("PRIV") + "ATE KEY";

}  // namespace

TEST_CASE("every token format is redacted in .env, JSON and prose with its placeholder") {
  Rng rng(1);
  std::vector<Row> rows;
  for (const std::string& kind : cb::test::token_kinds()) {
    for (int i = 0; i < 3; ++i) {
      const FakeSecret s = cb::test::make_token(kind, rng);
      const std::string& p = s.placeholder;
      rows.push_back({kind + " env", "export " + s.key_names[0] + "=" + s.value + "\n",
                      "export " + s.key_names[0] + "=" + p + "\n"});
      rows.push_back({kind + " json", "{\"" + s.key_names.back() + "\": \"" + s.value + "\"}",
                      "{\"" + s.key_names.back() + "\": \"" + p + "\"}"});
      rows.push_back({kind + " prose", "Here is the one I used: " + s.value + ". Thanks!",
                      "Here is the one I used: " + p + ". Thanks!"});
      rows.push_back({kind + " parens", "(see " + s.value + ")", "(see " + p + ")"});
    }
  }
  check_rows(rows);
}

TEST_CASE("tokens end at any non-token byte") {
  Rng rng(2);
  const std::string stripe = std::string("sk") + "_live_" + rng.chars(cb::test::kAlnum, 32);
  const FakeSecret telegram = cb::test::make_token("telegram_bot_token", rng);
  const FakeSecret github = cb::test::make_token("github_token", rng);
  check_rows({
      {"curl -u key:", "curl https://api.stripe.com/v1/charges -u " + stripe + ": -d amount=100",
       "curl https://api.stripe.com/v1/charges -u STRIPE_KEY_REDACTED: -d amount=100"},
      {"telegram url", "https://api.telegram.org/bot" + telegram.value + "/sendMessage?chat_id=1",
       "https://api.telegram.org/botTELEGRAM_BOT_TOKEN_REDACTED/sendMessage?chat_id=1"},
      {"angle brackets", "<" + github.value + ">", "<GITHUB_TOKEN_REDACTED>"},
      {"quotes", "'" + github.value + "'", "'GITHUB_TOKEN_REDACTED'"},
      {"url user", "https://" + github.value + "@github.com/o/r.git",
       "https://GITHUB_TOKEN_REDACTED@github.com/o/r.git"},
      {"colon", github.value + ":x-oauth-basic", "GITHUB_TOKEN_REDACTED:x-oauth-basic"},
  });
}

TEST_CASE("AWS keys, session tokens and the secret key next to its id") {
  Rng rng(3);
  const FakeSecret id = cb::test::make_token("aws_access_key_id", rng);
  const std::string secret =
      "wJ" + rng.chars(cb::test::kAlnum, 30) + "/K7" + rng.chars(cb::test::kAlnum, 5);
  const FakeSecret session = cb::test::make_token("aws_session_token", rng);
  check_rows({
      {"credentials file",
       "[default]\naws_access_key_id = " + id.value + "\naws_secret_access_key = " + secret + "\n",
       "[default]\naws_access_key_id = AWS_KEY_REDACTED\naws_secret_access_key = "
       "AWS_KEY_REDACTED\n"},
      {"sts json",
       "{\"AccessKeyId\": \"" + id.value + "\", \"SecretAccessKey\": \"" + secret +
           "\", \"SessionToken\": \"" + session.value + "\"}",
       "{\"AccessKeyId\": \"AWS_KEY_REDACTED\", \"SecretAccessKey\": \"AWS_KEY_REDACTED\", "
       "\"SessionToken\": \"AWS_SESSION_TOKEN_REDACTED\"}"},
      {"csv", "Access key ID,Secret access key\n" + id.value + "," + secret + "\n",
       "Access key ID,Secret access key\nAWS_KEY_REDACTED,AWS_KEY_REDACTED\n"},
      {"aws configure", "aws configure set aws_secret_access_key " + secret,
       "aws configure set aws_secret_access_key AWS_KEY_REDACTED"},
  });
}

TEST_CASE("private keys in every encoding") {
  Rng rng(4);
  for (const std::string type : {"", "RSA ", "EC ", "DSA ", "OPENSSH ", "ENCRYPTED ", "PGP "}) {
    CAPTURE(type);
    const std::string pem = cb::test::fake_pem_private_key(rng, type);
    std::string escaped, doubly, flat, yaml = "tls:\n  key: |\n";
    for (char c : pem) {
      escaped += c == '\n' ? std::string("\\n") : std::string(1, c);
      doubly += c == '\n' ? std::string("\\\\n") : std::string(1, c);
      flat += c == '\n' ? ' ' : c;
    }
    std::string line;
    for (char c : pem + "\n") {
      if (c == '\n') {
        yaml += "    " + line + "\n";
        line.clear();
      } else {
        line += c;
      }
    }
    check_rows({
        {"newlines", "key:\n" + pem + "\nend", "key:\nPRIVATE_KEY_REDACTED\nend"},
        {"json", "{\"private_key\": \"" + escaped + "\\n\"}",
         "{\"private_key\": \"PRIVATE_KEY_REDACTED\\n\"}"},
        {"json in json", "{\"body\": \"{\\\"key\\\": \\\"" + doubly + "\\\"}\"}",
         "{\"body\": \"{\\\"key\\\": \\\"PRIVATE_KEY_REDACTED\\\"}\"}"},
        {"yaml", yaml + "next: 1\n", "tls:\n  key: |\n    PRIVATE_KEY_REDACTED\nnext: 1\n"},
        {"flattened", "k=" + flat + " done", "k=PRIVATE_KEY_REDACTED done"},
    });
  }
  // Whatever byte a prefilter window happens to end on (windows sit relative to the keyword, so
  // the padding goes after the header), the whole block goes.
  const std::string pem = cb::test::fake_pem_private_key(rng, "EC ");
  const std::size_t header = pem.find('\n');
  for (std::size_t pad = 0; pad < 80; ++pad) {
    CAPTURE(pad);
    std::string escaped, doubly;
    for (char c : pem.substr(0, header) + std::string(pad, ' ') + pem.substr(header)) {
      escaped += c == '\n' ? std::string("\\n") : std::string(1, c);
      doubly += c == '\n' ? std::string("\\\\n") : std::string(1, c);
    }
    CHECK(redact("{\"k\": \"" + escaped + "\"}") == "{\"k\": \"PRIVATE_KEY_REDACTED\"}");
    CHECK(redact("{\"k\": \"" + doubly + "\"}") == "{\"k\": \"PRIVATE_KEY_REDACTED\"}");
  }
  const std::string ssh2 = "---- BEGIN SSH2 ENCRYPTED " + kPk + " ----\nComment: \"rsa-key\"\n" +
                           cb::test::fake_pem_body(rng, 6) + "\n---- END SSH2 ENCRYPTED " + kPk +
                           " ----";
  CHECK(redact("key:\n" + ssh2 + "\n") == "key:\nPRIVATE_KEY_REDACTED\n");
  const std::string begin = "-----BEGIN RSA " + kPk + "-----";
  const std::string truncated = begin + "\n" + cb::test::fake_pem_body(rng, 4);
  CHECK(redact("here: " + truncated) == "here: PRIVATE_KEY_REDACTED");
}

TEST_CASE("passwords, URLs, command lines and HTTP authorization") {
  Rng rng(5);
  const std::string pw = "Tr0ub4dor" + rng.chars(cb::test::kAlnum, 6) + "!x";
  const std::string user_pass = cb::test::base64("deploy:" + pw);
  const std::string opaque = rng.chars(cb::test::kAlnum, 40);
  const std::string letters = rng.chars(cb::test::kLetters, 32);
  check_rows({
      {"env", "DB_PASSWORD=" + pw + "\n", "DB_PASSWORD=PASSWORD_REDACTED\n"},
      {"yaml", "  password: " + pw + "\n", "  password: PASSWORD_REDACTED\n"},
      {"yaml bare word at end of line", "password: hunter\n", "password: PASSWORD_REDACTED\n"},
      {"json", "{\"password\":\"" + pw + "\"}", "{\"password\":\"PASSWORD_REDACTED\"}"},
      {"escaped json", "{\\\"password\\\": \\\"" + pw + "\\\"}",
       "{\\\"password\\\": \\\"PASSWORD_REDACTED\\\"}"},
      {"toml", "pass = '" + pw + "'", "pass = 'PASSWORD_REDACTED'"},
      {"python kwarg", "connect(user='app', password='" + pw + "')",
       "connect(user='app', password='PASSWORD_REDACTED')"},
      {"go", "dbPass := \"" + pw + "\"", "dbPass := \"PASSWORD_REDACTED\""},
      {"xml", "<password>" + pw + "</password>", "<password>PASSWORD_REDACTED</password>"},
      {"connection string", "Server=db;User Id=sa;Password=" + pw + ";Encrypt=true",
       "Server=db;User Id=sa;Password=PASSWORD_REDACTED;Encrypt=true"},
      {"jdbc", "jdbc:mysql://db/app?user=app&password=" + pw + "&ssl=true",
       "jdbc:mysql://db/app?user=app&password=PASSWORD_REDACTED&ssl=true"},
      {"url", "postgres://app:" + pw + "@db.internal:5432/app",
       "postgres://app:PASSWORD_REDACTED@db.internal:5432/app"},
      {"url empty user", "redis://:" + pw + "@cache:6379/0",
       "redis://:PASSWORD_REDACTED@cache:6379/0"},
      {"curl -u", "curl -u admin:" + pw + " https://x.test/api",
       "curl -u admin:PASSWORD_REDACTED https://x.test/api"},
      {"curl --user=", "curl --user=\"admin:" + pw + "\" https://x.test",
       "curl --user=\"admin:PASSWORD_REDACTED\" https://x.test"},
      {"mysql -p", "mysql -u root -p" + pw + " app", "mysql -u root -pPASSWORD_REDACTED app"},
      {"--password value", "psql --password " + pw, "psql --password PASSWORD_REDACTED"},
      {"docker login -p", "docker login -u bot -p " + pw + " registry.test",
       "docker login -u bot -p PASSWORD_REDACTED registry.test"},
      {"netrc", "machine api.test login bot password " + pw,
       "machine api.test login bot password PASSWORD_REDACTED"},
      {"prose", "My password is " + pw + ".", "My password is PASSWORD_REDACTED."},
      {"prose hunter2", "my password is hunter2", "my password is PASSWORD_REDACTED"},
      {"markdown", "**Password:** " + pw, "**Password:** PASSWORD_REDACTED"},
      {"basic", "Authorization: Basic " + user_pass, "Authorization: Basic BASIC_AUTH_REDACTED"},
      {"bearer", "-H 'Authorization: Bearer " + opaque + "'",
       "-H 'Authorization: Bearer BEARER_TOKEN_REDACTED'"},
      {"raw authorization", "Authorization: " + opaque, "Authorization: SECRET_REDACTED"},
      {"x-api-key", "-H \"X-API-Key: " + opaque + "\"", "-H \"X-API-Key: API_KEY_REDACTED\""},
      {"api key assignment", "apiKey: '" + opaque + "'", "apiKey: 'API_KEY_REDACTED'"},
      {"secret assignment", "CLIENT_SECRET=" + opaque, "CLIENT_SECRET=SECRET_REDACTED"},
      {"token assignment", "auth_token = \"" + opaque + "\"", "auth_token = \"SECRET_REDACTED\""},
      {"signing key", "JWT_SIGNING_KEY=" + opaque, "JWT_SIGNING_KEY=SECRET_REDACTED"},
      {"k8s env list", "env:\n  - name: DB_PASSWORD\n    value: \"" + pw + "\"\n",
       "env:\n  - name: DB_PASSWORD\n    value: \"PASSWORD_REDACTED\"\n"},
      {"ecs env list", "[{\"name\": \"STRIPE_API_KEY\", \"value\": \"" + opaque + "\"}]",
       "[{\"name\": \"STRIPE_API_KEY\", \"value\": \"API_KEY_REDACTED\"}]"},
      {"env list private key", "- name: PRIVATE_KEY\n  value: " + opaque,
       "- name: PRIVATE_KEY\n  value: SECRET_REDACTED"},
      {"--api-key", "tool --api-key " + opaque, "tool --api-key API_KEY_REDACTED"},
      {"letters-only secret", "APP_SECRET=" + letters, "APP_SECRET=SECRET_REDACTED"},
      {"--token", "vault login --token " + opaque, "vault login --token SECRET_REDACTED"},
      {"token prose", "the token is " + opaque + ", keep it safe",
       "the token is SECRET_REDACTED, keep it safe"},
      {"curl -u token:", "curl -u " + opaque + ": https://x.test",
       "curl -u API_KEY_REDACTED: https://x.test"},
  });
}

TEST_CASE("cloud and cluster credential files") {
  Rng rng(6);
  const std::string docker_auth = cb::test::base64("robot:" + rng.chars(cb::test::kAlnum, 24));
  const std::string client_key = cb::test::base64(cb::test::fake_pem_private_key(rng, "RSA "));
  const std::string account_key = rng.chars(cb::test::kBase64, 86) + "==";
  const std::string sig =
      rng.chars(cb::test::kAlnum, 40) + "%2B" + rng.chars(cb::test::kAlnum, 3) + "%3D";
  const std::string b64a = cb::test::base64("s3cr3t-" + rng.chars(cb::test::kAlnum, 8));
  const std::string b64b = cb::test::base64("admin");
  check_rows({
      {"docker auths",
       "{\"auths\": {\"https://index.docker.io/v1/\": {\"auth\": \"" + docker_auth + "\"}}}",
       "{\"auths\": {\"https://index.docker.io/v1/\": {\"auth\": \"DOCKER_AUTH_REDACTED\"}}}"},
      {"kubeconfig", "users:\n- name: admin\n  user:\n    client-key-data: " + client_key + "\n",
       "users:\n- name: admin\n  user:\n    client-key-data: PRIVATE_KEY_REDACTED\n"},
      {"azure connection string",
       "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=" + account_key +
           ";EndpointSuffix=core.windows.net",
       "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=AZURE_STORAGE_KEY_REDACTED;"
       "EndpointSuffix=core.windows.net"},
      {"azure sas",
       "https://acct.blob.core.windows.net/c/b.txt?sv=2022-11-02&sp=r&se=2030-01-01&sig=" + sig,
       "https://acct.blob.core.windows.net/c/"
       "b.txt?sv=2022-11-02&sp=r&se=2030-01-01&sig=AZURE_SAS_REDACTED"},
      {"k8s secret yaml",
       "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ntype: Opaque\ndata:\n  password: " +
           b64a + "\n  username: " + b64b + "\n",
       "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ntype: Opaque\ndata:\n  password: "
       "KUBERNETES_SECRET_REDACTED\n  username: KUBERNETES_SECRET_REDACTED\n"},
      {"k8s secret yaml, kind after data",
       "apiVersion: v1\ndata:\n  token: " + b64a + "\nkind: Secret\n",
       "apiVersion: v1\ndata:\n  token: KUBERNETES_SECRET_REDACTED\nkind: Secret\n"},
      {"k8s secret json",
       "{\"apiVersion\": \"v1\", \"data\": {\"api\": \"" + b64a + "\"}, \"kind\": \"Secret\"}",
       "{\"apiVersion\": \"v1\", \"data\": {\"api\": \"KUBERNETES_SECRET_REDACTED\"}, \"kind\": "
       "\"Secret\"}"},
  });
}

TEST_CASE("look-alikes and placeholders are left alone") {
  Rng rng(7);
  const std::string sha = rng.chars(cb::test::kHex, 40);
  const std::string uuid = rng.chars(cb::test::kHex, 8) + "-" + rng.chars(cb::test::kHex, 4) +
                           "-4" + rng.chars(cb::test::kHex, 3) + "-9" +
                           rng.chars(cb::test::kHex, 3) + "-" + rng.chars(cb::test::kHex, 12);
  const std::vector<std::string> unchanged = {
      "commit " + sha + "\nAuthor: A <a@b.c>",
      "request_id: " + uuid,
      "sha256:" + rng.chars(cb::test::kHex, 64),
      "\"integrity\": \"sha512-" + rng.chars(cb::test::kBase64, 86) + "==\"",
      "<img src=\"data:image/png;base64," + rng.chars(cb::test::kBase64, 400) + "\">",
      "color: #a1b2c3; background: #fff;",
      "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI" + rng.chars(cb::test::kBase64, 43) + " me@host",
      "-----BEGIN PUBLIC KEY-----\n" + cb::test::fake_pem_body(rng, 6) +
          "\n-----END PUBLIC KEY-----",
      "-----BEGIN CERTIFICATE-----\n" + cb::test::fake_pem_body(rng, 6) +
          "\n-----END CERTIFICATE-----",
      "https://example.com/search?q=token+rotation&page=2&sort=desc&session=" + uuid,
      "const re = /sk-[A-Za-z0-9]{48}/; // matches OpenAI keys",
      "pattern: \"^gh[pousr]_[A-Za-z0-9]{36}$\"",
      "API_KEY=$API_KEY",
      "token: ${GITHUB_TOKEN}",
      "set PASSWORD=%DB_PASSWORD%",
      "password: ${{ secrets.DB_PASSWORD }}",
      "api_key: <your-api-key>",
      "OPENAI_API_KEY=YOUR_API_KEY",
      "password: xxxxxxxx",
      "secret: '********'",
      "password=PASSWORD_REDACTED",
      "-----BEGIN " + kPk + "-----\n...\n-----END " + kPk + "-----",
      "Please reset your password and rotate the token.",
      "The password is incorrect.",
      "password = getpass.getpass()",
      "token = os.environ[\"GITHUB_TOKEN\"]",
      "def login(user: str, password: str) -> bool:",
      "login(password=password, token=token)",
      "cfg.password = args.password",
      "max_tokens: 4096",
      "\"token_type\": \"Bearer\"",
      "Bearer token authentication uses the Authorization header.",
      "Basic usage: run the tool",
      "docker run -u 1000:1000 image",
      "ssh git@github.com",
      "git clone https://user@example.com/repo.git",
      "AWS access key ids start with AKIA and GitHub tokens with ghp_.",
      "compass: north",
      "self.hf_model_name_or_path = path",
      "task-runner-configuration-service",
      "password: \"\"",
      "api_key: null",
      "PWD=/home/user/project",
      "secret: MySecretApplicationName",
      "token: RefreshTokenRotationPolicy",
  };
  for (const std::string& text : unchanged) {
    CAPTURE(text);
    CHECK(redact(text) == text);
  }
}

TEST_CASE("every vendor format in the table, one row each") {
  Rng r(8);
  using cb::test::kAlnum;
  using cb::test::kBase64;
  using cb::test::kBase64Url;
  using cb::test::kHex;
  const std::string uuid = r.chars(kHex, 8) + "-" + r.chars(kHex, 4) + "-4" + r.chars(kHex, 3) +
                           "-8" + r.chars(kHex, 3) + "-" + r.chars(kHex, 12);
  struct Vendor {
    std::string value;
    std::string placeholder;
  };
  const std::vector<Vendor> vendors = {
      {"LT" + std::string("AI") + r.chars(kAlnum, 20), "ALIBABA_KEY_REDACTED"},
      {"AK" + std::string("ID") + r.chars(kAlnum, 32), "TENCENT_KEY_REDACTED"},
      {"fo" + std::string("1_") + r.chars(kBase64Url, 43), "FLYIO_TOKEN_REDACTED"},
      {"v1" + std::string(".0-") + r.chars(kHex, 24) + "-" + r.chars(kHex, 146),
       "CLOUDFLARE_KEY_REDACTED"},
      {"rubygems" + std::string("_") + r.chars(kHex, 48), "RUBYGEMS_TOKEN_REDACTED"},
      {"CLOJARS" + std::string("_") + r.chars("abcdefghijklmnopqrstuvwxyz0123456789", 60),
       "CLOJARS_TOKEN_REDACTED"},
      {"bkua" + std::string("_") + r.chars(kHex, 40), "BUILDKITE_TOKEN_REDACTED"},
      {"CCIPAT" + std::string("_") + r.chars(kAlnum, 22) + "_" + r.chars(kHex, 40),
       "CIRCLECI_TOKEN_REDACTED"},
      {r.chars(kAlnum, 14) + ".atlas" + std::string("v1.") + r.chars(kAlnum, 64),
       "TERRAFORM_TOKEN_REDACTED"},
      {"pul" + std::string("-") + r.chars(kHex, 40), "PULUMI_TOKEN_REDACTED"},
      {"dp" + std::string(".pt.") + r.chars(kAlnum, 43), "DOPPLER_TOKEN_REDACTED"},
      {"ops" + std::string("_eyJ") + r.chars(kBase64, 120), "ONEPASSWORD_TOKEN_REDACTED"},
      {"ATATT" + std::string("3") + r.chars(kBase64Url, 180), "ATLASSIAN_TOKEN_REDACTED"},
      {"PMAK" + std::string("-") + r.chars(kHex, 24) + "-" + r.chars(kHex, 34),
       "POSTMAN_KEY_REDACTED"},
      {"glsa" + std::string("_") + r.chars(kAlnum, 32) + "_" + r.chars(kHex, 8),
       "GRAFANA_TOKEN_REDACTED"},
      {"NRAK" + std::string("-") + r.chars("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 27),
       "NEWRELIC_KEY_REDACTED"},
      {"sbp" + std::string("_") + r.chars(kHex, 40), "SUPABASE_TOKEN_REDACTED"},
      {"nfp" + std::string("_") + r.chars(kAlnum, 36), "NETLIFY_TOKEN_REDACTED"},
      {"pscale" + std::string("_tkn_") + r.chars(kAlnum, 43), "PLANETSCALE_TOKEN_REDACTED"},
      {"figd" + std::string("_") + r.chars(kBase64Url, 40), "FIGMA_TOKEN_REDACTED"},
      {"pat" + r.chars(kAlnum, 14) + "." + r.chars(kHex, 64), "AIRTABLE_TOKEN_REDACTED"},
      {"CFPAT" + std::string("-") + r.chars(kBase64Url, 43), "CONTENTFUL_TOKEN_REDACTED"},
      {"sl" + std::string(".") + r.chars(kBase64Url, 140), "DROPBOX_TOKEN_REDACTED"},
      {"whsec" + std::string("_") + r.chars(kAlnum, 32), "STRIPE_WEBHOOK_SECRET_REDACTED"},
      {"sq0" + std::string("atp-") + r.chars(kBase64Url, 22), "SQUARE_TOKEN_REDACTED"},
      {"shippo" + std::string("_live_") + r.chars(kHex, 40), "SHIPPO_TOKEN_REDACTED"},
      {"FLWSECK" + std::string("-") + r.chars(kHex, 32) + "-X", "FLUTTERWAVE_KEY_REDACTED"},
      {"EZ" + std::string("AK") + r.chars(kAlnum, 54), "EASYPOST_KEY_REDACTED"},
      {"duffel" + std::string("_test_") + r.chars(kBase64Url, 43), "DUFFEL_TOKEN_REDACTED"},
      {"sk" + std::string(".eyJ") + r.chars(kBase64Url, 60) + "." + r.chars(kBase64Url, 22),
       "MAPBOX_TOKEN_REDACTED"},
      {"fw" + std::string("_") + r.chars(kAlnum, 24), "FIREWORKS_KEY_REDACTED"},
      {"pcsk" + std::string("_") + r.chars(kAlnum, 60), "PINECONE_KEY_REDACTED"},
      {"sk" + std::string("_") + r.chars(kHex, 48), "ELEVENLABS_KEY_REDACTED"},
      {"gs" + std::string("k_") + r.chars(kAlnum, 52), "GROQ_KEY_REDACTED"},
      {"r8" + std::string("_") + r.chars(kAlnum, 37), "REPLICATE_TOKEN_REDACTED"},
      {"pplx" + std::string("-") + r.chars(kAlnum, 48), "PERPLEXITY_KEY_REDACTED"},
      {"xai" + std::string("-") + r.chars(kAlnum, 80), "XAI_KEY_REDACTED"},
      {"sk-" + std::string("or-v1-") + r.chars(kHex, 64), "OPENROUTER_KEY_REDACTED"},
      {"tvly" + std::string("-") + r.chars(kAlnum, 32), "TAVILY_KEY_REDACTED"},
      {"lsv2" + std::string("_pt_") + r.chars(kHex, 32) + "_" + r.chars(kHex, 10),
       "LANGSMITH_KEY_REDACTED"},
      {"GR134" + std::string("8941") + r.chars(kBase64Url, 20), "GITLAB_TOKEN_REDACTED"},
      {"1/" + std::string("/0") + r.chars(kBase64Url, 60), "GOOGLE_OAUTH_TOKEN_REDACTED"},
      {"xapp" + std::string("-1-") + "A0" + r.chars(kAlnum, 9) + "-" +
           r.chars(cb::test::kDigits, 13) + "-" + r.chars(kHex, 64),
       "SLACK_TOKEN_REDACTED"},
  };
  std::vector<Row> rows;
  for (const Vendor& v : vendors) {
    rows.push_back(
        {v.placeholder, "key = \"" + v.value + "\"\n", "key = \"" + v.placeholder + "\"\n"});
    rows.push_back({v.placeholder + " prose", "try " + v.value + ", it works.",
                    "try " + v.placeholder + ", it works."});
  }
  const std::string teams = "https://acme.webhook.office.com/webhookb2/" + uuid + "@" + uuid +
                            "/IncomingWebhook/" + r.chars(kHex, 32) + "/" + uuid;
  const std::string mailgun = r.chars(kHex, 32) + "-" + r.chars(kHex, 8) + "-" + r.chars(kHex, 8);
  const std::string putty =
      r.chars(kBase64, 64) + "\n" + r.chars(kBase64, 64) + "\n" + r.chars(kBase64, 20) + "\n";
  rows.push_back({"teams", "hook: " + teams, "hook: https://acme.TEAMS_WEBHOOK_REDACTED"});
  const std::string slack_path = "T" + r.chars("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 10) + "/B" +
                                 r.chars("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 10) + "/" +
                                 r.chars(kAlnum, 24);
  const std::string discord_id = r.chars("123456789", 1) + r.chars(cb::test::kDigits, 17);
  const std::string discord_secret = r.chars(kBase64Url, 68);
  rows.push_back({"slack webhook",
                  "SLACK_WEBHOOK_URL=https://hooks.slack.com/services/" + slack_path + "\n",
                  "SLACK_WEBHOOK_URL=https://hooks.slack.com/services/SLACK_WEBHOOK_REDACTED\n"});
  rows.push_back(
      {"discord webhook",
       "POST https://discord.com/api/webhooks/" + discord_id + "/" + discord_secret + ".",
       "POST https://discord.com/api/webhooks/" + discord_id + "/DISCORD_WEBHOOK_REDACTED."});
  rows.push_back(
      {"mailgun", "Mailgun sending key " + mailgun, "Mailgun sending key MAILGUN_KEY_REDACTED"});
  rows.push_back({"npmrc", "//registry.npmjs.org/:_authToken=" + uuid,
                  "//registry.npmjs.org/:_authToken=NPM_TOKEN_REDACTED"});
  rows.push_back(
      {"putty",
       "PuTTY-User-Key-File-3: ssh-ed25519\nPrivate-Lines: 3\n" + putty +
           "Private-MAC: " + r.chars(kHex, 64),
       "PuTTY-User-Key-File-3: ssh-ed25519\nPrivate-Lines: 3\nPRIVATE_KEY_REDACTEDPrivate-MAC: "});
  rows.back().expected += rows.back().input.substr(rows.back().input.size() - 64);
  check_rows(rows);
}

TEST_CASE("secrets known by their context: prose, key names, headers, layouts") {
  Rng rng(26);
  const std::string pw = "Tr0ub4dor" + rng.chars(cb::test::kAlnum, 6);
  const std::string hex = rng.chars(cb::test::kHex, 32);
  const std::string sid = "AC" + rng.chars(cb::test::kHex, 32);
  const std::string key = rng.chars(cb::test::kAlnum, 32);
  const std::string azure = rng.chars(cb::test::kBase64, 86) + "==";
  const FakeSecret id = cb::test::make_token("aws_access_key_id", rng);
  const std::string aws = "wJ" + rng.chars(cb::test::kAlnum, 30) + "/K7" +
                          rng.chars(cb::test::kAlnum, 5);
  check_rows({
      {"pw for", "pw for staging: " + pw, "pw for staging: PASSWORD_REDACTED"},
      {"is now", "Password for the VPN is now " + pw + " (rotated)",
       "Password for the VPN is now PASSWORD_REDACTED (rotated)"},
      {"should be", "the root password on prod should be " + pw,
       "the root password on prod should be PASSWORD_REDACTED"},
      {"with the password", "Login with the password " + pw + " and go",
       "Login with the password PASSWORD_REDACTED and go"},
      {"user / pw as", "log in with admin / " + pw + " as the password",
       "log in with admin / PASSWORD_REDACTED as the password"},
      {"xml key/value", "<add key=\"root_pw\" value=\"" + pw + "\" />",
       "<add key=\"root_pw\" value=\"PASSWORD_REDACTED\" />"},
      {"sqlcmd", "sqlcmd -S db -U sa -P " + pw + " -Q x", "sqlcmd -S db -U sa -P PASSWORD_REDACTED -Q x"},
      {"openssl pass:", "openssl pkcs12 -passout pass:" + pw, "openssl pkcs12 -passout pass:PASSWORD_REDACTED"},
      {"letters-only random", "REDIS_PASSWD=xcMnYCrEBPWkFlKvvotPUsWJOyGWjroU\n",
       "REDIS_PASSWD=PASSWORD_REDACTED\n"},
      {"quoted spaces", "password: \"p@ss w0rd with spaces\"\n", "password: \"PASSWORD_REDACTED\"\n"},
      {"quoted passphrase", "{\"password\": \"correct horse battery staple\"}",
       "{\"password\": \"PASSWORD_REDACTED\"}"},
      {"env quoted spaces", "DB_PASSWORD=\"hunter2 hunter3\"\n", "DB_PASSWORD=\"PASSWORD_REDACTED\"\n"},
      {"trailing bang", "password=Sup3rS3cretPass!\n", "password=PASSWORD_REDACTED\n"},
      {"trailing paren yaml", "db:\n  password: " + pw + ")\n", "db:\n  password: PASSWORD_REDACTED\n"},
      {"generic _KEY", "MAILGUN_KEY=" + key + "\n", "MAILGUN_KEY=SECRET_REDACTED\n"},
      {"base64 from slash", "PUSHER_SECRET_KEY=/HPzaKnnT73qrtI8LuV22uOIsFG7WbEZWOnX95mhUc8=\n",
       "PUSHER_SECRET_KEY=SECRET_REDACTED\n"},
      {"twilio sid then token", "client = Client(\"" + sid + "\", \"" + hex + "\")",
       "client = Client(\"" + sid + "\", \"SECRET_REDACTED\")"},
      {"twilio word", "Twilio token " + hex, "Twilio token SECRET_REDACTED"},
      {"header setter", "req.Header.Set(\"X-API-Key\", \"" + key + "\")",
       "req.Header.Set(\"X-API-Key\", \"API_KEY_REDACTED\")"},
      {"postman header", "{\"key\": \"X-Secret-Key\", \"value\": \"" + key + "\"}",
       "{\"key\": \"X-Secret-Key\", \"value\": \"SECRET_REDACTED\"}"},
      {"azure --account-key", "az storage blob list --account-key " + azure + " -c x",
       "az storage blob list --account-key AZURE_STORAGE_KEY_REDACTED -c x"},
      {"azure keys list", "{\"keyName\": \"key1\", \"value\": \"" + azure + "\"}",
       "{\"keyName\": \"key1\", \"value\": \"AZURE_STORAGE_KEY_REDACTED\"}"},
      {"aws configure prompt", "AWS Secret Access Key [None]: " + aws,
       "AWS Secret Access Key [None]: AWS_KEY_REDACTED"},
      {"password's", "the wifi password's " + pw + " btw", "the wifi password's PASSWORD_REDACTED btw"},
      {"sql identified by", "CREATE USER 'app'@'%' IDENTIFIED BY '" + pw + "';",
       "CREATE USER 'app'@'%' IDENTIFIED BY 'PASSWORD_REDACTED';"},
      {"sql with password", "ALTER USER postgres WITH PASSWORD '" + pw + "';",
       "ALTER USER postgres WITH PASSWORD 'PASSWORD_REDACTED';"},
      {"redis-cli", "redis-cli -h cache -a " + pw + " ping", "redis-cli -h cache -a PASSWORD_REDACTED ping"},
      {"aws id / secret", id.value + " / " + aws, "AWS_KEY_REDACTED / AWS_KEY_REDACTED"},
      {"aws text output", "ACCESSKEY\t" + id.value + "\t2024-05-01T10:00:00Z\t" + aws + "\tActive",
       "ACCESSKEY\tAWS_KEY_REDACTED\t2024-05-01T10:00:00Z\tAWS_KEY_REDACTED\tActive"},
  });
  const std::vector<std::string> unchanged = {
      "the db password is in 1Password, ask Dana",
      "password: \"Enter your password\"",
      "{\"password\": \"Mot de passe\"}",
      "\"passphrase\": \"Passphrase (optional)\"",
      "cfg.Password = args.Password",
      "login(user, password=password)",
      "{\"pass\": 120, \"fail\": 2}",
      "PWD=/home/dev/src/app",
      "CACHE_KEY=user-profile-v2",
      "PUBLIC_KEY=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA" + key,
      "md5 of the Twilio payload: " + hex,
      "Twilio webhook failed, trace_id=" + hex,
      "Twilio returned 20003 for request " + hex,
      "the password 'must be 12 characters' rule",
      "\"integrity\": \"sha512-" + azure + "\"",
      "curl -H \"X-API-Key: $API_KEY\" https://x.test",
  };
  for (const std::string& text : unchanged) {
    CAPTURE(text);
    CHECK(redact(text) == text);
  }
}

TEST_CASE("every rule kind is exercised by some row of this file") {
  if (exercised().empty()) return;  // run with a filter
  for (const std::string& kind : cb::redact::Redactor::builtin()->kinds()) {
    CAPTURE(kind);
    CHECK(exercised().count(kind) == 1);
  }
}
