#include "agent/mqtt/ack_gate.h"

#include <algorithm>

#include "platform/log.h"
#include "storage/buffers.h"

namespace ferry::agent {

using platform::Status;

AckGate::AckGate(const Config& config, MqttTransport& transport, Intake& intake, Metrics& metrics,
                 platform::Clock& clock, const std::vector<std::string>& stored_acks)
    : config_(config),
      transport_(transport),
      intake_(intake),
      metrics_(metrics),
      clock_(clock),
      redelivery_(RedeliveryFilter::CapacityFor(config.storage.commit_max_records)),
      max_group_bytes_(storage::Queue::MaxGroupBytes(config.storage.max_size)) {
  redelivery_.Load(stored_acks);
}

void AckGate::SessionStarted() {
  redelivery_.Arm();
  last_write_ms_ = clock_.MonotonicMillis();
  intake_.SetKeepAlive(KeepAliveMs());
}

int64_t AckGate::KeepAliveMs() const {
  int64_t server = transport_.ServerKeepAliveMs();
  return server > 0 ? server : config_.mqtt.keepalive_ms;
}

// The broker ends a session that sent nothing for 1.5 times the keep-alive (MQTT 3.1.1 and 5,
// 3.1.2.10; mosquitto checks `now - last_msg_in > keepalive * 3 / 2` in whole seconds). A group
// is committed by one keep-alive after the last write, its transforms (a quarter of the
// keep-alive, Intake) included, which leaves half the keep-alive for the commit's fsync and the
// write of its PUBACKs. libmosquitto queues a PINGREQ one keep-alive after its last write; it
// goes out with the PUBACKs, and the client gives the PINGRESP another keep-alive.
int64_t AckGate::HoldLimitMs() const { return KeepAliveMs() - intake_.TransformBudgetMs(); }

void AckGate::Hold(const InboundMessage& msg) {
  uint64_t hash = 0;
  if (msg.qos == 1) {
    hash = RedeliveryFilter::Hash(msg.topic, msg.payload);
    if (redelivery_.IsRedelivery(msg.mid, hash)) {
      ++metrics_.mqtt_redeliveries_skipped;  // stored before; its PUBACK goes out with the next
      return;
    }
  }
  int64_t now = clock_.MonotonicMillis();
  if (count_ == 0) {
    started_ms_ = now;
    has_qos0_ = false;
    qos1_count_ = 0;
    bytes_ = 0;
  }
  has_qos0_ = has_qos0_ || msg.qos == 0;
  bytes_ += msg.payload.size() + msg.topic.size();
  // A group of only QoS 1 messages may wait longer: the broker keeps them until their PUBACKs,
  // so a crash loses none, and fewer commits write less to flash. It waits until it holds
  // kQos1GroupBytes (then storage.commit_interval applies, as to any group), so the wait
  // shrinks as the rate grows. A QoS 0 message in the group shortens the wait, since nobody
  // resends it. Nothing, not even PINGREQ, goes out while a group is held: see HoldLimitMs().
  int64_t wait = config_.storage.commit_interval_ms;
  if (!has_qos0_ && bytes_ < kQos1GroupBytes) {
    wait = std::max(wait, config_.storage.commit_interval_qos1_ms);
  }
  due_ms_ = std::min(started_ms_ + wait, last_write_ms_ + HoldLimitMs());
  if (msg.qos == 1) ++qos1_count_;
  if (count_ == group_.size()) {
    group_.emplace_back();
    spans_.emplace_back();
  }
  // An oversize payload is kept only in part, for the dead letter that explains it.
  bool oversize = msg.payload.size() > config_.mqtt.max_payload;
  std::string_view payload = msg.payload.substr(0, oversize ? 1024 : msg.payload.size());
  spans_[count_] = {bytes_held_.size(), msg.topic.size(), payload.size()};
  bytes_held_.append(msg.topic).append(payload);
  ReceivedMessage& m = group_[count_++];
  m.topic = m.payload = {};  // until BindViews: bytes_held_ may still move as it grows
  m.full_size = msg.payload.size();
  m.mid = msg.mid;
  m.hash = hash;
  m.oversize = oversize;
  m.received_ms = clock_.WallMillis();
  m.received_mono_ms = now;
  m.qos = msg.qos;
}

bool AckGate::full() const {
  if (count_ >= config_.storage.commit_max_records) return true;
  if (bytes_ >= max_group_bytes_) return true;
  size_t window = transport_.ReceiveMaximum();
  if (window == 0) window = learned_window_;
  return qos1_count_ > 0 && window > 0 && qos1_count_ >= window;
}

// At a low rate, waiting up to storage.commit_interval gathers messages into one commit (one
// write to flash instead of one per message). A QoS 1 group never waits once it holds as many
// messages as the broker sends before waiting for PUBACKs, so throughput does not suffer.
bool AckGate::CommitDue(int64_t now_ms) {
  if (count_ == 0) return false;
  if (full()) return true;
  if (now_ms < due_ms_) return false;
  // Without MQTT 5's Receive Maximum the window is the broker's own setting: if QoS 1 messages
  // were waiting when the interval ran out, the broker may have stopped at its window; next
  // time commit as soon as that many are here.
  if (transport_.ReceiveMaximum() == 0) learned_window_ = std::max(learned_window_, qos1_count_);
  return true;
}

Status AckGate::Commit() {
  if (count_ == 0) return Status::Ok();
  // A group that waited as long as the forwarder's linger would have is a batch already: it
  // becomes one in its own commit (when no batch waits to be sent), saving the batch's commit.
  bool as_batch = clock_.MonotonicMillis() - started_ms_ >= config_.upstream.batch_linger_ms;
  BindViews();
  Status st = intake_.Store({group_.data(), count_}, as_batch);
  if (st.ok()) {
    ++metrics_.intake_commits;
    for (size_t i = 0; i < count_; ++i) {
      if (group_[i].qos == 1) redelivery_.Remember(group_[i].mid, group_[i].hash);
    }
  } else {
    CountLostQos0(st);
  }
  Forget();
  return st;
}

// QoS 1 messages that were not stored come again (no PUBACK went out); QoS 0 ones are lost.
void AckGate::CountLostQos0(const Status& why) {
  uint64_t lost = 0;
  for (size_t i = 0; i < count_; ++i) lost += group_[i].qos == 0 ? 1 : 0;
  if (lost == 0) return;
  metrics_.records_dropped.Add("store_failed", lost);
  platform::LogError("intake", std::to_string(lost) +
                                   " QoS 0 messages lost: they could not be stored (" +
                                   why.ToString() + ") and the broker does not resend QoS 0");
}

void AckGate::BindViews() {
  std::string_view all = bytes_held_;
  for (size_t i = 0; i < count_; ++i) {
    const Span& span = spans_[i];
    group_[i].topic = all.substr(span.at, span.topic_size);
    group_[i].payload = all.substr(span.at + span.topic_size, span.payload_size);
  }
}

void AckGate::Forget() {
  count_ = 0;
  qos1_count_ = 0;
  bytes_ = 0;
  // A large group leaves large buffers behind: give them back rather than keep the high-water
  // mark (up to storage.max_size / 8) for the life of the agent.
  constexpr size_t kKeepGroupSlots = 4096;
  if (group_.size() > kKeepGroupSlots) {
    group_.resize(kKeepGroupSlots);
    group_.shrink_to_fit();
    spans_.resize(kKeepGroupSlots);
    spans_.shrink_to_fit();
  }
  storage::ClearAndTrim(bytes_held_);
}

Status AckGate::CommitAndRelease(bool* stored) {
  Status st = Commit();
  *stored = st.ok();
  if (!st.ok()) {
    transport_.Drop();  // the PUBACKs of what was not stored die with the connection
    return st;
  }
  return Flush();
}

Status AckGate::Flush() {
  if (count_ > 0 || transport_.Socket() < 0 || !transport_.WantWrite()) return Status::Ok();
  last_write_ms_ = clock_.MonotonicMillis();
  return transport_.WriteQueued();
}

void AckGate::Leave() {
  Status st = Commit();
  if (st.ok()) {
    transport_.Goodbye();
    return;
  }
  platform::LogError("intake",
                     "leaving the broker without acknowledging the last messages, "
                     "which could not be stored (the broker keeps the QoS 1 ones): " +
                         st.ToString());
  transport_.Drop();
}

void AckGate::ConnectionLost() {
  size_t kept = 0;
  for (size_t i = 0; i < count_; ++i) {
    if (group_[i].qos != 0) continue;
    std::swap(spans_[kept], spans_[i]);
    std::swap(group_[kept++], group_[i]);
  }
  count_ = kept;
  Status st = Commit();
  if (!st.ok()) platform::LogError("intake", "storing QoS 0 messages: " + st.ToString());
  Forget();
  transport_.Drop();
}

}  // namespace ferry::agent
