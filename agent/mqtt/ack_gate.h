// The one owner of Ferry's first promise: a message the broker handed over is acknowledged
// (PUBACK) only after it is committed to the queue.
//
// The gate holds the group of messages read from the broker and not yet committed, and it is
// the only code that can make the MQTT client write (MqttTransport::WriteQueued and Goodbye are
// private to it). It writes only when it holds nothing: right after a successful commit, or
// between groups. Every way a held group can end goes through here:
//   CommitAndRelease  commit, then write (the PUBACKs first); a failed commit drops the
//                     connection without writing, so the broker sends those messages again
//   Leave             (pause, stop, reload) commit, then DISCONNECT; if the commit fails, drop
//   ConnectionLost    the socket is gone: QoS 1 messages will come again, QoS 0 ones are
//                     committed, since nobody resends them
// A crash at any instant leaves nothing acknowledged that is not committed, because nothing
// else writes. QoS 0 messages that could not be stored are counted in
// ferry_records_dropped_total{reason="store_failed"}.
//
// The gate also recognizes the broker's redelivery of messages stored before (RedeliveryFilter)
// and decides when a group is due: when it is full (storage.commit_max_records, a byte bound,
// or the broker's QoS 1 window), after storage.commit_interval (storage.commit_interval_qos1
// when the group holds only QoS 1 messages, which the broker keeps until their PUBACKs, and
// fewer than kQos1GroupBytes), or
// early enough that holding and the commit's transforms never outlast the MQTT keep-alive since
// the last write (nothing, not even PINGREQ, goes out while holding; the broker waits 1.5 times
// the keep-alive before it ends a silent session).
//
// Not thread-safe: used by the MQTT loop only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "agent/config/config.h"
#include "agent/intake/intake.h"
#include "agent/mqtt/redelivery.h"
#include "agent/mqtt/transport.h"
#include "agent/status/agent_state.h"
#include "agent/status/metrics.h"
#include "platform/clock.h"
#include "platform/status.h"

namespace ferry::agent {

class AckGate {
 public:
  // A group of only QoS 1 messages that holds this many topic and payload bytes stops waiting
  // for storage.commit_interval_qos1 and commits after storage.commit_interval: enough records
  // that the pages every commit rewrites (the tables' upper pages, the batch row, meta) are
  // small beside them; waiting longer would only add delay. With 290 B payloads a 30 s group
  // reaches it from about 14 msg/s on (about 8 s at 50 msg/s, 1 s at about 400 msg/s).
  static constexpr uint64_t kQos1GroupBytes = 128 * 1024;

  // `stored_acks` seeds the redelivery filter: Queue::RecentAcks() at start.
  AckGate(const Config& config, MqttTransport& transport, Intake& intake, Metrics& metrics,
          platform::Clock& clock, const std::vector<std::string>& stored_acks);

  // A new session is up: what the broker sends first may be redeliveries.
  void SessionStarted();
  // A message read from the connection joins the held group, unless it is a redelivery of one
  // stored before (then only its PUBACK, already queued, will go out).
  void Hold(const InboundMessage& message);

  bool holding() const { return count_ > 0; }
  size_t held() const { return count_; }
  // The group reached a size limit: read nothing more before committing it.
  bool full() const;
  // Whether the held group must be committed now (monotonic `now_ms`).
  bool CommitDue(int64_t now_ms);
  // Monotonic time at which the held group becomes due (when holding).
  int64_t due_ms() const { return due_ms_; }
  // The keep-alive of this session, in milliseconds: the broker's MQTT 5 Server Keep Alive
  // when it sent one, else mqtt.keepalive.
  int64_t KeepAliveMs() const;

  // Commits the held group, then writes what the client queued (the PUBACKs first). When the
  // commit fails, the connection is dropped without writing and the error returned with
  // `*stored` false (kNoSpace: quota or disk full; kIoError: write or sync failed); an error
  // with `*stored` true means the write failed and the connection is closed.
  platform::Status CommitAndRelease(bool* stored);
  // Writes what is queued (PINGREQ, SUBSCRIBE, PUBACKs of redeliveries) when nothing is held;
  // does nothing while holding. An error means the connection closed.
  platform::Status Flush();
  // Ends the session (pause, stop, reload): commits the held group, then says DISCONNECT after
  // the PUBACKs; if the commit fails, drops the connection without writing.
  void Leave();
  // The connection is gone: forgets held QoS 1 messages (the broker sends them again) and
  // commits held QoS 0 ones.
  void ConnectionLost();

 private:
  platform::Status Commit();
  // How long after the last write a group may be held: the keep-alive less the transforms'
  // budget.
  int64_t HoldLimitMs() const;
  void Forget();
  // Points the held messages' views into bytes_held_ (which may have moved as it grew).
  void BindViews();
  void CountLostQos0(const platform::Status& why);

  const Config& config_;
  MqttTransport& transport_;
  Intake& intake_;
  Metrics& metrics_;
  platform::Clock& clock_;
  RedeliveryFilter redelivery_;
  std::vector<ReceivedMessage> group_;  // reused: only the first count_ are live
  // The held messages' topics and payloads, one after the other: one buffer sized by the group's
  // bytes, not a string per slot that keeps the largest payload it ever held. spans_[i] says
  // where group_[i]'s are; BindViews points its views there once the group is complete.
  struct Span {
    size_t at = 0;  // the topic's first byte in bytes_held_; the payload follows it
    size_t topic_size = 0;
    size_t payload_size = 0;
  };
  std::string bytes_held_;
  std::vector<Span> spans_;
  size_t count_ = 0;
  size_t qos1_count_ = 0;
  uint64_t bytes_ = 0;         // topic and payload bytes of the held group
  uint64_t max_group_bytes_;   // a group never brings more than the queue takes in one
  size_t learned_window_ = 0;  // QoS 1 messages the broker sends before waiting for PUBACKs
  bool has_qos0_ = false;      // the held group holds a QoS 0 message
  int64_t started_ms_ = 0;     // monotonic: when the held group's first message came
  int64_t due_ms_ = 0;         // monotonic: when the held group must be committed
  int64_t last_write_ms_ = 0;  // monotonic: when the gate last let the client write
};

}  // namespace ferry::agent
