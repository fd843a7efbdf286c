#include "agent/normalize/utf8.h"

#include <cstdint>
#include <cstring>

namespace ferry::agent {
namespace {

bool InRange(unsigned char c, unsigned char lo, unsigned char hi) { return c >= lo && c <= hi; }

}  // namespace

Utf8Step DecodeUtf8Step(std::string_view s) {
  const auto lead = static_cast<unsigned char>(s[0]);
  if (lead < 0x80) return {true, 1};
  size_t length = 0;
  // The allowed range of the second byte is what excludes overlongs, surrogates and > U+10FFFF.
  unsigned char lo = 0x80, hi = 0xBF;
  if (InRange(lead, 0xC2, 0xDF)) {
    length = 2;
  } else if (InRange(lead, 0xE0, 0xEF)) {
    length = 3;
    if (lead == 0xE0) lo = 0xA0;
    if (lead == 0xED) hi = 0x9F;
  } else if (InRange(lead, 0xF0, 0xF4)) {
    length = 4;
    if (lead == 0xF0) lo = 0x90;
    if (lead == 0xF4) hi = 0x8F;
  } else {
    return {false, 1};  // a continuation byte, C0/C1 or F5..FF
  }
  for (size_t i = 1; i < length; ++i) {
    if (i >= s.size()) return {false, i};
    if (!InRange(static_cast<unsigned char>(s[i]), lo, hi)) return {false, i};
    lo = 0x80;
    hi = 0xBF;
  }
  return {true, length};
}

std::optional<size_t> FindInvalidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    // Fast path: eight ASCII bytes at a time.
    if (i + 8 <= s.size()) {
      uint64_t word;
      std::memcpy(&word, s.data() + i, sizeof word);
      if ((word & 0x8080808080808080ull) == 0) {
        i += 8;
        continue;
      }
    }
    Utf8Step step = DecodeUtf8Step(s.substr(i));
    if (!step.valid) return i;
    i += step.length;
  }
  return std::nullopt;
}

}  // namespace ferry::agent
