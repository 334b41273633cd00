#include "daemon/redact/keyword_scanner.h"

namespace cb::redact {
namespace {

unsigned char fold(unsigned char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<unsigned char>(c - 'A' + 'a') : c;
}

bool is_letter(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

}  // namespace

KeywordScanner::KeywordScanner() : bucket_of_pair_(65536, 0) {}

int KeywordScanner::add(std::string_view keyword, bool case_sensitive) {
  if (keyword.size() < 2) return -1;
  Keyword k{std::string(keyword), case_sensitive, 0, 0, 0};
  if (!case_sensitive) {
    for (char& c : k.bytes) c = static_cast<char>(fold(static_cast<unsigned char>(c)));
  }
  const std::size_t head = k.bytes.size() < 8 ? k.bytes.size() : 8;
  for (std::size_t j = 0; j < head; ++j) {
    const auto c = static_cast<unsigned char>(k.bytes[j]);
    // Little-endian: byte j of the text lands in bits [8j, 8j+8) of the loaded word.
    k.head |= static_cast<std::uint64_t>(c) << (8 * j);
    k.mask |= std::uint64_t{0xff} << (8 * j);
    if (!case_sensitive && is_letter(c)) k.fold |= std::uint64_t{0x20} << (8 * j);
  }
  const auto* p = reinterpret_cast<const unsigned char*>(k.bytes.data());
  set(first_pairs_, folded_pair(p));
  if (k.bytes.size() >= 3) {
    set(triples_, triple_hash(p));
  } else if (case_sensitive) {
    set(short_exact_, exact_pair(p));
  } else {
    set(short_folded_, folded_pair(p));
  }
  std::uint16_t& bucket = bucket_of_pair_[folded_pair(p)];
  if (bucket == 0) {
    buckets_.emplace_back();
    bucket = static_cast<std::uint16_t>(buckets_.size());
  }
  const int id = static_cast<int>(keywords_.size());
  buckets_[bucket - 1u].push_back(id);
  keywords_.push_back(std::move(k));
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

}  // namespace cb::redact
