// Look-alike messages that contain no credential: identifiers, digests, encoded media, public
// keys, long URLs, regexes, placeholders, code and prose about secrets.
#include <functional>
#include <map>

#include "tests/redact/corpus.h"

namespace cb::test {
namespace {

using NegativeMaker = std::function<std::string(Rng&)>;

std::string uuid(Rng& rng) {
  return rng.chars(kHex, 8) + "-" + rng.chars(kHex, 4) + "-4" + rng.chars(kHex, 3) + "-" +
         rng.chars("89ab", 1) + rng.chars(kHex, 3) + "-" + rng.chars(kHex, 12);
}

std::string sha(Rng& rng) { return rng.chars(kHex, 40); }

std::string git_sha_message(Rng& rng) {
  const std::string s = sha(rng);
  switch (rng.below(5)) {
    case 0:
      return wrap(rng,
                  "commit " + s +
                      "\nAuthor: Dana <dana@acme.io>\nDate:   Tue May 7 10:00:00 2024\n\n    fix: "
                      "retry on 503",
                  "");
    case 1:
      return "Bisected it to " + s + ", the parent " + s.substr(0, 7) + "~1 is fine.";
    case 2:
      return wrap(rng, assignment(rng, "git_commit", s), "yaml");
    case 3:
      return wrap(rng,
                  "{\"head_sha\": \"" + s + "\", \"base_sha\": \"" + sha(rng) +
                      "\", \"status\": \"completed\"}",
                  "json");
    default:
      return wrap(rng, "git checkout " + s + " && git cherry-pick " + sha(rng), "bash");
  }
}

std::string uuid_message(Rng& rng) {
  const std::string u = uuid(rng);
  switch (rng.below(5)) {
    case 0:
      return wrap(rng, "X-Request-Id: " + u + "\nX-Correlation-Id: " + uuid(rng), "http");
    case 1:
      return wrap(
          rng, "{\"id\": \"" + u + "\", \"tenant_id\": \"" + uuid(rng) + "\", \"state\": \"ok\"}",
          "json");
    case 2:
      return "Order " + u + " is stuck in PENDING, trace " + uuid(rng) + ".";
    case 3:
      return wrap(rng, assignment(rng, "instance_id", u), "yaml");
    default:
      return wrap(
          rng, "ERROR [worker] job=" + u + " failed: connection reset by peer (attempt 3/5)", "");
  }
}

std::string digest_message(Rng& rng) {
  const std::string h = rng.chars(kHex, 64);
  switch (rng.below(5)) {
    case 0:
      return wrap(rng, "image: ghcr.io/acme/api@sha256:" + h, "yaml");
    case 1:
      return wrap(rng, h + "  release-1.4.2.tar.gz\n" + rng.chars(kHex, 64) + "  release-1.4.2.zip",
                  "");
    case 2:
      return wrap(rng, "{\"checksum\": \"sha512:" + rng.chars(kHex, 128) + "\"}", "json");
    case 3:
      return "The artifact digest changed from sha256:" + h.substr(0, 12) +
             " to sha256:" + rng.chars(kHex, 64) + ".";
    default:
      return wrap(rng, assignment(rng, "sha256", h), "toml");
  }
}

std::string npm_integrity_message(Rng& rng) {
  const std::string name = rng.pick(
      std::vector<std::string>{"lodash", "react-dom", "@babel/core", "typescript", "esbuild"});
  const std::string version = std::to_string(rng.between(1, 20)) + "." +
                              std::to_string(rng.below(30)) + "." + std::to_string(rng.below(10));
  if (rng.chance(0.5)) {
    return wrap(rng,
                "\"node_modules/" + name + "\": {\n  \"version\": \"" + version +
                    "\",\n  \"resolved\": \"https://registry.npmjs.org/" + name + "/-/" + name +
                    "-" + version + ".tgz\",\n  \"integrity\": \"sha512-" + rng.chars(kBase64, 86) +
                    "==\"\n}",
                "json");
  }
  return wrap(rng,
              name + "@^" + version + ":\n  version \"" + version +
                  "\"\n  resolved \"https://registry.yarnpkg.com/" + name + "/-/" + name + "-" +
                  version + ".tgz#" + sha(rng) + "\"\n  integrity sha1-" + rng.chars(kBase64, 27) +
                  "=",
              "yaml");
}

std::string data_image_message(Rng& rng) {
  const std::string data = "data:image/" +
                           rng.pick(std::vector<std::string>{"png", "jpeg", "gif", "webp"}) +
                           ";base64," + rng.chars(kBase64, rng.between(200, 3000)) + "==";
  switch (rng.below(3)) {
    case 0:
      return wrap(rng, "<img alt=\"logo\" src=\"" + data + "\" />", "html");
    case 1:
      return wrap(rng, ".icon { background-image: url(\"" + data + "\"); }", "css");
    default:
      return wrap(rng, "{\"avatar\": \"" + data + "\"}", "json");
  }
}

std::string css_message(Rng& rng) {
  std::string css = ":root {\n";
  for (int i = 0; i < 6; ++i) {
    css += "  --color-" +
           rng.pick(std::vector<std::string>{"primary", "accent", "muted", "danger", "token-bg",
                                             "key-border"}) +
           "-" + std::to_string(i) + ": #" + rng.chars(kHex, rng.chance(0.5) ? 6 : 3) + ";\n";
  }
  css += "}\n.btn { color: #" + rng.chars(kHex, 6) + "; box-shadow: 0 0 2px rgba(0,0,0,.4); }";
  return wrap(rng, css, "css");
}

std::string public_key_message(Rng& rng) {
  switch (rng.below(6)) {
    case 0:
      return wrap(rng,
                  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI" + rng.chars(kBase64, 43) + " dana@laptop",
                  "");
    case 1:
      return wrap(
          rng, "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQ" + rng.chars(kBase64, 520) + "= ci@runner",
          "");
    case 2:
      return wrap(
          rng,
          "-----BEGIN PUBLIC KEY-----\n" + fake_pem_body(rng, 7) + "\n-----END PUBLIC KEY-----",
          "text");
    case 3:
      return wrap(rng,
                  "-----BEGIN CERTIFICATE-----\n" + fake_pem_body(rng, 20) +
                      "\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\n" +
                      fake_pem_body(rng, 18) + "\n-----END CERTIFICATE-----",
                  "text");
    case 4:
      return wrap(rng,
                  "users:\n- name: admin\n  user:\n    client-certificate-data: " +
                      base64("-----BEGIN CERTIFICATE-----\n" + fake_pem_body(rng, 8)) + "\n",
                  "yaml");
    default:
      return wrap(rng,
                  "{\"public_key\": \"age1" + rng.chars("qpzry9x8gf2tvdw0s3jn54khce6mua7l", 58) +
                      "\", \"recipient\": true}",
                  "json");
  }
}

std::string long_url_message(Rng& rng) {
  switch (rng.below(4)) {
    case 0:
      return "See https://www.example.com/products/" + rng.chars(kLower, 12) +
             "?utm_source=newsletter&utm_medium=email&utm_campaign=" + rng.chars(kAlnum, 16) +
             "&ref=" + rng.chars(kAlnum, 24) + " for details.";
    case 1:
      return "Login redirect: https://auth.acme.io/authorize?response_type=code&client_id=" +
             rng.chars(kAlnum, 20) +
             "&redirect_uri=https%3A%2F%2Fapp.acme.io%2Fcallback&scope=openid%20profile&state=" +
             rng.chars(kAlnum, 32) + "&code_challenge=" + rng.chars(kBase64Url, 43) +
             "&code_challenge_method=S256";
    case 2:
      return "Diff: https://github.com/acme/api/compare/" + sha(rng) + "..." + sha(rng) + "#diff-" +
             rng.chars(kHex, 64);
    default:
      return "Doc: https://docs.google.com/document/d/" + rng.chars(kBase64Url, 44) +
             "/edit?usp=sharing&token_hint=none";
  }
}

std::string regex_message(Rng& rng) {
  switch (rng.below(5)) {
    case 0:
      return wrap(rng, "OPENAI_RE = re.compile(r\"sk-(?:proj-)?[A-Za-z0-9_-]{20,}\")", "python");
    case 1:
      return wrap(rng,
                  "[[rules]]\nid = \"github-pat\"\nregex = '''ghp_[0-9a-zA-Z]{36}'''\nkeywords = "
                  "[\"ghp_\"]",
                  "toml");
    case 2:
      return "OpenAI keys look like sk-... and Anthropic ones like sk-ant-...; AWS ids start with "
             "AKIA.";
    case 3:
      return wrap(rng,
                  "const patterns = [/AKIA[0-9A-Z]{16}/, /xox[baprs]-[0-9a-zA-Z-]+/, "
                  "/sk_live_[0-9a-zA-Z]{24}/];",
                  "js");
    default:
      return wrap(rng, "grep -rE 'sk-[a-zA-Z0-9]{48}|AIza[0-9A-Za-z_-]{35}' src/", "bash");
  }
}

std::string placeholder_message(Rng& rng) {
  static const std::vector<std::string> kKeys = {
      "password",       "api_key",       "secret",
      "token",          "client_secret", "db_password",
      "OPENAI_API_KEY", "GITHUB_TOKEN",  "aws_secret_access_key",
      "auth_token"};
  const std::string key = rng.pick(kKeys);
  const std::string env = style_key(key, KeyStyle::kUpperSnake);
  const std::vector<std::string> values = {
      "$" + env,
      "${" + env + "}",
      "%" + env + "%",
      "${{ secrets." + env + " }}",
      "{{ .Values." + style_key(key, KeyStyle::kCamel) + " }}",
      "<your-api-key>",
      "YOUR_API_KEY",
      "your-token-here",
      "xxxxxxxxxxxxxxxx",
      "********",
      "PASSWORD_REDACTED",
      "REDACTED",
      "changeme",
      "null",
      "sk-...",
      std::string("gh") + "p_" + std::string(36, 'x'),
      "<redacted>",
      "[REDACTED]",
      "op://vault/item/" + key,
      "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-" + rng.chars(kAlnum, 6)};
  return wrap(rng, assignment(rng, key, rng.pick(values)), "yaml");
}

std::string prose_message(Rng& rng) {
  static const std::vector<std::string> kSentences = {
      "Please reset your password and token rotation should happen automatically afterwards.",
      "The password is incorrect, so the login fails with 401.",
      "The token is expired; request a new one from the admin panel.",
      "Where do we keep the API key? I think it's in the secret manager.",
      "Don't paste your password here, use the vault.",
      "My password was rejected because it's too short.",
      "Bearer tokens must be sent in the Authorization header.",
      "Basic authentication is disabled on this endpoint.",
      "The secret is mounted at /etc/app/secret.json.",
      "Use the --password-stdin flag instead of -p.",
      "Each request consumes about 512 tokens of context.",
      "We store only the password hash (argon2id), never the password.",
      "Set the api key via the environment, not the config file.",
      "The token endpoint is https://auth.acme.io/oauth/token and the scope is read.",
  };
  std::string text = rng.pick(kSentences);
  for (std::size_t i = rng.below(3); i > 0; --i) text += " " + rng.pick(kSentences);
  return text;
}

std::string code_message(Rng& rng) {
  switch (rng.below(10)) {
    case 0:
      return wrap(rng, "password = getpass.getpass(\"Password: \")\nlogin(user, password=password)",
                  "python");
    case 1:
      return wrap(rng,
                  "def authenticate(self, token: str, password: Optional[str] = None) -> bool:\n   "
                  " return check(token)",
                  "python");
    case 2:
      return wrap(
          rng,
          "headers = {\"Authorization\": f\"Bearer {token}\"}\napi_key = os.environ[\"API_KEY\"]",
          "python");
    case 3:
      return wrap(
          rng,
          "const token = await getToken();\nconst apiKey = process.env.API_KEY;\nfetch(url, { "
          "headers: { Authorization: `Bearer ${token}` } });",
          "js");
    case 4:
      return wrap(rng,
                  "token := os.Getenv(\"TOKEN\")\nif token == \"\" {\n\treturn "
                  "errors.New(\"missing token\")\n}",
                  "go");
    case 5:
      return wrap(rng,
                  "let secret = env::var(\"SECRET\")?;\nlet password_hash = "
                  "argon2::hash(password.as_bytes(), &salt)?;",
                  "rust");
    case 6:
      return wrap(rng,
                  "response = client.chat(model=\"m\", max_tokens=4096, "
                  "temperature=0.2)\ntokenizer = AutoTokenizer.from_pretrained(\"bert\")",
                  "python");
    case 7:
      return wrap(rng, "public string Password { get; set; }\npublic string ApiKey { get; set; }",
                  "csharp");
    case 8:
      return wrap(
          rng, "if (password.length < MIN_PASSWORD_LENGTH) throw new Error('password too short');",
          "js");
    default:
      return wrap(rng, "cfg.Password = args.Password\ncfg.Token = config.auth.token", "python");
  }
}

std::string ids_message(Rng& rng) {
  switch (rng.below(6)) {
    case 0:
      return wrap(rng,
                  "arn:aws:iam::" + rng.chars(kDigits, 12) + ":role/ci-deploy\ni-0" +
                      rng.chars(kHex, 16) + " sg-0" + rng.chars(kHex, 16),
                  "");
    case 1:
      return "Task " + rng.chars(kHex, 32) + " on cluster prod exited with code 137 (OOMKilled).";
    case 2:
      return wrap(rng,
                  "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  LOG_LEVEL: "
                  "info\n  FEATURE_FLAGS: a,b,c\n  BUILD: \"" +
                      sha(rng).substr(0, 12) + "\"\n",
                  "yaml");
    case 3:
      return wrap(rng,
                  "docker run -u 1000:1000 -v $PWD:/src ghcr.io/acme/build:" + rng.chars(kHex, 12) +
                      " make",
                  "bash");
    case 4:
      return "Build " + std::to_string(rng.between(1000, 9999)) + " used 10.0." +
             std::to_string(rng.below(255)) + "." + std::to_string(rng.below(255)) +
             ", version 2." + std::to_string(rng.below(20)) + ".0-rc.1, mac " + rng.chars(kHex, 2) +
             ":" + rng.chars(kHex, 2) + ":" + rng.chars(kHex, 2) + ".";
    default:
      return wrap(
          rng,
          "{\"kind\": \"ConfigMap\", \"data\": {\"region\": \"eu-west-1\", \"replicas\": \"3\"}}",
          "json");
  }
}

std::string log_message(Rng& rng) {
  std::string log;
  for (int i = 0; i < 5; ++i) {
    log += "2024-05-01T12:00:0" + std::to_string(i) + "." + rng.chars(kDigits, 3) + "Z " +
           rng.pick(std::vector<std::string>{"INFO", "WARN", "DEBUG"}) + " " +
           rng.pick(std::vector<std::string>{
               "auth=ok user_id=" + rng.chars(kDigits, 6),
               "token_count=" + rng.chars(kDigits, 3) + " model=m-large",
               "trace_id=" + rng.chars(kHex, 32) + " span_id=" + rng.chars(kHex, 16),
               "request_id=" + uuid(rng) + " status=200 duration_ms=" + rng.chars(kDigits, 2),
               "cache key=" + rng.chars(kHex, 16) + " hit=true",
               "session expired for user " + rng.chars(kLower, 6)}) +
           "\n";
  }
  return wrap(rng, log, "");
}

const std::map<std::string, NegativeMaker>& negative_makers() {
  static const std::map<std::string, NegativeMaker> table = [] {
    std::map<std::string, NegativeMaker> m = {
      {"git_sha", git_sha_message},
      {"uuid", uuid_message},
      {"digest", digest_message},
      {"npm_integrity", npm_integrity_message},
      {"data_image", data_image_message},
      {"css_colour", css_message},
      {"public_key", public_key_message},
      {"long_url", long_url_message},
      {"regex", regex_message},
      {"placeholder", placeholder_message},
      {"prose", prose_message},
      {"code", code_message},
      {"ids", ids_message},
      {"logs", log_message},
    };
    for (auto& [kind, maker] : contextual_negative_makers()) m[kind] = maker;
    return m;
  }();
  return table;
}

}  // namespace

std::vector<std::string> negative_kinds() {
  std::vector<std::string> kinds;
  for (const auto& [kind, maker] : negative_makers()) kinds.push_back(kind);
  return kinds;
}

CorpusMessage make_negative(std::string_view kind, Rng& rng) {
  return {std::string(kind), negative_makers().at(std::string(kind))(rng), {}, {}};
}

}  // namespace cb::test
