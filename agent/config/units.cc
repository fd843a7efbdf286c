// Durations and sizes as the config file writes them.
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "agent/config/config.h"

namespace ferry::agent {
namespace {

struct Unit {
  std::string_view suffix;
  uint64_t factor;
};

constexpr Unit kDurationUnits[] = {
    {"d", 86'400'000}, {"h", 3'600'000}, {"m", 60'000}, {"s", 1'000}, {"ms", 1},
};

constexpr uint64_t kKi = 1024;
constexpr uint64_t kK = 1000;
// Binary units first so that FormatSize prefers them.
constexpr Unit kSizeUnits[] = {
    {"GiB", kKi* kKi* kKi}, {"MiB", kKi* kKi}, {"KiB", kKi},
    {"GB", kK* kK* kK},     {"MB", kK* kK},    {"KB", kK},
};

// Splits leading decimal digits off `text` into *value. False when there are none or the
// number exceeds `limit`.
bool TakeDigits(std::string_view* text, uint64_t limit, uint64_t* value) {
  size_t i = 0;
  uint64_t n = 0;
  for (; i < text->size() && (*text)[i] >= '0' && (*text)[i] <= '9'; ++i) {
    uint64_t digit = static_cast<uint64_t>((*text)[i] - '0');
    if (n > (limit - digit) / 10) return false;
    n = n * 10 + digit;
  }
  if (i == 0) return false;
  text->remove_prefix(i);
  *value = n;
  return true;
}

// Parses digits followed by exactly one unit of `units` (or none when `bare_ok`).
template <size_t N>
bool ParseWithUnits(std::string_view text, const Unit (&units)[N], bool bare_ok, uint64_t limit,
                    uint64_t* out) {
  uint64_t n = 0;
  if (!TakeDigits(&text, limit, &n)) return false;
  uint64_t factor = 0;
  if (text.empty() && bare_ok) factor = 1;
  for (const Unit& unit : units) {
    if (text == unit.suffix) factor = unit.factor;
  }
  if (factor == 0 || n > limit / factor) return false;
  *out = n * factor;
  return true;
}

template <size_t N>
std::string FormatWithUnits(uint64_t value, const Unit (&units)[N], std::string_view bare) {
  for (const Unit& unit : units) {
    if (value != 0 && value % unit.factor == 0) {
      return std::to_string(value / unit.factor) + std::string(unit.suffix);
    }
  }
  return std::to_string(value) + std::string(bare);
}

}  // namespace

bool ParseDuration(std::string_view text, int64_t* ms) {
  uint64_t value = 0;
  constexpr auto kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (!ParseWithUnits(text, kDurationUnits, /*bare_ok=*/false, kMax, &value)) return false;
  *ms = static_cast<int64_t>(value);
  return true;
}

bool ParseSize(std::string_view text, uint64_t* bytes) {
  return ParseWithUnits(text, kSizeUnits, /*bare_ok=*/true, std::numeric_limits<uint64_t>::max(),
                        bytes);
}

std::string FormatDuration(int64_t ms) {
  if (ms == 0) return "0s";
  // The magnitude in unsigned arithmetic, so that INT64_MIN does not overflow.
  uint64_t magnitude = ms < 0 ? 0 - static_cast<uint64_t>(ms) : static_cast<uint64_t>(ms);
  return (ms < 0 ? "-" : "") + FormatWithUnits(magnitude, kDurationUnits, "ms");
}

std::string FormatSize(uint64_t bytes) { return FormatWithUnits(bytes, kSizeUnits, ""); }

}  // namespace ferry::agent
