// Interim implementation: a handful of rules so the daemon links; the full engine replaces it.
#include "daemon/bridge/redact/redactor.h"

#include <re2/re2.h>

#include <algorithm>

namespace cb::bridge {

std::map<std::string, int> Redacted::counts() const {
  std::map<std::string, int> out;
  for (const auto& hit : hits) ++out[hit.kind];
  return out;
}

namespace {

struct Compiled {
  std::string name;
  std::string placeholder;
  std::unique_ptr<RE2> re;
};

class SimpleRedactor final : public Redactor {
 public:
  explicit SimpleRedactor(std::vector<Compiled> rules) : rules_(std::move(rules)) {}

  Redacted redact(std::string_view text) const override {
    std::vector<std::pair<RedactionHit, const Compiled*>> found;
    for (const auto& rule : rules_) {
      std::size_t pos = 0;
      re2::StringPiece groups[2];
      const int n = std::min(rule.re->NumberOfCapturingGroups(), 1) + 1;
      re2::StringPiece input(text.data(), text.size());
      while (pos <= text.size() &&
             rule.re->Match(input, pos, text.size(), RE2::UNANCHORED, groups, n)) {
        const re2::StringPiece& span = (n == 2 && groups[1].data() != nullptr) ? groups[1]
                                                                                 : groups[0];
        const std::size_t begin = static_cast<std::size_t>(span.data() - text.data());
        if (!span.empty()) found.push_back({{rule.name, begin, span.size()}, &rule});
        const std::size_t end = static_cast<std::size_t>(groups[0].data() - text.data()) +
                                groups[0].size();
        pos = end > pos ? end : pos + 1;
      }
    }
    std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
      return a.first.offset != b.first.offset ? a.first.offset < b.first.offset
                                              : a.first.length > b.first.length;
    });
    Redacted out;
    std::size_t copied = 0;
    for (const auto& [hit, rule] : found) {
      if (hit.offset < copied) continue;
      out.text.append(text.substr(copied, hit.offset - copied));
      out.text.append(rule->placeholder);
      copied = hit.offset + hit.length;
      out.hits.push_back(hit);
    }
    out.text.append(text.substr(copied));
    return out;
  }

  std::vector<std::string> kinds() const override {
    std::vector<std::string> out;
    for (const auto& rule : rules_) out.push_back(rule.name);
    return out;
  }

 private:
  std::vector<Compiled> rules_;
};

const RedactionRule kInterimRules[] = {
    {"aws_access_key_id", "\\b((?:AKIA|ASIA)[0-9A-Z]{16})\\b", "AWS_KEY_REDACTED"},
    {"github_token", "\\b(gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{50,})",
     "GITHUB_TOKEN_REDACTED"},
    {"private_key", "-----BEGIN[A-Z ]*PRIVATE KEY-----(?s:.*?)-----END[A-Z ]*PRIVATE KEY-----",
     "PRIVATE_KEY_REDACTED"},
    {"bearer_token", "(?i)\\bbearer\\s+([A-Za-z0-9._~+/-]{16,}=*)", "BEARER_TOKEN_REDACTED"},
    {"password", "(?i)pass(?:word|wd)?[\"']?\\s*[:=]\\s*[\"']?([^\\s\"',;]{4,})",
     "PASSWORD_REDACTED"},
};

std::unique_ptr<RE2> compile(const std::string& pattern) {
  RE2::Options options;
  options.set_log_errors(false);
  return std::make_unique<RE2>(pattern, options);
}

}  // namespace

std::shared_ptr<const Redactor> Redactor::create(const std::vector<RedactionRule>& custom,
                                                 std::string* error) {
  std::vector<Compiled> rules;
  for (const auto& rule : kInterimRules) {
    rules.push_back({rule.name, rule.placeholder, compile(rule.pattern)});
  }
  for (const auto& rule : custom) {
    auto re = compile(rule.pattern);
    std::string problem;
    if (rule.name.empty()) {
      problem = "empty name";
    } else if (rule.placeholder.empty()) {
      problem = "empty placeholder";
    } else if (!re->ok()) {
      problem = "pattern does not compile: " + re->error();
    } else if (RE2::FullMatch("", *re)) {
      problem = "pattern matches the empty string";
    }
    if (!problem.empty()) {
      if (error != nullptr) *error = "redaction rule '" + rule.name + "': " + problem;
      return nullptr;
    }
    rules.push_back({rule.name, rule.placeholder, std::move(re)});
  }
  return std::make_shared<SimpleRedactor>(std::move(rules));
}

std::shared_ptr<const Redactor> Redactor::builtin() {
  static const std::shared_ptr<const Redactor> instance = create({}, nullptr);
  return instance;
}

}  // namespace cb::bridge
