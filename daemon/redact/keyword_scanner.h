#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

// Finds every occurrence of a fixed set of short literals in one pass over the text. This is the
// prefilter of the redaction engine: a rule's regex runs only near its keywords' occurrences.
//
// Per byte the scan tests one bit of a folded-pair bitmap; only where that hits does it test a
// hash of the first three bytes (or, for two-byte keywords, an exact pair bitmap) and then
// compare the candidates' first eight bytes under a mask. All tables fit in L1/L2.
namespace cb::redact {

class KeywordScanner {
 public:
  KeywordScanner();
  // Keywords shorter than 2 bytes are refused (returns -1). Case-insensitive keywords match
  // ASCII letters of either case; case-sensitive ones match exactly.
  int add(std::string_view keyword, bool case_sensitive);
  std::size_t length(int id) const { return keywords_[static_cast<std::size_t>(id)].bytes.size(); }

  // Calls on_hit(keyword_id, offset) for every occurrence, overlapping ones included, in
  // increasing offset order. Linear in text.size() plus the candidates verified.
  template <typename OnHit>
  void scan(std::string_view text, OnHit&& on_hit) const;

 private:
  struct Keyword {
    std::string bytes;  // lower-cased when !case_sensitive
    bool case_sensitive;
    std::uint64_t head;  // first min(8, size) bytes, lower-cased when case-insensitive
    std::uint64_t fold;  // 0x20 in the bytes that are letters of a case-insensitive keyword
    std::uint64_t mask;  // 0xff in the first min(8, size) bytes
  };

  static std::uint16_t folded_pair(const unsigned char* p) {
    return static_cast<std::uint16_t>(((p[0] | 0x20u) << 8) | (p[1] | 0x20u));
  }
  static std::uint16_t exact_pair(const unsigned char* p) {
    return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
  }
  static std::uint16_t triple_hash(const unsigned char* p) {
    const std::uint32_t v = ((p[0] | 0x20u) << 16) | ((p[1] | 0x20u) << 8) | (p[2] | 0x20u);
    return static_cast<std::uint16_t>((v * 0x9E3779B1u) >> 16);
  }
  bool matches_at(const Keyword& keyword, std::string_view text, std::size_t pos) const;
  // Out of line: inlined, it and the callback push the scan loop's state out of registers.
  template <typename OnHit>
  [[gnu::noinline]] void verify(std::string_view text, std::size_t pos, OnHit& on_hit) const;

  using Bits = std::array<std::uint64_t, 1024>;  // 65536 bits
  static bool test(const Bits& bits, std::uint32_t h) {
    return ((bits[h >> 6] >> (h & 63)) & 1) != 0;
  }
  static void set(Bits& bits, std::uint32_t h) { bits[h >> 6] |= std::uint64_t{1} << (h & 63); }

  std::vector<Keyword> keywords_;
  Bits first_pairs_{};   // folded first two bytes of every keyword
  Bits triples_{};       // hashed folded first three bytes of keywords >= 3 bytes
  Bits short_exact_{};   // exact bytes of case-sensitive two-byte keywords
  Bits short_folded_{};  // folded bytes of case-insensitive two-byte keywords
  std::vector<std::uint16_t> bucket_of_pair_;  // folded pair -> 1 + bucket index, 0 if none
  std::vector<std::vector<int>> buckets_;      // keyword ids sharing a folded first pair
};

template <typename OnHit>
void KeywordScanner::verify(std::string_view text, std::size_t pos, OnHit& on_hit) const {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data()) + pos;
  const std::uint16_t bucket = bucket_of_pair_[folded_pair(p)];
  if (bucket == 0) return;
  const bool wide = std::endian::native == std::endian::little && text.size() - pos >= 8;
  std::uint64_t word = 0;
  if (wide) std::memcpy(&word, p, 8);
  for (int id : buckets_[bucket - 1u]) {
    const Keyword& k = keywords_[static_cast<std::size_t>(id)];
    if (wide) {
      // The first eight bytes under the mask; longer keywords compare the rest only then.
      if (((word | k.fold) & k.mask) != k.head) continue;
      if (k.bytes.size() <= 8 || matches_at(k, text, pos)) on_hit(id, pos);
    } else if (matches_at(k, text, pos)) {
      on_hit(id, pos);
    }
  }
}

template <typename OnHit>
void KeywordScanner::scan(std::string_view text, OnHit&& on_hit) const {
  if (text.size() < 2 || keywords_.empty()) return;
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t last_pair = text.size() - 1;
  std::uint32_t pair = bytes[0] | 0x20u;  // folded bytes i and i+1, rolled along the text
  for (std::size_t i = 0; i < last_pair; ++i) {
    pair = ((pair << 8) | (bytes[i + 1] | 0x20u)) & 0xffffu;
    if (!test(first_pairs_, pair)) continue;
    const unsigned char* p = bytes + i;
    const bool triple = i + 2 < text.size() && test(triples_, triple_hash(p));
    if (triple || test(short_exact_, exact_pair(p)) || test(short_folded_, pair)) {
      verify(text, i, on_hit);
    }
  }
}

}  // namespace cb::redact
