// Issue 26 families: secrets that are not vendor tokens with a prefix, written the way people
// write them (prose, keys the rules do not name, headers other than Authorization, AWS's own file
// layouts), each with look-alikes that must stay untouched. Written from how these appear in
// tickets, chats and configs, before the rules were extended for them.
#include "tests/redact/corpus.h"

namespace cb::test {
namespace {

using Strings = std::vector<std::string>;

std::string who(Rng& rng) {
  return rng.pick(Strings{"admin", "deploy", "root", "postgres", "ci", "jenkins", "ops"});
}

std::string place(Rng& rng) {
  return rng.pick(Strings{"staging", "the staging db", "prod", "the VPN", "the jump host",
                          "grafana", "the router", "wifi", "the build box", "rabbitmq"});
}

// --- Passwords in prose ---

CorpusMessage password_prose_varied(Rng& rng) {
  const std::string pw = fake_password(rng, "'\"`*");
  const std::string p = place(rng);
  std::string text;
  switch (rng.below(16)) {
    case 0:
      text = "the db password is " + pw + " btw";
      break;
    case 1:
      text = "log in with " + who(rng) + " / " + pw + " as the password, then change it";
      break;
    case 2:
      text = "pw for " + p + ": " + pw;
      break;
    case 3:
      text = "Creds for " + p + " - user: " + who(rng) + ", password: " + pw;
      break;
    case 4:
      text = "Password for " + p + " is now " + pw + " (rotated this morning).";
      break;
    case 5:
      text = "Username: " + who(rng) + "\nPassword: " + pw + "\nURL: https://" +
             rng.pick(Strings{"grafana", "jenkins", "vault"}) + ".acme.io";
      break;
    case 6:
      text = "I changed the " + p + " pw to " + pw + ", tell the others";
      break;
    case 7:
      text = "you can ssh in as " + who(rng) + ", the password is " + pw;
      break;
    case 8:
      text = "pass for " + p + " = " + pw;
      break;
    case 9:
      text = "ok the password is: " + pw + "\nlet me know when you're in";
      break;
    case 10:
      text = "Login with the password " + pw + " and you should see the dashboard.";
      break;
    case 11:
      text = "PW: " + pw + " (same for all three nodes)";
      break;
    case 12:
      text = "Sign in as " + who(rng) + " with password " + pw + " then run the migration.";
      break;
    case 13:
      text = "- " + p + " password -> " + pw + "\n- the rest is unchanged";
      break;
    case 14:
      text = "the " + who(rng) + " password on " + p + " should be " + pw;
      break;
    default:
      text = "**Password:** `" + pw + "`";
      break;
  }
  return message("password_prose_varied", text, {pw}, "PASSWORD_REDACTED");
}

// --- Password assignments under keys the rules did not know, in many syntaxes ---

CorpusMessage password_key_varied(Rng& rng) {
  const std::string pw = fake_password(rng, "'\"`\\<>&");
  const std::string key = rng.pick(Strings{"db_pass", "passphrase", "PWD", "pass", "dbPass",
                                           "root_pw", "DB_PASSWD", "master_pass", "SMTP_PASS",
                                           "admin_pwd", "mysql_pass", "keyPassphrase"});
  std::string text;
  switch (rng.below(14)) {
    case 0:
      text = wrap(rng, "database:\n  host: db.internal\n  " + key + ": " + pw + "\n", "yaml");
      break;
    case 1:
      text = wrap(rng, "{\"user\": \"" + who(rng) + "\", \"" + key + "\": \"" + pw + "\"}", "json");
      break;
    case 2:
      text = wrap(rng, "[database]\nuser = " + who(rng) + "\n" + key + " = " + pw + "\n", "ini");
      break;
    case 3:
      text = wrap(rng, "<dataSource user=\"" + who(rng) + "\" " + key + "=\"" + pw +
                           "\" url=\"jdbc:mysql://db:3306/app\"/>",
                  "xml");
      break;
    case 4:
      text = wrap(rng, "[db]\n" + key + " = \"" + pw + "\"\nport = 5432\n", "toml");
      break;
    case 5:
      text = wrap(rng, "export " + key + "=" + pw + "\n./migrate.sh", "bash");
      break;
    case 6:
      text = wrap(rng, "./backup --host db.internal --user " + who(rng) + " --password=" + pw,
                  "bash");
      break;
    case 7:
      text = wrap(rng, "mysql -h db.internal -u " + who(rng) + " -p" + pw + " orders", "bash");
      break;
    case 8:
      text = wrap(rng, "PGPASSWORD=" + pw + " psql -h db.internal -U " + who(rng) + " app", "bash");
      break;
    case 9:
      text = wrap(rng, "<add key=\"" + key + "\" value=\"" + pw + "\" />", "xml");
      break;
    case 10:
      text = wrap(rng, "openssl pkcs12 -export -in c.pem -out c.p12 -passout pass:" + pw, "bash");
      break;
    case 11:
      text = wrap(rng, key + ": " + pw + "\n", "");
      break;
    case 12:
      text = wrap(rng, "sqlcmd -S db -U sa -P " + pw + " -Q \"select 1\"", "bash");
      break;
    default:
      text = wrap(rng, "$" + key + " = '" + pw + "';\n", "php");
      break;
  }
  return message("password_key_varied", text, {pw}, "PASSWORD_REDACTED");
}

// --- Generic .env lines whose key names a secret ---

std::string random_value(Rng& rng) {
  switch (rng.below(5)) {
    case 0:
      return rng.chars(kAlnum, rng.between(20, 48));
    case 1:
      return rng.chars(kHex, rng.pick(std::vector<std::size_t>{32, 40, 64}));
    case 2:
      return rng.chars(kBase64Url, rng.between(24, 64));
    case 3:
      return base64(rng.bytes(rng.between(18, 48)));
    default:
      return rng.chars(kLower, 4) + "_" + rng.chars(kAlnum, rng.between(24, 40));
  }
}

CorpusMessage env_generic_secret(Rng& rng) {
  const std::string key =
      rng.pick(Strings{"MAILGUN", "ALGOLIA_ADMIN", "SEGMENT_WRITE", "PUSHER_APP", "NEXTAUTH",
                       "CLOUDINARY_API", "HCAPTCHA", "SENTRY_AUTH", "GH", "RECAPTCHA", "MAPBOX",
                       "PLAID", "LINEAR", "SMTP", "REDIS", "POSTMARK_SERVER", "MIXPANEL",
                       "INTERCOM_ACCESS", "PAGERDUTY_ROUTING", "ONESIGNAL_REST"}) +
      rng.pick(Strings{"_SECRET", "_KEY", "_TOKEN", "_PASS", "_PASSWORD", "_SECRET_KEY",
                       "_PRIVATE_KEY", "_AUTH_TOKEN", "_PASSWD"});
  const std::string v = random_value(rng);
  std::string line;
  switch (rng.below(4)) {
    case 0:
      line = key + "=" + v;
      break;
    case 1:
      line = key + "=\"" + v + "\"";
      break;
    case 2:
      line = "export " + key + "=" + v;
      break;
    default:
      line = key + "='" + v + "'";
      break;
  }
  const std::string before = rng.pick(Strings{"NODE_ENV=production\nPORT=3000\n", "", "# app\n",
                                              "APP_URL=https://app.acme.io\n"});
  const std::string after = rng.pick(Strings{"\nLOG_LEVEL=debug", "", "\nREGION=eu-west-1\n"});
  return message("env_generic_secret", wrap(rng, before + line + after, rng.chance(0.5) ? "env" : ""),
                 {v}, "SECRET_REDACTED");
}

// --- Twilio auth tokens: 32 hex, recognised by their neighbourhood ---

CorpusMessage twilio_auth_token(Rng& rng) {
  const std::string sid = "AC" + rng.chars(kHex, 32);
  const std::string token = rng.chars(kHex, 32);
  std::string text;
  switch (rng.below(7)) {
    case 0:
      text = wrap(rng, "TWILIO_ACCOUNT_SID=" + sid + "\nTWILIO_AUTH_TOKEN=" + token + "\n", "bash");
      break;
    case 1:
      text = wrap(rng, "client = Client(\"" + sid + "\", \"" + token + "\")", "python");
      break;
    case 2:
      text = "Twilio creds for the SMS test: sid " + sid + ", token " + token;
      break;
    case 3:
      text = wrap(rng, "account_sid = '" + sid + "'\nauth_token = '" + token +
                           "'\nclient = Client(account_sid, auth_token)",
                  "python");
      break;
    case 4:
      text = wrap(rng, "const client = require('twilio')('" + sid + "', '" + token + "');", "js");
      break;
    case 5:
      text = "our twilio auth token is " + token + ", the number is +1 415 555 0100";
      break;
    default:
      text = wrap(rng, "twilio:\n  sid: " + sid + "\n  token: " + token + "\n", "yaml");
      break;
  }
  return message("twilio_auth_token", text, {token}, "SECRET_REDACTED");
}

// --- Azure storage account keys outside connection strings ---

CorpusMessage azure_storage_framed(Rng& rng) {
  const std::string key = rng.chars(kBase64, 86) + "==";
  const std::string account = "acme" + rng.chars(kLower, 6);
  std::string text;
  switch (rng.below(6)) {
    case 0:
      text = wrap(rng, "az storage blob upload --account-name " + account + " --account-key " +
                           key + " -c backups -f db.bak",
                  "bash");
      break;
    case 1:
      text = wrap(rng, "{\"storage\": {\"accountName\": \"" + account + "\", \"accountKey\": \"" +
                           key + "\"}}",
                  "json");
      break;
    case 2:
      text = wrap(rng, "[\n  {\n    \"keyName\": \"key1\",\n    \"permissions\": \"FULL\",\n"
                       "    \"value\": \"" + key + "\"\n  }\n]",
                  "json");
      break;
    case 3:
      text = wrap(rng, "$ctx = New-AzStorageContext -StorageAccountName " + account +
                           " -StorageAccountKey \"" + key + "\"",
                  "powershell");
      break;
    case 4:
      text = wrap(rng, "storage_account_access_key = \"" + key + "\"", "hcl");
      break;
    default:
      text = "key1 for " + account + " is " + key;
      break;
  }
  return message("azure_storage_framed", text, {key}, "AZURE_STORAGE_KEY_REDACTED");
}

// --- Opaque API keys in request headers other than Authorization ---

CorpusMessage api_header_varied(Rng& rng) {
  const std::string key = fake_generic_secret(rng);
  const std::string header =
      rng.pick(Strings{"X-API-Key", "Api-Key", "apikey", "X-Auth-Token", "X-Access-Token",
                       "x-api-key", "API-KEY", "X-Api-Secret", "Private-Token", "X-Secret-Key"});
  std::string text;
  switch (rng.below(8)) {
    case 0:
      text = wrap(rng, "curl -s -H '" + header + ":" + key + "' https://api.acme.io/v1/items", "bash");
      break;
    case 1:
      text = wrap(rng, "HTTP/1.1 request\n> GET /v1/items HTTP/1.1\n> Host: api.acme.io\n> " +
                           header + ": " + key + "\n> User-Agent: curl/8.4.0\n",
                  "");
      break;
    case 2:
      text = wrap(rng, "r = requests.get(url, headers={\"" + header + "\": \"" + key + "\"})",
                  "python");
      break;
    case 3:
      text = wrap(rng, "req.Header.Set(\"" + header + "\", \"" + key + "\")", "go");
      break;
    case 4:
      text = wrap(rng, "http GET api.acme.io/v1/items " + header + ":" + key, "bash");
      break;
    case 5:
      text = wrap(rng, "wget --header=\"" + header + ": " + key + "\" https://api.acme.io/export",
                  "bash");
      break;
    case 6:
      text = wrap(rng, "{\"header\": [{\"key\": \"" + header + "\", \"value\": \"" + key +
                           "\", \"type\": \"text\"}]}",
                  "json");
      break;
    default:
      text = wrap(rng, "fetch(url, { headers: { '" + header + "': '" + key + "' } })", "js");
      break;
  }
  return message("api_header_varied", text, {key}, "API_KEY_REDACTED");
}

// --- Quoted values with spaces; values ending in punctuation ---

std::string passphrase(Rng& rng) {
  static const Strings kWords = {"correct", "horse", "battery", "staple", "blue",   "lantern",
                                 "quiet",   "river", "p@ss",    "w0rd",   "Tango9", "m00n"};
  std::string out = rng.pick(kWords);
  const std::size_t n = rng.between(2, 4);
  for (std::size_t i = 0; i < n; ++i) out += " " + rng.pick(kWords);
  if (rng.chance(0.5)) out += " " + rng.chars(kDigits, rng.between(1, 3));
  return out;
}

CorpusMessage quoted_spaces(Rng& rng) {
  const std::string v = passphrase(rng);
  const std::string key = rng.pick(Strings{"password", "passphrase", "db_password", "DB_PASSWORD",
                                           "adminPassword", "secret"});
  std::string text;
  switch (rng.below(5)) {
    case 0:
      text = wrap(rng, key + ": \"" + v + "\"\n", "yaml");
      break;
    case 1:
      text = wrap(rng, "{\"" + key + "\": \"" + v + "\"}", "json");
      break;
    case 2:
      text = wrap(rng, key + "=\"" + v + "\"\n", "bash");
      break;
    case 3:
      text = wrap(rng, key + " = '" + v + "'\n", "python");
      break;
    default:
      text = wrap(rng, "[auth]\n" + key + " = \"" + v + "\"\n", "toml");
      break;
  }
  return message("quoted_spaces", text, {v}, key == "secret" ? "SECRET_REDACTED" : "PASSWORD_REDACTED");
}

// The fragment that must not survive is the placeholder followed by the value's last byte: the
// punctuation is part of the password, and leaving it beside the placeholder leaks it.
CorpusMessage punctuation_end(Rng& rng) {
  const std::string punct = rng.pick(Strings{"!", ".", "?", "!!", "#", ")", ";", ","});
  const std::string v = fake_password(rng, "'\"`") + punct;
  const std::string key = rng.pick(Strings{"password", "DB_PASSWORD", "passwd", "admin_password"});
  std::string text;
  switch (rng.below(4)) {
    case 0:
      text = wrap(rng, key + "=" + v + "\nDB_HOST=db.internal\n", "bash");
      break;
    case 1:
      text = wrap(rng, "db:\n  " + key + ": " + v + "\n  port: 5432\n", "yaml");
      break;
    case 2:
      text = wrap(rng, "[mysql]\n" + key + " = " + v + "\n", "ini");
      break;
    default:
      text = wrap(rng, key + "=" + v, "");
      break;
  }
  return message("punctuation_end", text, {v, "PASSWORD_REDACTED" + punct}, "PASSWORD_REDACTED");
}

// --- AWS secret access keys laid out as AWS lays them out ---

CorpusMessage aws_layouts(Rng& rng) {
  const FakeSecret id = make_token("aws_access_key_id", rng);
  const std::string secret = rng.chars(kUpper, 1) + rng.chars(kLower, 1) + rng.chars(kDigits, 1) +
                             rng.chars(kBase64, 37);
  std::string text;
  switch (rng.below(7)) {
    case 0:  // the console's CSV download
      text = wrap(rng, "Access key ID,Secret access key\n" + id.value + "," + secret + "\n", "csv");
      break;
    case 1:
      text = wrap(rng, "User name,Password,Access key ID,Secret access key,Console login link\n" +
                           who(rng) + ",," + id.value + "," + secret +
                           ",https://acme.signin.aws.amazon.com/console\n",
                  "csv");
      break;
    case 2:  // a profile whose id sits lines away
      text = wrap(rng, "[profile-" + rng.chars(kLower, 4) + "]\nregion = us-east-1\noutput = json\n"
                       "aws_secret_access_key=" + secret + "\n",
                  "ini");
      break;
    case 3:  // aws iam create-access-key
      text = wrap(rng, "{\n    \"AccessKey\": {\n        \"UserName\": \"" + who(rng) +
                           "\",\n        \"AccessKeyId\": \"" + id.value +
                           "\",\n        \"Status\": \"Active\",\n        \"SecretAccessKey\": \"" +
                           secret + "\",\n        \"CreateDate\": \"2024-05-01T10:00:00Z\"\n    }\n}",
                  "json");
      break;
    case 4:  // --output text
      text = wrap(rng, "ACCESSKEY\t" + id.value + "\t2024-05-01T10:00:00Z\t" + secret + "\tActive\t" +
                           who(rng) + "\n",
                  "");
      break;
    case 5:  // aws configure transcript
      text = wrap(rng, "$ aws configure\nAWS Access Key ID [None]: " + id.value +
                           "\nAWS Secret Access Key [None]: " + secret +
                           "\nDefault region name [None]: eu-west-1\n",
                  "");
      break;
    default:
      text = wrap(rng, "s3 = boto3.client('s3', aws_access_key_id='" + id.value +
                           "',\n    aws_secret_access_key='" + secret + "')",
                  "python");
      break;
  }
  return message("aws_layouts", text, {secret}, "AWS_KEY_REDACTED");
}

// ===================== look-alikes =====================

std::string prose_mentions(Rng& rng) {
  const std::string p = place(rng);
  return rng.pick(Strings{
      "the db password is in 1Password under " + p + ", ask Dana if you can't see it",
      "log in with your SSO account, there is no separate password for " + p,
      "pw for " + p + ": ask in #ops, don't paste it here",
      "The password for " + p + " is stored in Vault at secret/data/" + rng.chars(kLower, 5),
      "the password is the same as staging, I didn't change it",
      "Password for " + p + " was rotated yesterday; the old one no longer works.",
      "Username: " + who(rng) + "\nPassword: (see the vault)\nURL: https://grafana.acme.io",
      "the password is wrong, I get 401 every time",
      "you can ssh in as " + who(rng) + ", the password is whatever you set in step 2",
      "Use a passphrase of at least four words as the password for new accounts.",
      "password reset link expired, can you send a new one?",
      "the root password on " + p + " should be rotated every 90 days",
      "PW: same as before",
      "I changed the " + p + " password, it's in the usual place",
      "pass for " + p + " = the one from the onboarding doc",
  });
}

std::string password_key_lookalikes(Rng& rng) {
  return wrap(rng, rng.pick(Strings{
                       "PWD=/home/" + who(rng) + "/src/app\nOLDPWD=/home/" + who(rng),
                       "db_pass: ${DB_PASS}\n",
                       "passphrase: <your passphrase>\n",
                       "{\"pass\": " + rng.chars(kDigits, 3) + ", \"fail\": 2, \"skip\": 0}",
                       "pass_rate: 0." + rng.chars(kDigits, 2) + "\n",
                       "./backup --password-file=/run/secrets/db_pass --user " + who(rng),
                       "mysql -h db.internal -u " + who(rng) + " -p orders",
                       "docker run -p 8080:8080 -p 5432:5432 postgres:16",
                       "pass: true\n",
                       "<add key=\"DbPass\" value=\"\" />",
                       "[db]\npassphrase = \"\"\nport = 5432\n",
                       "openssl pkcs12 -export -in c.pem -out c.p12 -passout env:P12_PASS",
                       "PGPASSWORD=$(cat ~/.pgpass) psql -h db -U app",
                       "$pass = $_POST['password'];\n",
                   }),
              "");
}

std::string env_lookalikes(Rng& rng) {
  const std::string uuid = rng.chars(kHex, 8) + "-" + rng.chars(kHex, 4) + "-4" + rng.chars(kHex, 3) +
                           "-a" + rng.chars(kHex, 3) + "-" + rng.chars(kHex, 12);
  const std::string line = rng.pick(Strings{
      "PUBLIC_KEY_PATH=/etc/keys/pub.pem",
      "CACHE_KEY=user-profile-v2",
      "SORT_KEY=created_at",
      "MAX_TOKENS=4096",
      "TOKEN_TTL=3600",
      "PRIMARY_KEY=id",
      "SECRET_NAME=prod/db/creds",
      "KEY_VAULT_NAME=acme-kv-" + rng.chars(kLower, 4),
      "BUILD_SHA=" + rng.chars(kHex, 40),
      "REQUEST_ID=" + uuid,
      "JWT_SECRET=changeme",
      "API_TOKEN=<your-token>",
      "SECRET_KEY=${SECRET_KEY}",
      "AUTH_TOKEN=xxxxxxxxxxxxxxxx",
      "STRIPE_KEY=",
      "WEBHOOK_SECRET=\"\"",
      "CSRF_TOKEN_HEADER=X-CSRF-Token",
      "REDIS_KEY_PREFIX=acme:cache:",
      "ENCRYPTION_KEY_VERSION=" + rng.chars(kDigits, 1),
      "SMTP_PASS_FILE=/run/secrets/smtp",
      "GPG_KEY_ID=" + rng.chars("0123456789ABCDEF", 16),
      "SESSION_SECRET_ROTATION_DAYS=30",
  });
  return wrap(rng, "NODE_ENV=production\n" + line + "\nPORT=3000\n", rng.chance(0.5) ? "env" : "");
}

std::string twilio_lookalikes(Rng& rng) {
  const std::string sid = "AC" + rng.chars(kHex, 32);
  return rng.pick(Strings{
      "TWILIO_ACCOUNT_SID=" + sid + "\nTWILIO_AUTH_TOKEN=${TWILIO_AUTH_TOKEN}\n",
      "Twilio webhook failed, trace_id=" + rng.chars(kHex, 32) + ", retrying",
      "Twilio message SID SM" + rng.chars(kHex, 32) + " was delivered",
      "md5 of the Twilio payload: " + rng.chars(kHex, 32),
      "client = Client(\"" + sid + "\", os.environ[\"TWILIO_AUTH_TOKEN\"])",
      "twilio call sid CA" + rng.chars(kHex, 32) + " lasted 42s",
  });
}

std::string azure_lookalikes(Rng& rng) {
  const std::string b64 = base64(rng.bytes(64));
  return rng.pick(Strings{
      "\"integrity\": \"sha512-" + b64 + "\"",
      "az storage blob upload --account-name acme --account-key \"$AZURE_STORAGE_KEY\" -f db.bak",
      "{\"keyName\": \"key1\", \"permissions\": \"FULL\", \"value\": \"<storage-account-key>\"}",
      "storage_account_access_key = azurerm_storage_account.main.primary_access_key",
      "Thumbprint: " + rng.chars("0123456789ABCDEF", 40),
  });
}

std::string header_lookalikes(Rng& rng) {
  const std::string uuid = rng.chars(kHex, 8) + "-" + rng.chars(kHex, 4) + "-4" + rng.chars(kHex, 3) +
                           "-a" + rng.chars(kHex, 3) + "-" + rng.chars(kHex, 12);
  return wrap(rng, rng.pick(Strings{
                       "curl -H 'X-Request-Id: " + uuid + "' https://api.acme.io/v1/items",
                       "> X-Correlation-ID: " + uuid + "\n> Accept: */*\n",
                       "If-None-Match: \"" + rng.chars(kHex, 32) + "\"",
                       "curl -H \"X-API-Key: $API_KEY\" https://api.acme.io/v1/items",
                       "curl -H 'X-API-Key: <your api key>' https://api.acme.io/v1/items",
                       "headers: { 'apikey': process.env.SUPABASE_KEY }",
                       "X-Api-Version: 2024-01-01",
                       "req.Header.Set(\"X-Auth-Token\", token)",
                       "ETag: W/\"" + rng.chars(kHex, 40) + "\"",
                   }),
              "");
}

std::string quoted_lookalikes(Rng& rng) {
  return wrap(rng, rng.pick(Strings{
                       "{\"password\": \"Enter your password\", \"username\": \"User name\"}",
                       "password: \"********\"\n",
                       "\"passphrase\": \"Passphrase (optional)\"",
                       "password: \"Password must be at least 12 characters.\"\n",
                       "password: \"<the admin password>\"\n",
                       "{\"password\": \"Mot de passe\", \"login\": \"Connexion\"}",
                       "password_hint: \"the name of your first pet\"\n",
                       "DB_PASSWORD=\"\"\n",
                   }),
              "");
}

std::string aws_lookalikes(Rng& rng) {
  return wrap(rng, rng.pick(Strings{
                       "aws_secret_access_key = <YOUR_SECRET_ACCESS_KEY>\n",
                       "Access key ID,Secret access key\n",
                       "\"SecretAccessKey\": \"****************************************\"",
                       "AWS Secret Access Key [****************" + rng.chars(kUpper, 4) + "]: \n",
                       "x-amz-id-2: " + base64(rng.bytes(57)),
                       "\"ETag\": \"\\\"" + rng.chars(kHex, 32) + "\\\"\"",
                   }),
              "");
}

}  // namespace

std::vector<std::pair<std::string, std::function<CorpusMessage(Rng&)>>>
contextual_positive_makers() {
  return {{"password_prose_varied", password_prose_varied},
          {"password_key_varied", password_key_varied},
          {"env_generic_secret", env_generic_secret},
          {"twilio_auth_token", twilio_auth_token},
          {"azure_storage_framed", azure_storage_framed},
          {"api_header_varied", api_header_varied},
          {"quoted_spaces", quoted_spaces},
          {"punctuation_end", punctuation_end},
          {"aws_layouts", aws_layouts}};
}

std::vector<std::pair<std::string, std::function<std::string(Rng&)>>>
contextual_negative_makers() {
  return {{"prose_mentions", prose_mentions},       {"password_key_lookalikes", password_key_lookalikes},
          {"env_lookalikes", env_lookalikes},       {"twilio_lookalikes", twilio_lookalikes},
          {"azure_lookalikes", azure_lookalikes},   {"header_lookalikes", header_lookalikes},
          {"quoted_lookalikes", quoted_lookalikes}, {"aws_lookalikes", aws_lookalikes}};
}

}  // namespace cb::test
