// Where ferry-landing keeps accepted batches: a directory (batch_store.h) or an S3-compatible
// bucket (s3_store.h). Either way a batch is one file or object named
//   gateway=<gateway>/dt=<date>/<Idempotency-Key>.ndjson.zst
// below the root or prefix, and a key is stored at most once: a repeated key is kDuplicate.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "agent/landing/batch_key.h"
#include "platform/status.h"

namespace ferry::landing {

class Store {
 public:
  enum class Outcome { kStored, kDuplicate };

  virtual ~Store() = default;

  // Stores `data` (zstd-compressed NDJSON holding `records` lines) as batch `key` in partition
  // `date` ("2026-11-21": the UTC date of the first record's received_at) unless the key is
  // stored already (kDuplicate; nothing written). Thread-safe; concurrent calls for one key
  // never both store. *where (if not null) gets the path or object key written.
  // Errors: kNoSpace (disk or quota full) and kUnavailable (the store is down or asks to slow
  // down) are worth retrying later; kIoError or kInternal for any other failure. Nothing partial
  // is left under the final name.
  virtual platform::Result<Outcome> Put(const BatchKey& key, std::string_view date,
                                        std::string_view data, uint64_t records,
                                        std::string* where) = 0;

  // "root /srv/landing" or "bucket b at http://...", for the start-up log line.
  virtual std::string Describe() const = 0;
};

}  // namespace ferry::landing
