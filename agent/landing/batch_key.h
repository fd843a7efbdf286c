// The names a batch carries: the Idempotency-Key `<gateway>.<epoch>.<first>-<last>` and its
// parts (landing-protocol.md). Both become parts of file names at the landing zone, so anything
// outside the allowed form is refused. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "platform/status.h"

namespace ferry::landing {

struct BatchKey {
  std::string text;     // the whole key as received, e.g. "gw-0042.7k2m.1833-2832"
  std::string gateway;  // 1-64 of [A-Za-z0-9_-]
  std::string epoch;    // 1-32 of [a-z0-9]
  uint64_t first = 0;   // first sequence number of the batch
  uint64_t last = 0;    // last sequence number; first <= last
};

// True if `id` is 1 to 64 characters of [A-Za-z0-9_-].
bool IsValidGateway(std::string_view id);
// True if `epoch` is 1 to 32 characters of [a-z0-9].
bool IsValidEpoch(std::string_view epoch);

// Parses a canonical unsigned decimal (no sign, no leading zeros except "0" itself, fits in 64
// bits). False for anything else.
bool ParseDecimal(std::string_view text, uint64_t* value);

// Parses an Idempotency-Key. kInvalidArgument with a message saying which part is wrong
// ("epoch must be 1-32 of [a-z0-9]", "first sequence number is greater than the last", ...).
platform::Result<BatchKey> ParseBatchKey(std::string_view text);

}  // namespace ferry::landing
