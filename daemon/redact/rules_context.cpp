// Secrets recognised by their surroundings rather than their shape: PEM blocks, HTTP
// authorization, credentials in URLs and command lines, and key/value assignments whose key
// names a secret, in the syntaxes agents paste (.env, YAML, JSON, JSON-in-JSON, TOML, INI, XML,
// code in several languages, connection strings, prose).
#include "daemon/redact/checks.h"
#include "daemon/redact/keyword_gates.h"
#include "daemon/redact/kubernetes_secret.h"
#include "daemon/redact/locators.h"
#include "daemon/redact/rule.h"

namespace cb::redact {
namespace {

RuleSpec rule(std::string name, std::string placeholder, std::string pattern,
              std::vector<std::string> keywords, std::size_t lookbehind, std::size_t lookahead,
              Check check, Gate gate = nullptr) {
  RuleSpec spec;
  spec.name = std::move(name);
  spec.placeholder = std::move(placeholder);
  spec.pattern = std::move(pattern);
  spec.keywords = std::move(keywords);
  spec.lookbehind = lookbehind;
  spec.lookahead = lookahead;
  spec.check = check;
  spec.gate = gate;
  return spec;
}

// After a key: its closing quote (possibly backslash-escaped, as in JSON inside JSON), a
// subscript bracket (env["KEY"]), markdown emphasis, then one assignment operator.
const std::string kKeyTail = R"((?:\\*["'\x60])?\]?(?:[*_]{1,2})?)";
const std::string kOperator = R"([ \t]{0,8}(?::=|=>|==|!=|[:=])(?:[*_]{1,2})?[ \t]{0,8})";

// One value in any quoting style. The patterns carry no capture group (RE2 then needs only its
// DFA); the checks locate the value and tell quoted literals (always literals) from bare words
// (in code usually variable names).
const std::string kValue = R"re((?:\\+"[^"\\\n]+)re"  // \"value\"  (JSON inside a JSON string)
                           R"re(|"(?:[^"\\\n]|\\[^\n])+)re"          // "value"
                           R"re(|'[^'\n]+)re"                        // 'value'
                           R"re(|\x60[^\x60\n]+)re"                  // `value`
                           R"re(|[^\s"'\x60,;&<>(){}\[\]\\|]+))re";  // bare value

// `<key>value</key>` in XML configs.
// Words that make "<word>_key" a secret (signing_key, ACCESS_KEY, clientKey); keyword_gates.cpp
// holds the same list for its gate.
constexpr const char* kKeyQualifiers =
    "(?:access|secret|signing|encryption|master|account|app|service|session|client|storage|"
    "deploy|admin|write|shared|consumer|webhook|bot|auth|license|jwt|hmac)";

const std::string kXmlValue = R"(>[^<\s]+</)";

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
    spec.gate = gate_kind_before;
    spec.scanner = scan_kubernetes_secrets;
    add(spec);
    rules.back().label = "the data block of a Kubernetes Secret manifest";
  }

  // --- Private keys ---
  {
    // BEGIN, then the body (base64, blanks, newlines real or escaped as \n or \\n, YAML
    // indentation, markdown quote marks, legacy header lines), then END when present: a block
    // cut off before its END line still goes. Header values stop at "--" (a flattened key puts
    // the END marker on the same line). The body is a closed charset so the match ends at
    // the first byte that cannot belong to a key (RE2 never scans past it). Header lines come
    // first in the alternation: RE2 is leftmost-first, and "Comment" taken as base64 would end
    // the body at its ':'.
    const std::string begin = R"(-{4,5} ?BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)? ?-{4,5})";
    const std::string body =
        R"((?:(?:Proc-Type|DEK-Info|Version|Comment):(?:[^\n\\-]|-[^\n\\-])*|[\s>]|\\+[nrt]|[A-Za-z0-9+/=]+)*)";
    const std::string end = R"((?:-{4,5} ?END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)? ?-{4,5})?)";
    RuleSpec spec = rule("private_key", "PRIVATE_KEY_REDACTED", begin + body + end, {"PRIVATE KEY"},
                         60, 256, check_pem);
    spec.keywords_case_sensitive = true;
    add(spec);
    rules.back().label = "a PEM private key block (BEGIN ... PRIVATE KEY)";
  }
  add(rule("private_key", "PRIVATE_KEY_REDACTED",
           R"(Private-Lines: ?[0-9]+(?:\r?\n|\\+n)((?:[A-Za-z0-9+/=]+(?:\r?\n|\\+n))+))",
           {"Private-Lines:"}, 0, 8192, check_base64_blob));
  rules.back().label = "the Private-Lines of a PuTTY key file";
  add(rule("private_key", "PRIVATE_KEY_REDACTED",
           R"(client-key-data\\*["']?[ \t]*:[ \t]*\\*["']?[A-Za-z0-9+/]{40,}={0,2})",
           {"client-key-data"}, 0, 128, check_base64_blob));
  rules.back().label = "client-key-data of a kubeconfig";
  add(rule("private_key", "PRIVATE_KEY_REDACTED",
           assignment(R"(private[_.-]?key(?:[_.-]?(?:hex|b64|base64|pem|data|bytes))?)"),
           {"private_key", "privatekey", "private-key", "private.key"}, 0, 96, check_secret_value));
  rules.back().label = "a key named private_key, then a value";

  // --- HTTP authorization ---
  add(rule("bearer_token", "BEARER_TOKEN_REDACTED", R"((?i)\bbearer\s+([A-Za-z0-9._~+/-]{8,}=*))",
           {"bearer"}, 0, 96, check_random_value, gate_scheme));
  rules.back().label = "an HTTP Bearer credential";
  rules.back().locate = locate_after_scheme;
  add(rule("basic_auth", "BASIC_AUTH_REDACTED", R"((?i)\bbasic\s+([A-Za-z0-9+/]{4,}={0,2}))",
           {"basic"}, 0, 96, check_basic_credentials, gate_scheme));
  rules.back().label = "an HTTP Basic credential (base64 of user:password)";
  rules.back().locate = locate_after_scheme;
  add(rule(
      "authorization_header", "SECRET_REDACTED",
      R"((?i)authorization\\*["'\x60]?\]?[ \t]*[:=][ \t]*\\*["'\x60]?(?:(?:token|bot|apikey|api-key|key|sso-key|ssws|splunk|otoken)[ \t]+)?([A-Za-z0-9._~+/:=-]{16,}))",
      {"authorization"}, 0, 96, check_random_value, gate_assignment));
  rules.back().label = "the value of an Authorization header";
  rules.back().locate = locate_authorization;
  {
    // Docker config.json "auths": base64 of user:password.
    RuleSpec spec = rule("docker_auth", "DOCKER_AUTH_REDACTED",
                         R"((?i)auth\\*["'][ \t]*:[ \t]*\\*["']([A-Za-z0-9+/]{4,}={0,2})\\*["'])",
                         {"auth\"", "auth'", "auth\\"}, 0, 1024, check_basic_credentials);
    spec.boundary = kLeftBoundary;
    add(spec);
    rules.back().label = "the auth field of a Docker config.json";
  }

  // --- Credentials in URLs and command lines ---
  add(rule("url_password", "PASSWORD_REDACTED", R"(://[^\s:@/?#'"<>\\]*:([^\s/?#'"<>\\]+)@)",
           {"://"}, 0, 300, check_url_password, gate_url_userinfo));
  rules.back().label = "the password of a URL's user:password@";
  rules.back().locate = locate_url_password;
  add(rule("curl_password", "PASSWORD_REDACTED",
           R"((?:-u|--user|-a|--auth)(?:[ \t]+|=)['"]?[^\s:'"]+:([^\s'"]+))",
           {"-u", "--user", "-a", "--auth"}, 0, 128, check_curl_password, gate_switch));
  rules.back().label = "the password of user:password after -u, --user, -a or --auth";
  rules.back().locate = locate_after_colon;
  add(rule("curl_user_token", "API_KEY_REDACTED",
           R"((?:-u|--user)(?:[ \t]+|=)['"]?([A-Za-z0-9_.-]{16,}):(?:[\s'"]|$))", {"-u", "--user"},
           0, 128, check_random_value, gate_switch));
  rules.back().label = "a token given as the user of -u token:";
  add(rule("mysql_password", "PASSWORD_REDACTED",
           R"((?:mysql|mysqldump|mysqladmin|mariadb)\b[^\n]*?\s-p['"]?([^\s'"-][^\s'"]{2,}))",
           {"mysql", "mariadb"}, 0, 512, check_url_password, gate_p_switch_on_line));
  rules.back().label = "mysql -p<password> on a mysql or mariadb command line";
  add(rule("mysql_password", "PASSWORD_REDACTED", R"(sshpass\s+-p\s*['"]?([^\s'"]+))", {"sshpass"},
           0, 300, check_url_password, gate_p_switch_on_line));
  rules.back().label = "sshpass -p";
  add(rule(
      "cli_password", "PASSWORD_REDACTED",
      R"((?:docker|podman|helm|oras|skopeo|buildah|nerdctl)\s[^\n]*?\blogin\b[^\n]*?\s-p[ \t]+['"]?([^\s'"]+))",
      {"docker", "podman", "helm", "oras", "skopeo", "buildah", "nerdctl"}, 0, 512,
      check_flag_value, gate_p_switch_on_line));
  rules.back().label = "-p of a registry login (docker, podman, helm, ...)";
  add(rule(
      "cli_password", "PASSWORD_REDACTED",
      R"((?i)--(?:[a-z0-9-]*(?:password|passwd|passphrase)|(?:[a-z0-9]+-)*(?:pass|pwd))[ \t]+['"]?[^\s'"]+)",
      {"pass", "pwd"}, 48, 64, check_flag_value, gate_flag));
  rules.back().label = "the value of a --password, --pass or --passphrase flag";
  add(rule("cli_password", "PASSWORD_REDACTED",
           R"((?:sqlcmd|bcp|osql)\b[^\n]*?\s-P[ \t]*['"]?([^\s'"-][^\s'"]*))",
           {"sqlcmd", "bcp", "osql"}, 0, 512, check_url_password, gate_capital_p_on_line));
  rules.back().label = "-P of sqlcmd, bcp or osql";
  // openssl -passout pass:X, -passin pass:X.
  add(rule("cli_password", "PASSWORD_REDACTED",
           R"(-(?:passin|passout|pass|password)[ \t]+['"]?pass:([^\s'"]+))", {"pass:"}, 24, 128,
           check_url_password));
  rules.back().label = "pass: of openssl -passin or -passout";
  // SQL: CREATE USER ... IDENTIFIED BY 'x', ALTER ROLE ... WITH PASSWORD 'x', PASSWORD 'x'.
  add(rule("sql_password", "PASSWORD_REDACTED",
           R"((?i)\b(?:identified(?:\s+with\s+[a-z0-9_]+)?\s+by|password)\s+'([^'\n]{3,})')",
           {"identified", "password"}, 0, 160, check_sql_password, gate_quote_after));
  rules.back().label = "a SQL password literal (IDENTIFIED BY '...', PASSWORD '...')";
  add(rule("cli_password", "PASSWORD_REDACTED",
           R"(redis-cli\b[^\n]*?\s(?:-a|--pass)[ \t]+['"]?([^\s'"-][^\s'"]*))", {"redis-cli"}, 0,
           512, check_url_password));
  rules.back().label = "-a of redis-cli";
  add(rule("netrc_password", "PASSWORD_REDACTED",
           R"((?i)\blogin[ \t]+\S+[ \t]+password[ \t]+(\S+))", {"login"}, 0, 512,
           check_url_password, gate_password_on_line));
  rules.back().label = "the password of a .netrc line";

  // --- Key/value assignments whose key names a secret ---
  add(rule("password", "PASSWORD_REDACTED",
           assignment("password|passwd|passphrase|passcode|pass|pwd|pw"), {"pass", "pwd", "pw"}, 0,
           64, check_password_assignment, gate_assignment));
  rules.back().label = "a key naming a password (password, passwd, passphrase, pass, pwd, pw), then a value";
  add(rule("api_key", "API_KEY_REDACTED",
           assignment(R"(api[_.\s-]?(?:key|token)|subscription[_.-]?key)"),
           {"apikey", "api_key", "api-key", "api key", "api.key", "apitoken", "api_token",
            "api-token", "subscription-key", "subscription_key", "subscriptionkey"},
           0, 64, check_secret_value, gate_assignment));
  rules.back().label = "a key naming an API key, then a random-looking value";
  add(rule("secret", "SECRET_REDACTED", assignment("secret|token|credentials?|creds"),
           {"secret", "token", "credential", "creds"}, 0, 64, check_secret_value, gate_assignment));
  rules.back().label = "a key naming a secret, token or credentials, then a random-looking value";
  add(rule("secret", "SECRET_REDACTED", assignment(std::string(kKeyQualifiers) + R"([_.-]?key)"),
           {"key"}, 16, 64, check_secret_value, gate_qualified_key));
  rules.back().label = "a qualified key (signing_key, access_key, client_key, ...), then a random-looking value";
  // Any other "<name>_key" (MAILGUN_KEY, algolia-admin-key): only a random-looking value, and not
  // under names of keys that are not secrets (cache_key, sort_key, public_key, ssh_key).
  {
    RuleSpec spec = rule("secret", "SECRET_REDACTED", assignment(R"([a-z0-9][a-z0-9_]{0,40}[_-]key)"),
                         {"key"}, 48, 64, check_suffixed_key, gate_suffixed_key);
    spec.boundary = kLeftBoundary;
    add(spec);
    rules.back().label = "any other <name>_key, then a random-looking value";
  }
  // API keys handed to a header setter: req.Header.Set("X-API-Key", "..."), headers.put(...).
  add(rule(
      "api_key", "API_KEY_REDACTED",
      R"((?i)(?:api[-_]?(?:key|token|secret)|(?:auth|access)[-_]?token|secret[-_]?key|private[-_]?token)\\*["'\x60][ \t]*,[ \t]*\\*["'\x60]([A-Za-z0-9._~+/=-]{16,}))",
      {"api-key", "api_key", "apikey", "api-token", "api_token", "apitoken", "api-secret",
       "api_secret", "apisecret", "auth-token", "auth_token", "authtoken", "access-token",
       "access_token", "accesstoken", "secret-key", "secret_key", "secretkey", "private-token",
       "private_token"},
      0, 96, check_random_value, gate_comma_after));
  rules.back().label = "an API key header passed to a header setter (\"X-API-Key\", value)";
  // Environment lists of Kubernetes, ECS, Compose and CI: the name and the value are separate
  // fields ({"name": "DB_PASSWORD", "value": "..."}, "- name: API_KEY\n  value: ..."). One rule
  // per placeholder; the first listed wins a tie.
  const auto named = [](const std::string& words) {
    return R"re((?i)(?:name|key)\\*["']?[ \t]*[:=][ \t]*\\*["']?[A-Za-z0-9_.-]*(?:)re" + words +
           R"re()\\*["']?[ \t]*(?:,|\r?\n|\\n|[ \t])[ \t]*(?:-[ \t]*)?\\*["']?value)re" + kKeyTail +
           kOperator + kValue;
  };
  add(rule("password", "PASSWORD_REDACTED", named("password|passwd|passphrase|pass|pwd|pw"), {"name", "key"},
           0, 160, check_named_value, gate_named));
  rules.back().label = "a name or key field naming a password, then its value field";
  add(rule("api_key", "API_KEY_REDACTED", named(R"(api[_-]?(?:key|token)|subscription[_-]?key)"),
           {"name", "key"}, 0, 160, check_named_value, gate_named));
  rules.back().label = "a name or key field naming an API key, then its value field";
  add(rule("secret", "SECRET_REDACTED",
           named(std::string("secret|token|credentials?|private[_-]?key|") + kKeyQualifiers +
                 "[_-]?key"),
           {"name", "key"}, 0, 160, check_named_value, gate_named));
  rules.back().label = "a name or key field naming a secret, then its value field";
  add(rule("cli_secret", "API_KEY_REDACTED",
           R"((?i)--[a-z0-9-]*api-?(?:key|token)[ \t]+['"]?[^\s'"]{8,})",
           {"api-key", "apikey", "api-token"}, 48, 64, check_flag_secret, gate_flag));
  rules.back().label = "the value of an --api-key or --api-token flag";
  add(rule(
      "cli_secret", "SECRET_REDACTED",
      R"((?i)--(?:[a-z0-9-]*(?:token|secret|api-?key)|(?:[a-z0-9]+-)*key)[ \t]+['"]?[^\s'"]{8,})",
      {"token", "secret", "key"}, 48, 64, check_flag_secret, gate_flag));
  rules.back().label = "the value of a --token, --secret or --<name>-key flag";

  // --- Prose ---
  // "my password is X", "the password for the staging db is X", "reset the password to X",
  // "pw for staging: X", "the root password on prod should be X", "password -> X".
  add(rule(
      "password", "PASSWORD_REDACTED",
      R"((?i)\b(?:password|passphrase|passcode|passwd|pwd|pw|pass)(?:\s+(?:for|on|of|at)(?:\s+[A-Za-z0-9_.@-]+){1,5})?(?:\s+(?:is\s+now|set\s+to|changed\s+to|should\s+be|will\s+be|is|was|to)(?:\s*:)?|'s|\s*(?:->|=>|:|=))\s+[*_"'\x60]{0,2}([^\s"'\x60*()\[\]{}<>]{3,}))",
      {"pass", "pwd", "pw"}, 0, 128, check_password_prose, gate_password_prose));
  rules.back().label = "prose: password (for ...) is, was, to, should be, :, -> then the value";
  rules.back().locate = locate_prose_value_3;
  // "use X as the password", "log in with admin / X as the password".
  add(rule(
      "password", "PASSWORD_REDACTED",
      R"((?i)\b(?:use|using|with|try)\s+(?:[A-Za-z0-9_.@-]+\s*/\s*)?[*_"'\x60]{0,2}([^\s"'\x60*()\[\]{}<>]{3,})[*_"'\x60]{0,2}\s+as\s+(?:the\s+|my\s+|your\s+|a\s+|its\s+)?(?:[a-z]+\s+)?(?:password|passphrase))",
      {"password", "passphrase"}, 200, 16, check_password_prose, gate_as_before));
  rules.back().label = "prose: use <value> as the password";
  // "log in with the password X", "sign in as root with password X".
  add(rule(
      "password", "PASSWORD_REDACTED",
      R"((?i)\b(?:with|using|use|enter|type)\s+(?:the\s+|a\s+|my\s+|this\s+)?(?:password|passphrase|pw)\s+[*_"'\x60]{0,2}([^\s"'\x60*()\[\]{}<>]{3,}))",
      {"password", "passphrase", "pw"}, 24, 96, check_password_prose, gate_verb_before));
  rules.back().label = "prose: with (the) password <value>";
  rules.back().locate = locate_prose_value_3;
  add(rule(
      "secret", "SECRET_REDACTED",
      R"((?i)\b(?:token|secret|api[ _-]?key|access[ _-]?key)\s+(?:is|was)(?:\s*:)?\s+[*_"'\x60]{0,2}([^\s"'\x60*()\[\]{}<>]{8,}))",
      {"token", "secret", "key"}, 16, 64, check_secret_value, gate_prose));
  rules.back().label = "prose: token, secret or API key is <value>";
  rules.back().locate = locate_prose_value_8;
  return rules;
}

}  // namespace cb::redact
