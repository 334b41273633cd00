#pragma once

#include <bitset>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

// Finds every occurrence of a fixed set of short literals in one pass over the text. This is the
// prefilter of the redaction engine: a rule's regex runs only near its keywords' occurrences.
namespace cb::bridge::redact {

class KeywordScanner {
 public:
  // Keywords shorter than 2 bytes are refused (returns -1). Case-insensitive keywords match
  // ASCII letters of either case; case-sensitive ones match exactly.
  int add(std::string_view keyword, bool case_sensitive);

  // Calls on_hit(keyword_id, offset) for every occurrence, overlapping ones included, in
  // increasing offset order (ids in insertion order at equal offsets). Linear in text.size()
  // plus the number of candidate positions verified.
  template <typename OnHit>
  void scan(std::string_view text, OnHit&& on_hit) const;

  std::size_t size() const { return keywords_.size(); }

 private:
  struct Keyword {
    std::string bytes;  // lower-cased when !case_sensitive
    bool case_sensitive;
  };

  static std::uint16_t pair_hash(unsigned char a, unsigned char b) {
    // Folding 0x20 maps both cases of a letter together; other bytes may collide, which only
    // costs a verification.
    return static_cast<std::uint16_t>(((a | 0x20u) << 8) | (b | 0x20u));
  }
  bool matches_at(const Keyword& keyword, std::string_view text, std::size_t pos) const;

  std::vector<Keyword> keywords_;
  std::bitset<65536> first_pairs_;
  std::unordered_map<std::uint16_t, std::vector<int>> by_pair_;
};

template <typename OnHit>
void KeywordScanner::scan(std::string_view text, OnHit&& on_hit) const {
  if (text.size() < 2 || keywords_.empty()) return;
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t last = text.size() - 1;
  for (std::size_t i = 0; i < last; ++i) {
    const std::uint16_t hash = pair_hash(bytes[i], bytes[i + 1]);
    if (!first_pairs_[hash]) continue;
    const auto bucket = by_pair_.find(hash);
    for (int id : bucket->second) {
      if (matches_at(keywords_[static_cast<std::size_t>(id)], text, i)) on_hit(id, i);
    }
  }
}

}  // namespace cb::bridge::redact
