// Replaying dead letters: each goes through intake again and leaves the dead-letter store in
// the same transaction as its new record (or its new dead letter, if it fails again).
//
// A message dead-lettered at intake is normalized again under the current routes and keeps its
// original receive time; a route with a transform runs it (so a message a broken transform
// dead-lettered becomes records once the transform is fixed). A record the landing zone refused is
// queued again as it was (same topic, device, times and data; a new sequence number and id), since
// its data is already normalized and normalizing it twice could, for example, scale a value twice.
//
// Thread-safe as far as the queue is (the status server calls it).
#pragma once

#include <cstdint>
#include <span>

#include "agent/config/config.h"
#include "agent/normalize/normalizer.h"
#include "agent/status/metrics.h"
#include "agent/transform/transform_set.h"
#include "platform/clock.h"
#include "platform/status.h"
#include "storage/queue.h"

namespace ferry::agent {

struct ReplayResult {
  uint64_t replayed = 0;    // dead letters taken out of the store
  uint64_t records = 0;     // records they became
  uint64_t dead_again = 0;  // dead letters they became (failed again, with the new reason)
  uint64_t ignored = 0;     // now matched by an ignore route
};

// Replays the dead letters with `ids`, or all of them when `ids` is empty (in pages, each its
// own transaction). Unknown ids are skipped. Errors are the queue's (kNoSpace, kIoError).
// `clock` must be the queue's: a replayed record's age for storage.max_age counts from its
// replay (its monotonic receive time is now), so a dead letter older than max_age does not
// expire the moment it is replayed; its `received_at` stays the original receive time.
platform::Result<ReplayResult> ReplayDeadLetters(const Config& config, const Normalizer& normalizer,
                                                 storage::Queue& queue, Metrics& metrics,
                                                 platform::Clock& clock,
                                                 std::span<const int64_t> ids,
                                                 const TransformSet* transforms = nullptr);

}  // namespace ferry::agent
