// Checks a decompressed batch body: newline-delimited JSON, one record per line, each line a JSON
// object with a string "id", UTF-8, no blank lines, the last line ending in '\n'.
// Pure function; thread-safe; never throws.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ferry::landing {

struct NdjsonCheck {
  bool ok = true;
  uint64_t lines = 0;  // records counted; when !ok, the 1-based number of the refused line
  std::string reason;  // when !ok: what is wrong with that line ("not a JSON object", ...)
};

// Checks every line of `text` and counts them. Stops at the first refused line.
// An empty `text` is valid and holds 0 lines.
NdjsonCheck CheckNdjson(std::string_view text);

}  // namespace ferry::landing
