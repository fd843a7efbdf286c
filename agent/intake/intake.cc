#include "agent/intake/intake.h"

#include "agent/mqtt/redelivery.h"
#include "agent/record/record.h"

namespace ferry::agent {

using platform::Status;

Intake::Intake(const Config& config, const Normalizer& normalizer, storage::Queue& queue,
               Metrics& metrics)
    : config_(config), normalizer_(normalizer), queue_(queue), metrics_(metrics) {}

Status Intake::Store(std::span<const ReceivedMessage> messages) {
  records_.resize(messages.size());
  sources_.clear();
  reasons_.clear();
  dead_.clear();
  acks_.clear();
  uint64_t ignored = 0;
  size_t n = 0;
  for (const ReceivedMessage& m : messages) {
    if (m.qos == 1) RedeliveryFilter::Pack(m.mid, m.hash, acks_);
    std::string reason;
    Outcome outcome = Outcome::kDeadLetter;
    if (m.oversize) {
      reason = "payload too large: " + std::to_string(m.full_size) +
               " bytes, mqtt.max_payload is " + std::to_string(config_.mqtt.max_payload);
    } else {
      records_[n] = Normalized();
      outcome = normalizer_.Normalize({m.topic, m.payload, m.received_ms}, &records_[n], &reason);
    }
    if (outcome == Outcome::kRecord) {
      sources_.push_back(&m);
      ++n;
    } else if (outcome == Outcome::kIgnored) {
      ++ignored;
    } else {
      reasons_.push_back(std::move(reason));
      dead_.push_back({{}, m.topic, m.payload, m.received_ms});
    }
  }
  for (size_t i = 0; i < dead_.size(); ++i) dead_[i].reason = reasons_[i];

  storage::AppendRequest req;
  req.count = static_cast<uint32_t>(n);
  req.oldest_received_ms = n > 0 ? sources_[0]->received_ms : 0;
  req.oldest_received_mono_ms = n > 0 ? sources_[0]->received_mono_ms : 0;
  req.dead_letters = dead_;
  req.acks = acks_;
  const std::string& epoch = queue_.epoch();
  req.encode = [&](uint64_t first_seq, std::string& out) {
    for (size_t i = 0; i < n; ++i) {
      const Normalized& r = records_[i];
      RecordEnvelope env;
      env.gateway = config_.gateway.id;
      env.epoch = epoch;
      env.seq = first_seq + i;
      env.topic = sources_[i]->topic;
      env.device = r.device;
      env.ts_ms = r.ts_ms;
      env.ts_from_payload = r.ts_from_payload;
      env.received_ms = sources_[i]->received_ms;
      env.gateway_labels = &config_.gateway.labels;
      env.route_labels = &r.labels;
      env.data = &r.data;
      AppendRecordLine(env, out);
    }
  };
  if (n > 0 || !dead_.empty()) {
    platform::Result<storage::AppendResult> appended = queue_.Append(req);
    if (!appended.ok()) return appended.status();
    if (appended->dropped > 0) metrics_.records_dropped.Add("quota", appended->dropped);
  }
  metrics_.records_received.Add("mqtt", messages.size());
  metrics_.records_stored += n;
  for (const std::string& reason : reasons_) {
    metrics_.records_dead_lettered.Add(DeadLetterReasonLabel(reason));
  }
  if (ignored > 0) metrics_.records_dropped.Add("ignored", ignored);
  return Status::Ok();
}

}  // namespace ferry::agent
