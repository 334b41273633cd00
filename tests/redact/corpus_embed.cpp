// Syntaxes and message framing shared by the positive and negative corpus generators.
#include <cctype>

#include "tests/redact/corpus.h"

namespace cb::test {
namespace {

std::vector<std::string> split_words(std::string_view name) {
  std::vector<std::string> words;
  std::string current;
  char previous = 0;
  for (std::size_t i = 0; i < name.size(); previous = name[i], ++i) {
    const char c = name[i];
    if (c == '_' || c == '-' || c == '.' || c == ' ') {
      if (!current.empty()) words.push_back(current);
      current.clear();
      continue;
    }
    const bool upper = std::isupper(static_cast<unsigned char>(c)) != 0;
    const bool boundary =
        upper && !current.empty() && std::islower(static_cast<unsigned char>(previous)) != 0;
    if (boundary) {
      words.push_back(current);
      current.clear();
    }
    current += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (!current.empty()) words.push_back(current);
  return words;
}

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string capitalized(std::string s) {
  if (!s.empty()) s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
  return s;
}

const std::vector<std::string> kOpenings = {
    "Here's the config I'm using:",
    "Can you check why this fails? Relevant bit:",
    "Logs from the last run:",
    "FYI, this is what the deploy step does:",
    "I pulled this from the staging box, does it look right?",
    "Paste of the current setup (the token below stopped working yesterday):",
    "This is the snippet from the README we follow:",
    "Reproduced it locally with this:",
    "ok so the service reads its credentials like this",
    "Handing over to you. Current state of the file:",
    "The failing request, copied from the terminal:",
    "Note for the other session: I changed the settings to this",
};

const std::vector<std::string> kClosings = {
    "Let me know if you need anything else.",
    "Thanks!",
    "",
    "It fails with 401 Unauthorized after the password rotation.",
    "Can you update the tests accordingly?",
    "I'll rotate the keys once we're done, promise.",
    "Ping me when the build is green.",
    "The rest of the file is unchanged.",
    "(don't commit this anywhere)",
    "Does the retry logic look right to you?",
};

const std::vector<std::string> kFiller = {
    "Please reset your password and token rotation settings in the admin panel.",
    "The API key is stored in Vault; never hard-code it.",
    "We switched from basic auth to bearer tokens last sprint.",
    "Passwords must be at least 12 characters and contain a digit.",
    "The token is invalid, so the client retries with a fresh one.",
    "Secrets are mounted from the db-credentials Secret at /var/run/secrets.",
    "Rotate the signing key every 90 days.",
    "max_tokens is set to 4096 and the temperature to 0.2.",
    "Use a personal access token with the repo scope.",
    "The password field is masked in the UI.",
    "Refresh tokens expire after 30 days of inactivity.",
    "OAuth client credentials flow is described in docs/auth.md.",
};

}  // namespace

std::string style_key(std::string_view name, KeyStyle style) {
  const std::vector<std::string> words = split_words(name);
  std::string out;
  for (std::size_t i = 0; i < words.size(); ++i) {
    switch (style) {
      case KeyStyle::kUpperSnake:
        out += (i ? "_" : "") + upper(words[i]);
        break;
      case KeyStyle::kSnake:
        out += (i ? "_" : "") + words[i];
        break;
      case KeyStyle::kKebab:
        out += (i ? "-" : "") + words[i];
        break;
      case KeyStyle::kCamel:
        out += i ? capitalized(words[i]) : words[i];
        break;
      case KeyStyle::kPascal:
        out += capitalized(words[i]);
        break;
    }
  }
  return out;
}

std::string assignment(Rng& rng, std::string_view key, std::string_view value) {
  const std::string v(value);
  const std::string env = style_key(key, KeyStyle::kUpperSnake);
  const std::string snake = style_key(key, KeyStyle::kSnake);
  const std::string camel = style_key(key, KeyStyle::kCamel);
  const std::string kebab = style_key(key, KeyStyle::kKebab);
  switch (rng.below(26)) {
    case 0:
      return env + "=" + v + "\nLOG_LEVEL=info\n";
    case 1:
      return "export " + env + "=\"" + v + "\"\n";
    case 2:
      return "service:\n  name: api\n  " + snake + ": " + v + "\n  port: 8080\n";
    case 3:
      return "  " + camel + ": \"" + v + "\"\n";
    case 4:
      return "{\"" + camel + "\": \"" + v + "\", \"retries\": 3}";
    case 5:
      return "{\n  \"name\": \"worker\",\n  \"" + snake + "\": \"" + v +
             "\",\n  \"debug\": false\n}";
    case 6:
      return "{\"event\": \"config\", \"payload\": \"{\\\"" + snake + "\\\": \\\"" + v + "\\\"}\"}";
    case 7:
      return "[default]\n" + snake + " = \"" + v + "\"\n";
    case 8:
      return "[server]\nhost = 0.0.0.0\n" + snake + " = " + v + "\n";
    case 9:
      return env + " = \"" + v + "\"\nclient = Client(" + snake + "=" + env + ")\n";
    case 10:
      return "const " + camel + " = '" + v + "';\n";
    case 11:
      return camel + " := \"" + v + "\"\nif " + camel + " == \"\" { return err }\n";
    case 12:
      return "let " + snake + " = \"" + v + "\";\n";
    case 13:
      return "private static final String " + env + " = \"" + v + "\";\n";
    case 14:
      return "docker run --rm -e " + env + "=" + v + " ghcr.io/acme/worker:1.4\n";
    case 15:
      return "env:\n  " + env + ": " + v + "\nsteps:\n  - run: make test\n";
    case 16:
      return "<" + camel + ">" + v + "</" + camel + ">";
    case 17:
      return "$env:" + env + " = \"" + v + "\"\n";
    case 18:
      return "containers:\n  - name: api\n    env:\n      - name: " + env + "\n        value: \"" +
             v + "\"\n";
    case 19:
      return "\"environment\": [\n  {\"name\": \"" + env + "\", \"value\": \"" + v + "\"}\n]";
    case 20:
      return "services:\n  api:\n    environment:\n      - " + env + "=" + v + "\n";
    case 21:
      return "app." + style_key(key, KeyStyle::kKebab) + "=" + v + "\nserver.port=8080\n";
    case 22:
      return "config = {\"" + snake + "\": \"" + v + "\", \"timeout\": 30}\n";
    case 23:
      return "config." + snake + " = '" + v + "'\n";
    case 24:
      return "+ export " + env + "=" + v + "\n+ ./run.sh\n";
    default:  // a value that starts with '-' needs the --flag=value form on any command line
      return "./cli deploy --" + kebab + (v.starts_with("-") ? "=" : " ") + v +
             " --region eu-west-1\n";
  }
}

std::string wrap(Rng& rng, std::string_view snippet, std::string_view language) {
  std::string out = rng.pick(kOpenings);
  const bool fence = !language.empty() && rng.chance(0.7);
  out += fence ? "\n\n```" + std::string(language) + "\n" : (rng.chance(0.5) ? "\n" : " ");
  out += snippet;
  if (fence) out += (snippet.ends_with("\n") ? "" : "\n") + std::string("```");
  const std::string& closing = rng.pick(kClosings);
  if (!closing.empty()) out += "\n" + closing;
  if (rng.chance(0.3)) out += "\n" + filler_sentence(rng);
  return out;
}

std::string filler_sentence(Rng& rng) { return rng.pick(kFiller); }

}  // namespace cb::test
