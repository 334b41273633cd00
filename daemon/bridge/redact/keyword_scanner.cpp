#include "daemon/bridge/redact/keyword_scanner.h"

namespace cb::bridge::redact {
namespace {

unsigned char fold(unsigned char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<unsigned char>(c - 'A' + 'a') : c;
}

}  // namespace

int KeywordScanner::add(std::string_view keyword, bool case_sensitive) {
  if (keyword.size() < 2) return -1;
  Keyword entry{std::string(keyword), case_sensitive};
  if (!case_sensitive) {
    for (char& c : entry.bytes) c = static_cast<char>(fold(static_cast<unsigned char>(c)));
  }
  const int id = static_cast<int>(keywords_.size());
  const std::uint16_t hash = pair_hash(static_cast<unsigned char>(entry.bytes[0]),
                                       static_cast<unsigned char>(entry.bytes[1]));
  first_pairs_.set(hash);
  by_pair_[hash].push_back(id);
  keywords_.push_back(std::move(entry));
  return id;
}

bool KeywordScanner::matches_at(const Keyword& keyword, std::string_view text,
                                std::size_t pos) const {
  const std::string& k = keyword.bytes;
  if (text.size() - pos < k.size()) return false;
  if (keyword.case_sensitive) return text.compare(pos, k.size(), k) == 0;
  for (std::size_t j = 0; j < k.size(); ++j) {
    if (fold(static_cast<unsigned char>(text[pos + j])) != static_cast<unsigned char>(k[j])) {
      return false;
    }
  }
  return true;
}

}  // namespace cb::bridge::redact
