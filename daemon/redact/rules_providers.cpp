// Vendor credential formats recognisable by their own shape: a fixed prefix (or structure) and a
// charset and length. Keywords are the prefixes; a match starts at its keyword unless the rule
// says otherwise (lookbehind).
#include "daemon/redact/checks.h"
#include "daemon/redact/keyword_gates.h"
#include "daemon/redact/locators.h"
#include "daemon/redact/rule.h"

namespace cb::redact {
namespace {

// A prefixed token: starts at its keyword, bounded on both sides by non-token bytes.
RuleSpec token(std::string name, std::string placeholder, std::string pattern,
               std::vector<std::string> prefixes, std::size_t max_length = 300) {
  RuleSpec spec;
  spec.name = std::move(name);
  spec.placeholder = std::move(placeholder);
  spec.pattern = std::move(pattern);
  spec.keywords = std::move(prefixes);
  spec.keywords_case_sensitive = true;
  spec.lookahead = max_length;
  spec.boundary = kBothBoundaries;
  spec.check = check_token;
  spec.label = "a vendor token format (prefix, charset and length)";
  return spec;
}

RuleSpec with_check(RuleSpec spec, Check check) {
  spec.check = check;
  return spec;
}

RuleSpec with_lookbehind(RuleSpec spec, std::size_t lookbehind) {
  spec.lookbehind = lookbehind;
  return spec;
}

// Separator between a key and its value in every config and code syntax we meet.
const std::string kSep = R"((?:\\*["'\x60])?\]?[ \t]{0,8}(?::=|=>|[:=]|[ \t])[ \t]{0,8}\\*["']?)";

}  // namespace

std::vector<RuleSpec> provider_rules() {
  std::vector<RuleSpec> rules;
  auto add = [&](RuleSpec spec) { rules.push_back(std::move(spec)); };

  // --- Cloud providers ---
  add(token("aws_access_key_id", "AWS_KEY_REDACTED", "(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}",
            {"AKIA", "ASIA", "ABIA", "ACCA"}, 20));
  {
    // The secret access key is 40 base64 bytes with no prefix: recognised by its key name, or
    // right after its access key id (credentials CSV, "id:secret").
    RuleSpec spec;
    spec.name = "aws_secret_access_key";
    spec.placeholder = "AWS_KEY_REDACTED";
    // "AWS Secret Access Key [None]: " is the prompt of `aws configure`.
    spec.pattern = std::string("(?i)(?:secret[_ -]?access[_ -]?key|aws[_-]?secret(?:[_-]?key)?)") +
                   R"((?:[ \t]*\[[^\]\n]{0,24}\])?)" + kSep + "[A-Za-z0-9/+]{40}";
    spec.keywords = {"secret_access_key", "secretaccesskey", "secret-access-key",
                     "secret access key", "aws_secret", "aws-secret", "awssecret"};
    spec.lookahead = 120;
    spec.check = check_aws_secret;
    spec.label = "40 base64 bytes under an AWS secret key name";
    add(spec);
    spec.pattern =
        R"((?:AKIA|ASIA)[A-Z2-7]{16}(?:[ \t]*[,:;|/][ \t]*|[ \t]+|\\t)(?:[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z?(?:[ \t]+|\\t))?\\*["']?[A-Za-z0-9/+]{40})";
    spec.keywords = {"AKIA", "ASIA"};
    spec.keywords_case_sensitive = true;
    spec.boundary = kLeftBoundary;
    spec.label = "40 base64 bytes right after an AWS access key id (CSV, id:secret, text output)";
    add(spec);
  }
  add(with_check(token("aws_session_token", "AWS_SESSION_TOKEN_REDACTED",
                       "(?:FwoGZXIvYXdz|FQoGZXIvYXdz|IQoJb3JpZ2lu)[A-Za-z0-9/+=%]{80,}",
                       {"FwoGZXIvYXdz", "FQoGZXIvYXdz", "IQoJb3JpZ2lu"}, 8192),
                 check_token));
  {
    RuleSpec spec;
    spec.name = "aws_session_token";
    spec.placeholder = "AWS_SESSION_TOKEN_REDACTED";
    spec.pattern =
        "(?i)(?:aws[_-]?|x-amz-)?(?:session|security)[_-]?token" + kSep + "[A-Za-z0-9/+=%]{100,}";
    spec.keywords = {"session_token",  "sessiontoken",  "session-token",
                     "security_token", "securitytoken", "security-token"};
    spec.lookbehind = 8;
    spec.lookahead = 8192;
    spec.check = check_token_value;
    add(spec);
  }
  add(token("google_api_key", "GOOGLE_API_KEY_REDACTED", "AIza[0-9A-Za-z_-]{35}", {"AIza"}, 39));
  add(token("google_oauth_secret", "GOOGLE_OAUTH_SECRET_REDACTED", "GOCSPX-[0-9A-Za-z_-]{28}",
            {"GOCSPX-"}, 35));
  add(token("google_oauth_token", "GOOGLE_OAUTH_TOKEN_REDACTED", R"(ya29\.[0-9A-Za-z_-]{30,})",
            {"ya29."}, 4096));
  add(token("google_oauth_token", "GOOGLE_OAUTH_TOKEN_REDACTED", "1//0[0-9A-Za-z_-]{40,}", {"1//0"},
            1024));
  {
    RuleSpec spec;
    spec.name = "azure_storage_key";
    spec.placeholder = "AZURE_STORAGE_KEY_REDACTED";
    spec.pattern =
        R"((?i)(?:AccountKey|SharedAccessKey|azure[_-]?storage[_-]?(?:account[_-]?)?(?:access[_-]?)?key))" +
        kSep + "[A-Za-z0-9+/]{40,}={0,2}";
    spec.keywords = {"accountkey", "sharedaccesskey", "azure_storage", "azure-storage",
                     "azurestorage"};
    spec.lookahead = 300;
    spec.check = check_token_value;
    add(spec);
  }
  {
    // The 64-byte key (88 base64 bytes) under the names the CLI, SDKs, PowerShell and Terraform
    // give it (--account-key, accountKey, -StorageAccountKey, storage_account_access_key), or as
    // "key1"/"key2" of `az storage account keys list`. The shape alone is also a sha512 digest,
    // so a bare one needs one of these names.
    RuleSpec spec;
    spec.name = "azure_storage_key";
    spec.placeholder = "AZURE_STORAGE_KEY_REDACTED";
    spec.pattern = R"((?i)(?:account[_-]?(?:access[_-]?)?key|access[_-]?key))" + kSep +
                   "[A-Za-z0-9+/]{86}==";
    spec.keywords = {"accountkey", "account-key", "account_key", "accountaccesskey",
                     "account_access_key", "account-access-key", "access_key", "access-key",
                     "accesskey"};
    spec.lookbehind = 0;
    spec.lookahead = 160;
    spec.check = check_token_value;
    spec.gate = gate_base64_key_after;
    spec.label = "an 88-byte base64 key under an account key name (--account-key, accountKey)";
    add(spec);
    spec.gate = nullptr;
    spec.label = "an 88-byte base64 key after key1 or key2 (az storage account keys list)";
    spec.pattern = R"((?s)key[12]\b.{0,120}?(?:^|[^A-Za-z0-9+/])([A-Za-z0-9+/]{86}==))";
    spec.keywords = {"key1", "key2"};
    spec.lookahead = 256;
    spec.check = check_token;
    spec.locate = locate_last_88;
    add(spec);
  }
  {
    // Twilio auth token: 32 hex with no prefix, after the account SID (AC + 32 hex) or the word
    // Twilio, within a few lines.
    RuleSpec spec;
    spec.name = "twilio_auth_token";
    spec.placeholder = "SECRET_REDACTED";
    spec.pattern = R"((?s)(?:AC[0-9a-f]{32}|(?i:twilio)).{0,160}?(?:^|[^A-Za-z0-9_])([0-9a-f]{32})(?:$|[^A-Za-z0-9_]))";
    spec.keywords = {"AC", "twilio", "Twilio", "TWILIO"};
    spec.keywords_case_sensitive = true;
    spec.lookahead = 256;
    spec.check = check_twilio;
    spec.gate = gate_twilio;
    spec.locate = locate_hex32_before_boundary;
    spec.label = "32 hex after a Twilio account SID or the word Twilio";
    add(spec);
  }
  {
    RuleSpec spec;
    spec.name = "azure_sas_signature";
    spec.placeholder = "AZURE_SAS_REDACTED";
    spec.pattern = R"([?&;]sig=([A-Za-z0-9%+/]{20,}(?:=|%3[Dd]){0,2}))";
    spec.keywords = {"sig="};
    spec.keywords_case_sensitive = true;
    spec.lookbehind = 1;
    spec.lookahead = 200;
    spec.boundary = kRightBoundary;
    spec.check = check_token;
    spec.locate = locate_after_sig;
    add(spec);
  }
  add(with_lookbehind(token("azure_client_secret", "AZURE_CLIENT_SECRET_REDACTED",
                            "[A-Za-z0-9_~.-]{3}[0-9]Q~[A-Za-z0-9_~.-]{31,34}", {"Q~"}, 38),
                      4));
  add(token("digitalocean_token", "DIGITALOCEAN_TOKEN_REDACTED", "do[por]_v1_[0-9a-f]{64}",
            {"dop_v1_", "doo_v1_", "dor_v1_"}, 71));
  add(token("heroku_key", "HEROKU_KEY_REDACTED", "HRKU-[A-Za-z0-9_-]{50,70}", {"HRKU-"}, 75));
  add(token("alibaba_access_key", "ALIBABA_KEY_REDACTED", "LTAI[A-Za-z0-9]{12,20}", {"LTAI"}, 24));
  add(token("tencent_secret_id", "TENCENT_KEY_REDACTED", "AKID[A-Za-z0-9]{32}", {"AKID"}, 36));
  add(token("flyio_token", "FLYIO_TOKEN_REDACTED",
            "(?:fo1_[A-Za-z0-9_-]{43}|fm[12][a-z]?_[A-Za-z0-9+/=_-]{100,})", {"fo1_", "fm1", "fm2"},
            4096));
  add(token("cloudflare_origin_ca_key", "CLOUDFLARE_KEY_REDACTED",
            "v1\\.0-[0-9a-f]{24}-[0-9a-f]{146}", {"v1.0-"}, 180));

  // --- Code hosting, registries, CI ---
  add(token("github_token", "GITHUB_TOKEN_REDACTED", "gh[pousr]_[A-Za-z0-9]{36,}",
            {"ghp_", "gho_", "ghu_", "ghs_", "ghr_"}, 255));
  add(token("github_token", "GITHUB_TOKEN_REDACTED", "github_pat_[A-Za-z0-9_]{60,}",
            {"github_pat_"}, 255));
  add(token(
      "gitlab_token", "GITLAB_TOKEN_REDACTED",
      R"((?:glpat|gldt|glrt|glptt|glsoat|glcbt|glffct|glimt|glagent|gloas|glft|glwt)-[0-9A-Za-z_-]{20,80}(?:\.[0-9a-z]{2}\.[0-9a-z]{7,10})?)",
      {"glpat-", "gldt-", "glrt-", "glptt-", "glsoat-", "glcbt-", "glffct-", "glimt-", "glagent-",
       "gloas-", "glft-", "glwt-"},
      110));
  add(token("gitlab_token", "GITLAB_TOKEN_REDACTED", "GR1348941[0-9A-Za-z_-]{20,40}", {"GR1348941"},
            50));
  add(token("npm_token", "NPM_TOKEN_REDACTED", "npm_[A-Za-z0-9]{36}", {"npm_"}, 40));
  {
    RuleSpec spec = token("npm_token", "NPM_TOKEN_REDACTED",
                          R"(_auth(?:Token)?[ \t]*=[ \t]*["']?([^\s"']{8,}))", {"_auth"}, 600);
    spec.keywords_case_sensitive = false;
    spec.boundary = kLeftBoundary;
    add(spec);
  }
  add(token("pypi_token", "PYPI_TOKEN_REDACTED", "pypi-Ag[A-Za-z0-9_-]{70,}", {"pypi-Ag"}, 4096));
  add(token("docker_hub_token", "DOCKER_HUB_TOKEN_REDACTED", "dckr_(?:pat|oat)_[A-Za-z0-9_-]{27,}",
            {"dckr_pat_", "dckr_oat_"}, 300));
  add(token("rubygems_token", "RUBYGEMS_TOKEN_REDACTED", "rubygems_[0-9a-f]{48}", {"rubygems_"},
            57));
  add(token("clojars_token", "CLOJARS_TOKEN_REDACTED", "CLOJARS_[a-z0-9]{60}", {"CLOJARS_"}, 68));
  add(token("buildkite_token", "BUILDKITE_TOKEN_REDACTED", "bkua_[0-9a-f]{40}", {"bkua_"}, 45));
  add(token("circleci_token", "CIRCLECI_TOKEN_REDACTED", "CCIPAT_[A-Za-z0-9]{22}_[0-9a-f]{40}",
            {"CCIPAT_"}, 70));
  add(token("terraform_token", "TERRAFORM_TOKEN_REDACTED",
            R"([A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{60,70})", {".atlasv1."}, 80));
  rules.back().lookbehind = 14;
  add(token("pulumi_token", "PULUMI_TOKEN_REDACTED", "pul-[0-9a-f]{40}", {"pul-"}, 44));
  add(token("doppler_token", "DOPPLER_TOKEN_REDACTED",
            R"(dp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,44})", {"dp."}, 60));
  add(token("vault_token", "VAULT_TOKEN_REDACTED", R"(hv[sbr]\.[A-Za-z0-9_-]{24,})",
            {"hvs.", "hvb.", "hvr."}, 512));
  add(token("onepassword_token", "ONEPASSWORD_TOKEN_REDACTED", "ops_eyJ[A-Za-z0-9+/=_-]{100,}",
            {"ops_eyJ"}, 4096));
  add(token("atlassian_token", "ATLASSIAN_TOKEN_REDACTED", "ATATT3[A-Za-z0-9_=-]{150,}", {"ATATT3"},
            400));
  add(token("postman_key", "POSTMAN_KEY_REDACTED", "PMAK-[0-9a-f]{24}-[0-9a-f]{34}", {"PMAK-"},
            64));
  add(token("grafana_token", "GRAFANA_TOKEN_REDACTED",
            "(?:glsa_[A-Za-z0-9]{32}_[0-9a-f]{8}|glc_[A-Za-z0-9+/]{32,}={0,2})", {"glsa_", "glc_"},
            400));
  add(token("newrelic_key", "NEWRELIC_KEY_REDACTED", "NRAK-[A-Z0-9]{27}", {"NRAK-"}, 32));
  add(token("sentry_token", "SENTRY_TOKEN_REDACTED",
            "(?:sntrys_[A-Za-z0-9+/=_-]{50,}|sntryu_[0-9a-f]{64})", {"sntrys_", "sntryu_"}, 1024));
  add(token("databricks_token", "DATABRICKS_TOKEN_REDACTED", "dapi[0-9a-f]{32}(?:-[0-9])?",
            {"dapi"}, 38));
  add(token("supabase_token", "SUPABASE_TOKEN_REDACTED", "sbp_[0-9a-f]{40}", {"sbp_"}, 44));
  add(token("netlify_token", "NETLIFY_TOKEN_REDACTED", "nfp_[A-Za-z0-9]{36}", {"nfp_"}, 40));
  add(token("planetscale_token", "PLANETSCALE_TOKEN_REDACTED",
            "pscale_(?:tkn|pw|oauth)_[A-Za-z0-9_.-]{32,64}", {"pscale_"}, 80));
  add(token("linear_key", "LINEAR_KEY_REDACTED", "lin_(?:api|oauth)_[A-Za-z0-9]{32,64}",
            {"lin_api_", "lin_oauth_"}, 80));
  add(token("notion_token", "NOTION_TOKEN_REDACTED",
            "(?:secret_[A-Za-z0-9]{43}|ntn_[A-Za-z0-9]{40,50})", {"secret_", "ntn_"}, 60));
  add(token("figma_token", "FIGMA_TOKEN_REDACTED", "figd_[A-Za-z0-9_-]{40}", {"figd_"}, 45));
  add(token("airtable_token", "AIRTABLE_TOKEN_REDACTED", R"(pat[A-Za-z0-9]{14}\.[0-9a-f]{64})",
            {"pat"}, 82));
  rules.back().gate = gate_airtable;
  add(token("contentful_token", "CONTENTFUL_TOKEN_REDACTED", "CFPAT-[A-Za-z0-9_-]{43}", {"CFPAT-"},
            49));
  add(token("dropbox_token", "DROPBOX_TOKEN_REDACTED", R"(sl\.[A-Za-z0-9_-]{130,})", {"sl."},
            2048));

  // --- Messaging, payments, mail ---
  add(token(
      "slack_token", "SLACK_TOKEN_REDACTED",
      R"((?:xox[abposre]-[0-9A-Za-z-]{10,}|xoxe\.xox[bp]-1-[A-Za-z0-9-]{60,}|xapp-1-[A-Za-z0-9-]{20,}))",
      {"xox", "xapp-"}, 270));
  {
    RuleSpec spec =
        token("slack_webhook", "SLACK_WEBHOOK_REDACTED",
              R"(hooks\.slack\.com/(?:services|workflows|triggers)/([A-Za-z0-9_/-]{20,}))",
              {"hooks.slack.com/"}, 240);
    spec.boundary = kRightBoundary;
    add(spec);
  }
  add(with_check(token("discord_bot_token", "DISCORD_TOKEN_REDACTED",
                       R"([MNO][A-Za-z0-9_-]{23,27}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,40})",
                       {"MT", "Mj", "Mz", "ND", "NT", "Nj", "Nz", "OD", "OT"}, 80),
                 check_discord));
  rules.back().gate = gate_discord;
  {
    RuleSpec spec =
        token("discord_webhook", "DISCORD_WEBHOOK_REDACTED",
              R"(discord(?:app)?\.com/api/webhooks/[0-9]{17,20}/([A-Za-z0-9_-]{60,70}))",
              {"discord.com/api/webhooks/", "discordapp.com/api/webhooks/"}, 140);
    spec.boundary = kRightBoundary;
    add(spec);
  }
  {
    // .../bot<id>:<secret>/sendMessage: "bot" is glued to the token in Telegram's URLs.
    RuleSpec spec = token("telegram_bot_token", "TELEGRAM_BOT_TOKEN_REDACTED",
                          "(?:bot)?([0-9]{5,16}:AA[A-Za-z0-9_-]{33})", {":AA"}, 36);
    spec.lookbehind = 19;
    add(spec);
  }
  add(token("teams_webhook", "TEAMS_WEBHOOK_REDACTED",
            R"(webhook\.office\.com/webhookb2/[A-Za-z0-9@/_-]{40,})", {"webhook.office.com/"},
            420));
  add(token("stripe_key", "STRIPE_KEY_REDACTED", "(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{20,}",
            {"sk_live_", "sk_test_", "rk_live_", "rk_test_"}, 255));
  add(token("stripe_webhook_secret", "STRIPE_WEBHOOK_SECRET_REDACTED",
            "whsec_[A-Za-z0-9+/=]{32,88}", {"whsec_"}, 94));
  add(token("square_token", "SQUARE_TOKEN_REDACTED",
            "(?:sq0(?:atp|csp)-[0-9A-Za-z_-]{22,43}|EAAA[A-Za-z0-9_-]{60})",
            {"sq0atp-", "sq0csp-", "EAAA"}, 70));
  add(token("shippo_token", "SHIPPO_TOKEN_REDACTED", "shippo_(?:live|test)_[0-9a-f]{40}",
            {"shippo_"}, 52));
  add(token("flutterwave_key", "FLUTTERWAVE_KEY_REDACTED", "FLWSECK(?:_TEST)?-[0-9a-f]{32}-X",
            {"FLWSECK"}, 50));
  add(token("easypost_key", "EASYPOST_KEY_REDACTED", "EZ[AT]K[0-9a-zA-Z]{54}", {"EZAK", "EZTK"},
            58));
  add(token("duffel_token", "DUFFEL_TOKEN_REDACTED", "duffel_(?:test|live)_[A-Za-z0-9_=-]{43}",
            {"duffel_"}, 55));
  add(token("twilio_api_key", "TWILIO_KEY_REDACTED", "SK[0-9a-fA-F]{32}", {"SK"}, 34));
  add(token("sendgrid_key", "SENDGRID_KEY_REDACTED", R"(SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43})",
            {"SG."}, 69));
  add(token("mailgun_key", "MAILGUN_KEY_REDACTED", "key-[0-9a-f]{32}", {"key-"}, 36));
  {
    // Current Mailgun keys have no prefix; look for them only in text that mentions Mailgun.
    RuleSpec spec = token("mailgun_key", "MAILGUN_KEY_REDACTED",
                          "[0-9a-f]{32}-[0-9a-f]{8}-[0-9a-f]{8}", {"mailgun"}, 2048);
    spec.keywords_case_sensitive = false;
    spec.lookbehind = 2048;
    spec.keyword_in_match = false;
    add(spec);
  }
  add(token("shopify_token", "SHOPIFY_TOKEN_REDACTED", "shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}",
            {"shpat_", "shpca_", "shppa_", "shpss_"}, 38));
  add(token("mapbox_secret_token", "MAPBOX_TOKEN_REDACTED",
            R"(sk\.eyJ[A-Za-z0-9_-]{50,}\.[A-Za-z0-9_-]{20,})", {"sk.eyJ"}, 1024));
  add(token("age_secret_key", "AGE_SECRET_KEY_REDACTED",
            "AGE-(?:SECRET-KEY|PLUGIN-[A-Z0-9]+)-1[0-9A-Z]{40,80}",
            {"AGE-SECRET-KEY-1", "AGE-PLUGIN-"}, 120));

  // --- AI providers (most specific sk- families first) ---
  add(token("anthropic_key", "ANTHROPIC_KEY_REDACTED", "sk-ant-[A-Za-z0-9_-]{32,}", {"sk-ant-"},
            250));
  add(token("openrouter_key", "OPENROUTER_KEY_REDACTED", "sk-or-v1-[0-9a-f]{64}", {"sk-or-"}, 73));
  add(token("openai_key", "OPENAI_KEY_REDACTED",
            "sk-(?:(?:proj|svcacct|admin|None)-[A-Za-z0-9_-]{20,}|[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-"
            "9_-]{20,})",
            {"sk-"}, 320));
  add(with_check(
      token("openai_key", "OPENAI_KEY_REDACTED", "sk-[A-Za-z0-9][A-Za-z0-9_-]{30,}", {"sk-"}, 260),
      check_random_value));
  add(token("huggingface_token", "HUGGINGFACE_TOKEN_REDACTED", "(?:hf_|api_org_)[A-Za-z0-9]{30,40}",
            {"hf_", "api_org_"}, 48));
  add(token("groq_key", "GROQ_KEY_REDACTED", "gsk_[A-Za-z0-9]{48,56}", {"gsk_"}, 60));
  add(token("replicate_token", "REPLICATE_TOKEN_REDACTED", "r8_[A-Za-z0-9]{37}", {"r8_"}, 40));
  add(token("perplexity_key", "PERPLEXITY_KEY_REDACTED", "pplx-[A-Za-z0-9]{40,56}", {"pplx-"}, 61));
  add(token("xai_key", "XAI_KEY_REDACTED", "xai-[A-Za-z0-9]{70,90}", {"xai-"}, 94));
  add(token("fireworks_key", "FIREWORKS_KEY_REDACTED", "fw_[A-Za-z0-9]{20,30}", {"fw_"}, 33));
  add(token("langsmith_key", "LANGSMITH_KEY_REDACTED", "lsv2_(?:pt|sk)_[0-9a-f]{32}_[0-9a-f]{10}",
            {"lsv2_"}, 52));
  add(token("pinecone_key", "PINECONE_KEY_REDACTED", "pcsk_[A-Za-z0-9_]{40,}", {"pcsk_"}, 125));
  add(token("tavily_key", "TAVILY_KEY_REDACTED", "tvly-(?:dev-|prod-)?[A-Za-z0-9]{32}", {"tvly-"},
            42));
  add(token("elevenlabs_key", "ELEVENLABS_KEY_REDACTED", "sk_[0-9a-f]{48}", {"sk_"}, 51));

  // --- Structured tokens ---
  add(with_check(
      token("jwt", "JWT_REDACTED", R"(eyJ[A-Za-z0-9_-]{10,}\.ey[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]*)",
            {"eyJ"}, 16384),
      check_jwt));
  return rules;
}

}  // namespace cb::redact
