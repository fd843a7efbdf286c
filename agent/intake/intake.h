// The intake stage: a group of received messages is normalized and committed to the queue as
// one transaction (records as one block, failures as dead letters). Used by one thread at a
// time (the MQTT loop); reuses its buffers between groups.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "agent/config/config.h"
#include "agent/normalize/normalizer.h"
#include "agent/status/metrics.h"
#include "agent/transform/transform_set.h"
#include "platform/status.h"
#include "storage/queue.h"

namespace ferry::agent {

// Topic and payload are views: AckGate keeps a held group's bytes in one buffer.
struct ReceivedMessage {
  std::string_view topic;
  std::string_view payload;
  int64_t received_ms = 0;       // wall clock, for the record
  int64_t received_mono_ms = 0;  // monotonic clock, for expiry
  int qos = 0;
  bool oversize = false;  // payload was cut: it exceeded mqtt.max_payload
  uint64_t full_size = 0;
  uint16_t mid = 0;   // broker's packet id (QoS 1)
  uint64_t hash = 0;  // RedeliveryFilter::Hash of topic and payload (QoS 1)
};

class Intake {
 public:
  // `transforms` (may be null: no route names one) runs the routes' transforms: a group's
  // messages for one transform go to it as one batch, after the rest is normalized; its records
  // follow the group's other records in the block.
  Intake(const Config& config, const Normalizer& normalizer, storage::Queue& queue,
         Metrics& metrics, const TransformSet* transforms = nullptr);

  // Normalizes and stores `messages`. OK means every message is committed (as a record or a
  // dead letter) or was dropped by an ignore route: the caller may acknowledge them all.
  // On error nothing is stored: kNoSpace (quota or disk full), kIoError (write or sync).
  // `as_batch`: the records may become the next batch in the same commit, when no batch waits
  // to be sent (storage::AppendRequest::seal_batch), with upstream.batch's limits.
  platform::Status Store(std::span<const ReceivedMessage> messages, bool as_batch = false);
  // False while new messages cannot be stored (quota with the block policy, or a full disk).
  bool HasRoom(std::string* why) { return queue_.HasRoom(why); }
  // The MQTT session's keep-alive (ms): mqtt.keepalive until set, or the broker's own.
  void SetKeepAlive(int64_t keepalive_ms) { keepalive_ms_ = keepalive_ms; }
  // How long all of a group's transforms together may take in Store() (ms): a quarter of the
  // keep-alive, or 0 without transforms.
  int64_t TransformBudgetMs() const {
    return transforms_ && !transforms_->empty() ? keepalive_ms_ / 4 : 0;
  }

 private:
  const Config& config_;
  const Normalizer& normalizer_;
  storage::Queue& queue_;
  Metrics& metrics_;
  const TransformSet* transforms_;
  int64_t keepalive_ms_;
  uint64_t NormalizeAll(std::span<const ReceivedMessage> messages);
  // Holds the message's records for its route's transform; false when the route has none.
  bool HoldForTransform(const ReceivedMessage& m);
  void RunTransforms();
  void AppendBody(const ReceivedMessage& m, const Normalized& record,
                  const TransformRunner* transform = nullptr);
  void DeadLetter(const ReceivedMessage& m, DeadLetterReason reason);

  Normalized record_;                            // the message being normalized
  std::vector<Normalized> more_;                 // its records beyond the first (explode)
  std::string bodies_;                           // the records' lines but for id and seq
  std::vector<size_t> body_ends_;                // where each record's body ends in bodies_
  std::vector<const ReceivedMessage*> sources_;  // the message of each record
  std::vector<DeadLetterReason> reasons_;        // of dead_, each counted under its code's label
  std::vector<storage::DeadLetterInput> dead_;
  std::string acks_;
  // Per transform, the group's messages waiting for it and their sources.
  struct Batch {
    std::vector<TransformItem> items;
    std::vector<const ReceivedMessage*> sources;
  };
  std::map<TransformRunner*, Batch> batches_;
};

}  // namespace ferry::agent
