// Messages that contain exactly one fake credential of a given kind, in a varied context.
#include <functional>
#include <map>

#include "tests/redact/corpus.h"

namespace cb::test {
namespace {

using PositiveMaker = std::function<CorpusMessage(Rng&)>;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::string line;
  for (char c : text + "\n") {
    if (c != '\n') {
      line += c;
    } else if (!line.empty()) {
      out.push_back(line);
      line.clear();
    }
  }
  return out;
}

std::string replace_all(std::string text, std::string_view from, std::string_view to) {
  for (std::size_t pos = text.find(from); pos != std::string::npos;
       pos = text.find(from, pos + to.size())) {
    text.replace(pos, from.size(), to);
  }
  return text;
}

std::string host(Rng& rng) {
  return rng.pick(std::vector<std::string>{"db.internal", "10.0.3.17", "pg-prod.acme.io",
                                           "localhost", "mysql.staging.svc.cluster.local"});
}

std::string user(Rng& rng) {
  return rng.pick(
      std::vector<std::string>{"app", "admin", "deploy", "svc_orders", "root", "ci-bot"});
}

// A self-identifying token in a context picked from config, code, shell, HTTP, logs, prose.
CorpusMessage token_message(std::string_view kind, Rng& rng) {
  const FakeSecret s = make_token(kind, rng);
  const std::string& v = s.value;
  std::string key = rng.pick(s.key_names);
  std::string text;
  switch (rng.below(12)) {
    case 0:
    case 1:
    case 2:
    case 3:
      text = wrap(rng, assignment(rng, key, v), "yaml");
      break;
    case 4:
      text = wrap(rng,
                  "curl -sS https://api.example.com/v1/items \\\n  -H \"Authorization: Bearer " +
                      v + "\" \\\n  -H 'Content-Type: application/json'",
                  "bash");
      break;
    case 5:
      text = wrap(rng,
                  "GET /v2/repos HTTP/1.1\r\nHost: api.example.com\r\nAuthorization: token " + v +
                      "\r\nAccept: */*\r\n",
                  "http");
      break;
    case 6:
      text = wrap(rng,
                  "2024-05-0" + std::to_string(rng.between(1, 9)) +
                      "T12:00:01Z INFO client initialised with credential " + v +
                      " (expires in 3600s)\n2024-05-01T12:00:02Z WARN retrying request_id=" +
                      rng.chars(kHex, 32),
                  "");
      break;
    case 7:
      text = "Use `" + v + "` for the staging environment, it has read access only.";
      break;
    case 8:
      text = rng.pick(std::vector<std::string>{"Here is the key: ", "try this one -> ",
                                               "token was ", "I used "}) +
             v + rng.pick(std::vector<std::string>{".", "!", ", thanks.", ")", ";", "?", ":"});
      break;
    case 9:
      text = wrap(rng, "python deploy.py --token " + v + " --env prod", "bash");
      break;
    case 10:
      text = "See https://api.example.com/v1/export?access_token=" + v + "&format=csv";
      break;
    default:
      text = wrap(rng, "client = SomeClient(\n    api_key=\"" + v + "\",\n    timeout=30,\n)",
                  "python");
      break;
  }
  if (kind == "telegram_bot_token" && rng.chance(0.4)) {
    text = "curl https://api.telegram.org/bot" + v + "/getUpdates";
  }
  return message(std::string(kind), text, s.hidden, s.placeholder);
}

CorpusMessage pem_message(Rng& rng) {
  static const std::vector<std::string> kTypes = {"",           "RSA ", "EC ", "OPENSSH ",
                                                  "ENCRYPTED ", "DSA ", "PGP "};
  const std::string pem = fake_pem_private_key(rng, rng.pick(kTypes));
  std::vector<std::string> hidden;
  for (const std::string& line : lines_of(pem)) {
    if (line.size() >= 16 && line.find("-----") == std::string::npos) hidden.push_back(line);
  }
  const std::string escaped = replace_all(pem, "\n", "\\n");
  std::string text;
  switch (rng.below(7)) {
    case 0:
      text = wrap(rng, pem, "text");
      break;
    case 1:
      text = wrap(rng, "{\"type\": \"ssh\", \"private_key\": \"" + escaped + "\\n\"}", "json");
      break;
    case 2:
      text = wrap(rng,
                  "{\"tool\": \"deploy\", \"input\": \"{\\\"key\\\": \\\"" +
                      replace_all(pem, "\n", "\\\\n") + "\\\"}\"}",
                  "json");
      break;
    case 3:
      text =
          wrap(rng, "tls:\n  key: |\n    " + replace_all(pem, "\n", "\n    ") + "\n  port: 443\n",
               "yaml");
      break;
    case 4:
      text = "The key (flattened by the form): " + replace_all(pem, "\n", " ") +
             " - please fix the newlines.";
      break;
    case 5:
      text = wrap(rng, "SSH_PRIVATE_KEY=\"" + escaped + "\"\n", "bash");
      break;
    default:
      text = wrap(rng, "resource \"tls_key\" \"k\" {\n  pem = <<EOT\n" + pem + "\nEOT\n}", "hcl");
      break;
  }
  return message("private_key", text, hidden, "PRIVATE_KEY_REDACTED");
}

CorpusMessage gcp_message(Rng& rng) {
  const std::string pem = fake_pem_private_key(rng, "");
  std::vector<std::string> hidden;
  for (const std::string& line : lines_of(pem)) {
    if (line.size() >= 16 && line.find("-----") == std::string::npos) hidden.push_back(line);
  }
  const std::string project = "acme-" + rng.chars(kLower, 6) + "-" + rng.chars(kDigits, 6);
  const std::string json =
      "{\n  \"type\": \"service_account\",\n  \"project_id\": \"" + project +
      "\",\n  \"private_key_id\": \"" + rng.chars(kHex, 40) + "\",\n  \"private_key\": \"" +
      replace_all(pem, "\n", "\\n") + "\\n\",\n  \"client_email\": \"ci@" + project +
      ".iam.gserviceaccount.com\",\n  \"client_id\": \"" + rng.chars(kDigits, 21) +
      "\",\n  \"auth_uri\": \"https://accounts.google.com/o/oauth2/auth\",\n  \"token_uri\": "
      "\"https://oauth2.googleapis.com/token\"\n}";
  std::string text;
  switch (rng.below(3)) {
    case 0:
      text = wrap(rng, json, "json");
      break;
    case 1:
      text = wrap(rng, "GOOGLE_CREDENTIALS='" + replace_all(json, "\n", "") + "'", "bash");
      break;
    default:
      text = wrap(
          rng,
          "{\"secret\": \"gcp-sa\", \"value\": \"" +
              replace_all(replace_all(replace_all(json, "\\", "\\\\"), "\"", "\\\""), "\n", "\\n") +
              "\"}",
          "json");
      break;
  }
  return message("gcp_service_account", text, hidden, "PRIVATE_KEY_REDACTED");
}

std::string aws_secret(Rng& rng) {
  return rng.chars(kUpper, 1) + rng.chars(kLower, 1) + rng.chars(kDigits, 1) +
         rng.chars(kBase64, 37);
}

CorpusMessage aws_secret_message(Rng& rng) {
  const FakeSecret id = make_token("aws_access_key_id", rng);
  const std::string secret = aws_secret(rng);
  std::string text;
  switch (rng.below(5)) {
    case 0:
      text = wrap(rng,
                  "[default]\naws_access_key_id = " + id.value +
                      "\naws_secret_access_key = " + secret + "\nregion = eu-west-1\n",
                  "ini");
      break;
    case 1:
      text = wrap(rng,
                  "{\n  \"Credentials\": {\n    \"AccessKeyId\": \"" + id.value +
                      "\",\n    \"SecretAccessKey\": \"" + secret +
                      "\",\n    \"Expiration\": \"2024-05-01T13:00:00Z\"\n  }\n}",
                  "json");
      break;
    case 2:
      text = wrap(rng, assignment(rng, "aws_secret_access_key", secret), "bash");
      break;
    case 3:
      text = wrap(rng,
                  "User name,Access key ID,Secret access key\nci," + id.value + "," + secret + "\n",
                  "csv");
      break;
    default:
      text = wrap(rng, "aws configure set aws_secret_access_key " + secret + " --profile prod",
                  "bash");
      break;
  }
  return message("aws_secret_access_key", text, {secret}, "AWS_KEY_REDACTED");
}

CorpusMessage azure_storage_message(Rng& rng) {
  const std::string key = rng.chars(kBase64, 86) + "==";
  const std::string account = "acme" + rng.chars(kLower, 6);
  const std::string cs = "DefaultEndpointsProtocol=https;AccountName=" + account +
                         ";AccountKey=" + key + ";EndpointSuffix=core.windows.net";
  std::string text;
  switch (rng.below(3)) {
    case 0:
      text = wrap(rng, "AZURE_STORAGE_CONNECTION_STRING=\"" + cs + "\"", "bash");
      break;
    case 1:
      text =
          wrap(rng, "{\n  \"ConnectionStrings\": {\n    \"Blob\": \"" + cs + "\"\n  }\n}", "json");
      break;
    default:
      text = wrap(rng, "AZURE_STORAGE_ACCOUNT=" + account + "\nAZURE_STORAGE_KEY=" + key + "\n",
                  "bash");
      break;
  }
  return message("azure_storage_key", text, {key}, "AZURE_STORAGE_KEY_REDACTED");
}

CorpusMessage azure_sas_message(Rng& rng) {
  const std::string sig =
      rng.chars(kAlnum, 20) + "%2B" + rng.chars(kAlnum, 10) + "%2F" + rng.chars(kAlnum, 9) + "%3D";
  const std::string url = "https://acme" + rng.chars(kLower, 5) +
                          ".blob.core.windows.net/backups/db-" + rng.chars(kDigits, 8) +
                          ".bak?sv=2022-11-02&ss=b&srt=co&sp=rl&se=2030-01-01T00:00:00Z&st=2024-01-"
                          "01T00:00:00Z&spr=https&sig=" +
                          sig;
  std::string text;
  switch (rng.below(3)) {
    case 0:
      text = wrap(rng, "azcopy copy \"" + url + "\" ./restore/", "bash");
      break;
    case 1:
      text = "Download link (valid for a year): " + url + " - grab it before Friday.";
      break;
    default:
      text = wrap(rng, assignment(rng, "backup_url", url), "yaml");
      break;
  }
  return message("azure_sas", text, {sig}, "AZURE_SAS_REDACTED");
}

CorpusMessage kubeconfig_message(Rng& rng) {
  const std::string key_data = base64(fake_pem_private_key(rng, "RSA "));
  const std::string cert = base64("-----BEGIN CERTIFICATE-----\n" + fake_pem_body(rng, 6) +
                                  "\n-----END CERTIFICATE-----");
  const bool token = rng.chance(0.4);
  const std::string token_value = rng.chance(0.5) ? fake_jwt(rng) : rng.chars(kAlnum, 40);
  std::string yaml =
      "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    certificate-authority-data: " +
      cert + "\n    server: https://10.0.0.1:6443\n  name: prod\nusers:\n- name: admin\n  user:\n";
  yaml +=
      token ? "    token: " + token_value + "\n"
            : "    client-certificate-data: " + cert + "\n    client-key-data: " + key_data + "\n";
  return message("kubeconfig", wrap(rng, yaml, "yaml"),
                 {token ? token_value : key_data.substr(0, 200)},
                 token ? "SECRET_REDACTED" : "PRIVATE_KEY_REDACTED");
}

CorpusMessage kubernetes_secret_message(Rng& rng) {
  const std::string password = base64(fake_password(rng));
  const std::string api = base64(rng.chars(kAlnum, 32));
  const std::string user_b64 = base64(user(rng) + "-" + rng.chars(kLower, 4));
  std::string text;
  if (rng.chance(0.7)) {
    text = wrap(rng,
                "apiVersion: v1\nkind: Secret\nmetadata:\n  name: app-credentials\n  namespace: "
                "prod\ntype: Opaque\ndata:\n  DB_USER: " +
                    user_b64 + "\n  DB_PASSWORD: " + password + "\n  API_TOKEN: " + api + "\n",
                "yaml");
  } else {
    text = wrap(
        rng,
        "{\n  \"apiVersion\": \"v1\",\n  \"data\": {\n    \"DB_USER\": \"" + user_b64 +
            "\",\n    \"DB_PASSWORD\": \"" + password + "\",\n    \"API_TOKEN\": \"" + api +
            "\"\n  },\n  \"kind\": \"Secret\",\n  \"metadata\": {\"name\": \"app-credentials\"}\n}",
        "json");
  }
  return message("kubernetes_secret", text, {password, api, user_b64},
                 "KUBERNETES_SECRET_REDACTED");
}

CorpusMessage docker_auth_message(Rng& rng) {
  const std::string auth = base64(user(rng) + ":" + fake_password(rng, ":"));
  const std::string registry = rng.pick(
      std::vector<std::string>{"https://index.docker.io/v1/", "ghcr.io", "registry.gitlab.com"});
  std::string json = "{\n  \"auths\": {\n    \"" + registry + "\": {\n      \"auth\": \"" + auth +
                     "\"\n    }\n  }\n}";
  if (rng.chance(0.3)) json = replace_all(replace_all(json, "\"", "\\\""), "\n", "\\n");
  return message("docker_auth", wrap(rng, json, "json"), {auth}, "DOCKER_AUTH_REDACTED");
}

CorpusMessage url_password_message(Rng& rng) {
  const std::string pw = fake_password(rng, "@#%/:?");
  const std::string scheme = rng.pick(std::vector<std::string>{
      "postgres", "postgresql", "mysql", "mongodb+srv", "redis", "amqp", "https"});
  const std::string u = rng.chance(0.1) && scheme == "redis" ? "" : user(rng);
  const std::string url = scheme + "://" + u + ":" + pw + "@" + host(rng) + ":" +
                          std::to_string(rng.between(1000, 9999)) + "/app";
  std::string text;
  switch (rng.below(4)) {
    case 0:
      text = wrap(rng, "DATABASE_URL=" + url + "\n", "bash");
      break;
    case 1:
      text = wrap(rng, "engine = create_engine(\"" + url + "\", pool_size=5)", "python");
      break;
    case 2:
      text = "connecting to " + url + " ... timed out after 30s";
      break;
    default:
      text = wrap(rng, "{\"db\": {\"url\": \"" + url + "\"}}", "json");
      break;
  }
  return message("url_password", text, {":" + pw + "@"}, "PASSWORD_REDACTED");
}

CorpusMessage connection_string_message(Rng& rng) {
  const std::string pw = fake_password(rng, ";&={} ");
  std::string cs;
  switch (rng.below(4)) {
    case 0:
      cs = "Server=tcp:acme.database.windows.net,1433;Initial Catalog=orders;User ID=" + user(rng) +
           ";Password=" + pw + ";Encrypt=True;";
      break;
    case 1:
      cs = "host=" + host(rng) + " port=5432 user=" + user(rng) + " password=" + pw +
           " dbname=app sslmode=require";
      break;
    case 2:
      cs = "jdbc:postgresql://" + host(rng) + ":5432/app?user=" + user(rng) + "&password=" + pw +
           "&ssl=true";
      break;
    default:
      cs = "Driver={ODBC Driver 18 for SQL Server};Server=db;Uid=" + user(rng) + ";Pwd=" + pw + ";";
      break;
  }
  return message("connection_string", wrap(rng, "\"ConnectionString\": \"" + cs + "\"", "json"),
                 {pw}, "PASSWORD_REDACTED");
}

CorpusMessage curl_password_message(Rng& rng) {
  const std::string pw = fake_password(rng, "'\":");
  std::string cmd;
  switch (rng.below(4)) {
    case 0:
      cmd = "curl -u " + user(rng) + ":" + pw + " https://jenkins.acme.io/api/json";
      break;
    case 1:
      cmd = "curl -X POST --user \"" + user(rng) + ":" + pw +
            "\" -d @body.json https://api.acme.io/v1/jobs";
      break;
    case 2:
      cmd = "wget --user=" + user(rng) + " --password=" + pw + " https://files.acme.io/dump.sql.gz";
      break;
    default:
      cmd = "http -a " + user(rng) + ":" + pw + " POST https://api.acme.io/v1/jobs";
      break;
  }
  return message("curl_password", wrap(rng, cmd, "bash"), {pw}, "PASSWORD_REDACTED");
}

CorpusMessage basic_auth_message(Rng& rng) {
  const std::string b64 = base64(user(rng) + ":" + fake_password(rng, ":"));
  std::string text;
  switch (rng.below(3)) {
    case 0:
      text = wrap(rng, "curl -H \"Authorization: Basic " + b64 + "\" https://api.acme.io/health",
                  "bash");
      break;
    case 1:
      text = wrap(rng,
                  "POST /token HTTP/1.1\r\nHost: auth.acme.io\r\nAuthorization: Basic " + b64 +
                      "\r\n\r\ngrant_type=client_credentials",
                  "http");
      break;
    default:
      text = wrap(rng, "headers = {\"Authorization\": \"Basic " + b64 + "\"}", "python");
      break;
  }
  return message("basic_auth", text, {b64}, "BASIC_AUTH_REDACTED");
}

CorpusMessage bearer_message(Rng& rng) {
  const std::string token =
      rng.chance(0.5) ? rng.chars(kBase64Url, rng.between(32, 120)) : fake_generic_secret(rng);
  std::string text;
  switch (rng.below(4)) {
    case 0:
      text = wrap(rng, "curl https://api.acme.io/v1/me -H 'Authorization: Bearer " + token + "'",
                  "bash");
      break;
    case 1:
      text = wrap(
          rng, "GET /v1/me HTTP/1.1\nAuthorization: Bearer " + token + "\nAccept: application/json",
          "http");
      break;
    case 2:
      text = wrap(rng, "fetch(url, { headers: { Authorization: `Bearer " + token + "` } });", "js");
      break;
    default:
      text = wrap(rng, "requests.get(url, headers={\"Authorization\": \"Bearer " + token + "\"})",
                  "python");
      break;
  }
  return message("bearer_token", text, {token}, "BEARER_TOKEN_REDACTED");
}

CorpusMessage api_key_header_message(Rng& rng) {
  const std::string key = fake_generic_secret(rng);
  const std::string header =
      rng.pick(std::vector<std::string>{"X-API-Key", "x-api-key", "Api-Key", "X-Auth-Token",
                                        "Ocp-Apim-Subscription-Key", "X-Api-Token", "apikey"});
  std::string text;
  switch (rng.below(3)) {
    case 0:
      text = wrap(rng, "curl -H \"" + header + ": " + key + "\" https://api.acme.io/v2/search?q=x",
                  "bash");
      break;
    case 1:
      text = wrap(rng,
                  "GET /v2/search HTTP/1.1\r\nHost: api.acme.io\r\n" + header + ": " + key + "\r\n",
                  "http");
      break;
    default:
      text = wrap(rng, "axios.get(url, { headers: { '" + header + "': '" + key + "' } })", "js");
      break;
  }
  return message("api_key_header", text, {key}, "API_KEY_REDACTED");
}

CorpusMessage keyed_message(Rng& rng, std::string kind, const std::vector<std::string>& keys,
                            const std::string& value, std::string placeholder) {
  return message(std::move(kind), wrap(rng, assignment(rng, rng.pick(keys), value), "yaml"),
                 {value}, std::move(placeholder));
}

CorpusMessage password_prose_message(Rng& rng) {
  const std::string pw = fake_password(rng, "'\"`*");
  std::string text;
  switch (rng.below(6)) {
    case 0:
      text = "my password is " + pw + " if you need to log in.";
      break;
    case 1:
      text = "The password for the staging db is " + pw + ".";
      break;
    case 2:
      text = "I reset the admin password to " + pw + ", please change it after.";
      break;
    case 3:
      text = "Use " + pw + " as the password for now!";
      break;
    case 4:
      text = "FYI the new passphrase is `" + pw + "`";
      break;
    default:
      text = "root password was " + pw + "; rotated since";
      break;
  }
  return message("password_prose", text, {pw}, "PASSWORD_REDACTED");
}

CorpusMessage webhook_message(Rng& rng, bool slack) {
  const std::string secret =
      slack
          ? "T" + rng.chars("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 10) + "/B" +
                rng.chars("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 10) + "/" + rng.chars(kAlnum, 24)
          : rng.chars(kBase64Url, 68);
  const std::string url = slack ? "https://hooks.slack.com/services/" + secret
                                : "https://discord.com/api/webhooks/" + rng.chars("123456789", 1) +
                                      rng.chars(kDigits, 17) + "/" + secret;
  std::string text;
  switch (rng.below(3)) {
    case 0:
      text = wrap(
          rng,
          "curl -X POST -H 'Content-type: application/json' --data '{\"text\":\"deploy done\"}' " +
              url,
          "bash");
      break;
    case 1:
      text =
          wrap(rng, assignment(rng, slack ? "slack_webhook_url" : "discord_webhook", url), "yaml");
      break;
    default:
      text = "Alerts go to " + url + ".";
      break;
  }
  return message(slack ? "slack_webhook" : "discord_webhook", text, {secret},
                 slack ? "SLACK_WEBHOOK_REDACTED" : "DISCORD_WEBHOOK_REDACTED");
}

const std::map<std::string, PositiveMaker>& positive_makers() {
  static const std::map<std::string, PositiveMaker> table = [] {
    std::map<std::string, PositiveMaker> m;
    for (const std::string& kind : token_kinds()) {
      m[kind] = [kind](Rng& rng) { return token_message(kind, rng); };
    }
    m["private_key"] = pem_message;
    m["gcp_service_account"] = gcp_message;
    m["aws_secret_access_key"] = aws_secret_message;
    m["azure_storage_key"] = azure_storage_message;
    m["azure_sas"] = azure_sas_message;
    m["kubeconfig"] = kubeconfig_message;
    m["kubernetes_secret"] = kubernetes_secret_message;
    m["docker_auth"] = docker_auth_message;
    m["url_password"] = url_password_message;
    m["connection_string"] = connection_string_message;
    m["curl_password"] = curl_password_message;
    m["basic_auth"] = basic_auth_message;
    m["bearer_token"] = bearer_message;
    m["api_key_header"] = api_key_header_message;
    m["password_prose"] = password_prose_message;
    m["slack_webhook"] = [](Rng& rng) { return webhook_message(rng, true); };
    m["discord_webhook"] = [](Rng& rng) { return webhook_message(rng, false); };
    m["password_assignment"] = [](Rng& rng) {
      return keyed_message(
          rng, "password_assignment",
          {"password", "db_password", "admin_password", "smtp_pass", "passwd", "redis_password",
           "mysql_root_password", "passphrase", "PGPASSWORD", "keystore_password"},
          fake_password(rng, "'\"`\\"), "PASSWORD_REDACTED");
    };
    m["secret_assignment"] = [](Rng& rng) {
      return keyed_message(
          rng, "secret_assignment",
          {"client_secret", "secret_key", "auth_token", "access_token", "refresh_token",
           "webhook_secret", "jwt_secret", "session_secret", "signing_key", "encryption_key",
           "app_secret", "consumer_secret", "slack_signing_secret", "twilio_auth_token"},
          fake_generic_secret(rng), "SECRET_REDACTED");
    };
    m["api_key_assignment"] = [](Rng& rng) {
      return keyed_message(rng, "api_key_assignment",
                           {"api_key", "x_api_key", "cohere_api_key", "mistral_api_key",
                            "algolia_api_key", "maps_api_key", "api_token", "datadog_api_key"},
                           fake_generic_secret(rng), "API_KEY_REDACTED");
    };
    for (auto& [kind, maker] : contextual_positive_makers()) m[kind] = maker;
    return m;
  }();
  return table;
}

}  // namespace

std::vector<std::string> positive_kinds() {
  std::vector<std::string> kinds;
  for (const auto& [kind, maker] : positive_makers()) kinds.push_back(kind);
  return kinds;
}

CorpusMessage make_positive(std::string_view kind, Rng& rng) {
  return positive_makers().at(std::string(kind))(rng);
}

}  // namespace cb::test
