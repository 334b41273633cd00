// Secrets recognised by their surroundings rather than their shape: PEM blocks, HTTP
// authorization, credentials in URLs and command lines, and key/value assignments whose key
// names a secret, in the syntaxes agents paste (.env, YAML, JSON, JSON-in-JSON, TOML, INI, XML,
// code in several languages, connection strings, prose).
#include "daemon/bridge/redact/checks.h"
#include "daemon/bridge/redact/kubernetes_secret.h"
#include "daemon/bridge/redact/rule.h"

namespace cb::bridge::redact {
namespace {

RuleSpec rule(std::string name, std::string placeholder, std::string pattern,
              std::vector<std::string> keywords, std::size_t lookbehind, std::size_t lookahead,
              Check check) {
  RuleSpec spec;
  spec.name = std::move(name);
  spec.placeholder = std::move(placeholder);
  spec.pattern = std::move(pattern);
  spec.keywords = std::move(keywords);
  spec.lookbehind = lookbehind;
  spec.lookahead = lookahead;
  spec.check = check;
  return spec;
}

// After a key: its closing quote (possibly backslash-escaped, as in JSON inside JSON), a
// subscript bracket (env["KEY"]), markdown emphasis, then one assignment operator.
const std::string kKeyTail = R"((?:\\*["'\x60])?\]?(?:[*_]{1,2})?)";
const std::string kOperator = R"([ \t]{0,8}(?::=|=>|==|!=|[:=])(?:[*_]{1,2})?[ \t]{0,8})";

// One value, each quoting style in its own group so the check can tell quoted literals (always
// literals) from bare words (which in code are usually variable names).
const std::string kValue =
    R"re((?:\\+"([^"\\\n]{1,512})\\+")re"          // \"value\"  (JSON inside a JSON string)
    R"re(|"((?:[^"\\\n]|\\[^\n]){1,512})")re"      // "value"
    R"re(|'([^'\n]{1,512})')re"                    // 'value'
    R"re(|\x60([^\x60\n]{1,512})\x60)re"           // `value`
    R"re(|([^\s"'\x60,;&<>(){}\[\]\\|]{1,512})))re";  // bare value

// `<key>value</key>` in XML configs.
const std::string kXmlValue = R"(>([^<\s]{1,256})</)";

std::string assignment(const std::string& key) {
  return "(?i)(?:" + key + ")(?:" + kKeyTail + kOperator + kValue + "|" + kXmlValue + ")";
}

}  // namespace

std::vector<RuleSpec> context_rules() {
  std::vector<RuleSpec> rules;
  auto add = [&](RuleSpec spec) { rules.push_back(std::move(spec)); };

  // --- Kubernetes Secret manifests (before the generic assignments, which see the same values) ---
  {
    RuleSpec spec;
    spec.name = "kubernetes_secret";
    spec.placeholder = "KUBERNETES_SECRET_REDACTED";
    spec.keywords = {"Secret"};
    spec.keywords_case_sensitive = true;
    spec.lookbehind = kUnbounded;
    spec.lookahead = kUnbounded;
    spec.scanner = scan_kubernetes_secrets;
    add(spec);
  }

  // --- Private keys ---
  const std::string begin = R"(-{4,5} ?BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)? ?-{4,5})";
  const std::string end = R"(-{4,5} ?END[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)? ?-{4,5})";
  {
    // Whatever sits between the markers: real newlines, \n, \\n, YAML indentation, spaces.
    RuleSpec spec = rule("private_key", "PRIVATE_KEY_REDACTED", begin + "(?s:.)*?" + end,
                         {"PRIVATE KEY"}, 60, kUnbounded, check_pem);
    spec.keywords_case_sensitive = true;
    add(spec);
    // A block cut off before its END line: the header and the base64 body that follows.
    spec.pattern = begin +
                   R"((?:\s|\\+[nrt]|[A-Za-z0-9+/]{1,100}={0,2}|(?:Proc-Type|DEK-Info|Version|Comment):[^\n\\]{0,100})*)";
    add(spec);
  }
  add(rule("private_key", "PRIVATE_KEY_REDACTED",
           R"(Private-Lines: ?[0-9]{1,3}(?:\r?\n|\\+n)((?:[A-Za-z0-9+/=]{1,80}(?:\r?\n|\\+n))+))",
           {"Private-Lines:"}, 0, 16384, check_base64_blob));
  add(rule("private_key", "PRIVATE_KEY_REDACTED",
           R"(client-key-data\\*["']?[ \t]*:[ \t]*\\*["']?([A-Za-z0-9+/]{40,}={0,2}))",
           {"client-key-data"}, 0, 16384, check_base64_blob));
  add(rule("private_key", "PRIVATE_KEY_REDACTED",
           assignment(R"(private[_.-]?key(?:[_.-]?(?:hex|b64|base64|pem|data|bytes))?)"),
           {"private_key", "privatekey", "private-key", "private.key"}, 0, 700,
           check_secret_value));

  // --- HTTP authorization ---
  add(rule("bearer_token", "BEARER_TOKEN_REDACTED", R"((?i)\bbearer\s+([A-Za-z0-9._~+/-]{8,}=*))",
           {"bearer"}, 0, 16384, check_random_value));
  add(rule("basic_auth", "BASIC_AUTH_REDACTED", R"((?i)\bbasic\s+([A-Za-z0-9+/]{4,}={0,2}))",
           {"basic"}, 0, 2048, check_basic_credentials));
  add(rule("authorization_header", "SECRET_REDACTED",
           R"((?i)authorization\\*["'\x60]?\]?[ \t]{0,8}[:=][ \t]{0,8}\\*["'\x60]?(?:(?:token|bot|apikey|api-key|key|sso-key|ssws|splunk|otoken)[ \t]+)?([A-Za-z0-9._~+/:=-]{16,}))",
           {"authorization"}, 0, 4096, check_random_value));
  {
    // Docker config.json "auths": base64 of user:password.
    RuleSpec spec = rule("docker_auth", "DOCKER_AUTH_REDACTED",
                         R"((?i)auth\\*["'][ \t]*:[ \t]*\\*["']([A-Za-z0-9+/]{4,}={0,2})\\*["'])",
                         {"auth\"", "auth'", "auth\\"}, 0, 2048, check_basic_credentials);
    spec.boundary = kLeftBoundary;
    add(spec);
  }

  // --- Credentials in URLs and command lines ---
  add(rule("url_password", "PASSWORD_REDACTED",
           R"(://[^\s:@/?#'"<>\\]{0,256}:([^\s/?#'"<>\\]{1,256})@)", {"://"}, 0, 600,
           check_url_password));
  add(rule("curl_password", "PASSWORD_REDACTED",
           R"((?:-u|--user)(?:[ \t]+|=)['"]?[^\s:'"]{1,256}:([^\s'"]{1,256}))", {"-u", "--user"}, 0,
           600, check_curl_password));
  add(rule("curl_user_token", "API_KEY_REDACTED",
           R"((?:-u|--user)(?:[ \t]+|=)['"]?([A-Za-z0-9_.-]{16,256}):(?:[\s'"]|$))",
           {"-u", "--user"}, 0, 300, check_random_value));
  add(rule("mysql_password", "PASSWORD_REDACTED",
           R"((?:mysql|mysqldump|mysqladmin|mariadb)\b[^\n]{0,200}?\s-p['"]?([^\s'"-][^\s'"]{2,255}))",
           {"mysql", "mariadb"}, 0, 500, check_url_password));
  add(rule("mysql_password", "PASSWORD_REDACTED", R"(sshpass\s+-p\s*['"]?([^\s'"]{1,256}))",
           {"sshpass"}, 0, 300, check_url_password));
  add(rule("cli_password", "PASSWORD_REDACTED",
           R"((?:docker|podman|helm|oras|skopeo|buildah|nerdctl)\s[^\n]{0,100}?\blogin\b[^\n]{0,200}?\s-p[ \t]+['"]?([^\s'"]{1,256}))",
           {"docker", "podman", "helm", "oras", "skopeo", "buildah", "nerdctl"}, 0, 600,
           check_flag_value));
  add(rule("cli_password", "PASSWORD_REDACTED",
           R"((?i)--(?:[a-z0-9]+-){0,4}(?:password|passwd|pass|pwd)[ \t]+['"]?([^\s'"]{1,256}))",
           {"pass", "pwd"}, 48, 300, check_flag_value));
  add(rule("netrc_password", "PASSWORD_REDACTED",
           R"((?i)\blogin[ \t]+\S{1,256}[ \t]+password[ \t]+(\S{1,256}))", {"login"}, 0, 600,
           check_url_password));

  // --- Key/value assignments whose key names a secret ---
  add(rule("password", "PASSWORD_REDACTED",
           assignment("password|passwd|passphrase|passcode|pass|pwd|pw"), {"pass", "pwd", "pw"},
           0, 700, check_password_assignment));
  add(rule("api_key", "API_KEY_REDACTED",
           assignment(R"(api[_.\s-]?(?:key|token)|subscription[_.-]?key)"),
           {"apikey", "api_key", "api-key", "api key", "api.key", "apitoken", "api_token",
            "api-token", "subscription"},
           0, 700, check_secret_value));
  add(rule("secret", "SECRET_REDACTED",
           assignment(
               R"(secret|token|credentials?|creds|(?:access|secret|signing|encryption|master|account|app|service|session|client|storage|deploy|admin|write|shared|consumer|webhook|bot|auth|license|jwt|hmac)[_.-]?key)"),
           {"secret", "token", "credential", "creds", "key"}, 16, 700, check_secret_value));
  add(rule("cli_secret", "SECRET_REDACTED",
           R"((?i)--(?:[a-z0-9]+-){0,4}(?:token|secret|api-?key|key)[ \t]+['"]?([^\s'"]{8,512}))",
           {"token", "secret", "key"}, 48, 600, check_secret_value));

  // --- Prose ---
  add(rule("password", "PASSWORD_REDACTED",
           R"((?i)\b(?:password|passphrase|passcode|pwd)\s+(?:is|was)(?:\s*:)?\s+[*_"'\x60]{0,2}([^\s"'\x60*()\[\]{}<>]{3,128}))",
           {"pass", "pwd"}, 0, 200, check_password_prose));
  add(rule("secret", "SECRET_REDACTED",
           R"((?i)\b(?:token|secret|api[ _-]?key|access[ _-]?key)\s+(?:is|was)(?:\s*:)?\s+[*_"'\x60]{0,2}([^\s"'\x60*()\[\]{}<>]{8,512}))",
           {"token", "secret", "key"}, 16, 600, check_secret_value));

  return rules;
}

}  // namespace cb::bridge::redact
