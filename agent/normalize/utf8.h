// UTF-8 validation shared by payload decoding and the record encoder. Strict RFC 3629: no
// overlong forms, no surrogates (ED A0..BF ..), nothing above U+10FFFF. Pure functions.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace ferry::agent {

// One step of decoding at the start of `s` (which must not be empty).
struct Utf8Step {
  bool valid;     // a whole, well-formed sequence starts at s[0]
  size_t length;  // its length if valid, else the length of the maximal ill-formed prefix
                  // (at least 1), which a caller replaces with one U+FFFD (Unicode 15, 3.9)
};
Utf8Step DecodeUtf8Step(std::string_view s);

// Offset of the first byte that is not part of well-formed UTF-8, or nullopt if all is valid.
std::optional<size_t> FindInvalidUtf8(std::string_view s);

}  // namespace ferry::agent
