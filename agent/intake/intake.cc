#include "agent/intake/intake.h"

#include <algorithm>

#include "agent/mqtt/redelivery.h"
#include "agent/record/record.h"

namespace ferry::agent {

using platform::Status;

Intake::Intake(const Config& config, const Normalizer& normalizer, storage::Queue& queue,
               Metrics& metrics, const TransformSet* transforms)
    : config_(config),
      normalizer_(normalizer),
      queue_(queue),
      metrics_(metrics),
      transforms_(transforms),
      keepalive_ms_(config.mqtt.keepalive_ms) {}

// Each record's line is written as soon as it is normalized, all but its id and seq (known
// only at the commit): a group of thousands of messages then holds one string of lines, not
// thousands of JSON documents.
Status Intake::Store(std::span<const ReceivedMessage> messages, bool as_batch) {
  uint64_t ignored = NormalizeAll(messages);
  const size_t n = sources_.size();
  storage::AppendRequest req;
  req.count = static_cast<uint32_t>(n);
  // A transform's records follow the others: the oldest need not be the first.
  for (const ReceivedMessage* m : sources_) {
    if (req.oldest_received_mono_ms == 0 || m->received_mono_ms < req.oldest_received_mono_ms) {
      req.oldest_received_ms = m->received_ms;
      req.oldest_received_mono_ms = m->received_mono_ms;
    }
  }
  req.dead_letters = dead_;
  req.acks = acks_;
  if (as_batch) {
    req.seal_batch =
        storage::BatchLimits{config_.upstream.batch_max_records, config_.upstream.batch_max_bytes};
  }
  const std::string& epoch = queue_.epoch();
  // Each head is `{"id":"<gateway>.<epoch>.<seq>","seq":<seq>,`: seqs of at most 20 digits.
  req.encoded_size_hint = bodies_.size() + n * (config_.gateway.id.size() + epoch.size() + 64);
  req.encode = [&](uint64_t first_seq, std::string& out) {
    size_t begin = 0;
    for (size_t i = 0; i < n; ++i) {
      AppendRecordHead(config_.gateway.id, epoch, first_seq + i, out);
      out.append(bodies_, begin, body_ends_[i] - begin);
      begin = body_ends_[i];
    }
  };
  // A group of only ignored messages commits its acks alone: a redelivery of it that matched
  // nothing would end the redelivery phase before the group after it (agent/mqtt/redelivery.h).
  // What BIRTH messages of this group taught rides in its transaction.
  std::vector<storage::SparkplugMetricRow> learnt = normalizer_.sparkplug_state().TakePending();
  req.sparkplug_metrics = learnt;
  if (n > 0 || !dead_.empty() || !acks_.empty() || !learnt.empty()) {
    platform::Result<storage::AppendResult> appended = queue_.Append(req);
    if (!appended.ok()) normalizer_.sparkplug_state().Restore(std::move(learnt));
    if (!appended.ok()) return appended.status();
    if (appended->dropped > 0) metrics_.records_dropped.Add("quota", appended->dropped);
  }
  metrics_.records_received.Add("mqtt", messages.size());
  metrics_.records_stored += n;
  for (const DeadLetterReason& reason : reasons_) {
    metrics_.records_dead_lettered.Add(DeadLetterLabel(reason.code));
  }
  if (ignored > 0) metrics_.records_dropped.Add("ignored", ignored);
  return Status::Ok();
}

// Normalizes each message into bodies_ or dead_; returns how many an ignore route dropped.
uint64_t Intake::NormalizeAll(std::span<const ReceivedMessage> messages) {
  bodies_.clear();
  body_ends_.clear();
  sources_.clear();
  reasons_.clear();
  dead_.clear();
  acks_.clear();
  // Sized once for the group, not by doubling: a record's body is its payload (normalized) plus
  // the envelope; a reserve beyond what is written costs address space, not memory.
  size_t estimate = 0;
  for (const ReceivedMessage& m : messages) estimate += m.payload.size() + m.topic.size() + 512;
  bodies_.reserve(estimate);
  uint64_t ignored = 0;
  for (const ReceivedMessage& m : messages) {
    if (m.qos == 1) RedeliveryFilter::Pack(m.mid, m.hash, acks_);
    DeadLetterReason reason;
    Outcome outcome = Outcome::kDeadLetter;
    if (m.oversize) {
      reason = {DeadLetterCode::kTooLarge, "payload too large: " + std::to_string(m.full_size) +
                                               " bytes, mqtt.max_payload is " +
                                               std::to_string(config_.mqtt.max_payload)};
    } else {
      record_ = Normalized();
      outcome =
          normalizer_.Normalize({m.topic, m.payload, m.received_ms}, &record_, &reason, &more_);
    }
    if (outcome == Outcome::kRecord) {
      if (HoldForTransform(m)) continue;
      AppendBody(m, record_);
      for (const Normalized& more : more_) AppendBody(m, more);  // an explode route's others
    } else if (outcome == Outcome::kIgnored) {
      ++ignored;
    } else {
      DeadLetter(m, std::move(reason));
    }
  }
  RunTransforms();
  for (size_t i = 0; i < dead_.size(); ++i) dead_[i].reason = reasons_[i].text;
  return ignored;
}

bool Intake::HoldForTransform(const ReceivedMessage& m) {
  TransformRunner* runner = transforms_ ? transforms_->ForRoute(record_.route) : nullptr;
  if (runner == nullptr) return false;
  Batch& batch = batches_[runner];
  TransformItem item;
  item.topic = m.topic;
  item.payload = m.payload;
  item.received_ms = m.received_ms;
  item.input.push_back(std::move(record_));
  for (Normalized& more : more_) item.input.push_back(std::move(more));
  batch.items.push_back(std::move(item));
  batch.sources.push_back(&m);
  return true;
}

// Each transform gets its messages of the group as one batch; its records follow the group's
// other records, its failures become dead letters.
void Intake::RunTransforms() {
  // Nothing goes to the broker while a group is held: all of a group's transforms together get
  // a quarter of the keep-alive (AckGate holds a group that much less).
  const int64_t budget = TransformBudgetMs();
  int64_t start = 0;
  for (auto& [runner, batch] : batches_) {
    if (batch.items.empty()) continue;
    if (start == 0) start = transforms_->clock().MonotonicMillis();
    int64_t left = std::max<int64_t>(1, budget - (transforms_->clock().MonotonicMillis() - start));
    runner->Run(batch.items, left);
    for (size_t i = 0; i < batch.items.size(); ++i) {
      TransformItem& item = batch.items[i];
      if (!item.error.empty()) {
        DeadLetter(*batch.sources[i], {DeadLetterCode::kTransform, std::move(item.error)});
        continue;
      }
      for (const Normalized& record : item.records) AppendBody(*batch.sources[i], record, runner);
    }
    batch.items.clear();
    batch.sources.clear();
  }
}

void Intake::DeadLetter(const ReceivedMessage& m, DeadLetterReason reason) {
  reasons_.push_back(std::move(reason));
  dead_.push_back({{}, m.topic, m.payload, m.received_ms});
}

void Intake::AppendBody(const ReceivedMessage& m, const Normalized& record,
                        const TransformRunner* transform) {
  RecordEnvelope env;
  env.gateway = config_.gateway.id;
  env.topic = m.topic;
  env.device = record.device;
  env.ts_ms = record.ts_ms;
  env.ts_from_payload = record.ts_from_payload;
  env.received_ms = m.received_ms;
  env.gateway_labels = &config_.gateway.labels;
  env.route_labels = &record.labels;
  env.data = &record.data;
  if (transform != nullptr) {
    env.transform = transform->config().name;
    env.transform_sha256 = transforms_->PinOf(transform);
  }
  AppendRecordBody(env, bodies_);
  body_ends_.push_back(bodies_.size());
  sources_.push_back(&m);
}

}  // namespace ferry::agent
