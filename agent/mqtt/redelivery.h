// Recognizes the broker's redelivery of QoS 1 messages that Ferry had already stored.
//
// PUBACK goes out only after the commit, so a crash (or a lost connection) between the commit
// and the PUBACK reaching the broker makes the broker send those messages again on the next
// connection, with the same packet ids, before anything new. Without this filter each would
// become a second record. Each stored group keeps (packet id, hash of topic and payload) of its
// QoS 1 messages with its block (alone if it has none), and the queue keeps them after the
// block is delivered (the forwarder can deliver a group before its PUBACKs reach the broker:
// storage/FORMAT.md); after a (re)connect, a QoS 1 message matching a remembered pair is
// acknowledged without being stored again. The first QoS 1 message that does not match
// ends the redelivery phase, so a later message that happens to reuse a packet id and repeat a
// payload is never mistaken for one.
//
// Not thread-safe: used by the MQTT loop only.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace ferry::agent {

class RedeliveryFilter {
 public:
  // Remembered pairs at least: more than the broker's in-flight window under MQTT 3.1.1
  // (mosquitto's max is 65535, its default 20; the gateway broker config in config/ uses 1000).
  static constexpr size_t kCapacity = 4096;
  static constexpr size_t kPackedSize = 10;  // uint16 packet id + uint64 hash, little endian

  // Pairs to remember for groups of up to `commit_max_records` messages: two groups (the
  // newest group's PUBACKs, and after a power cut the group's before it, may be lost), at
  // least kCapacity.
  static size_t CapacityFor(uint32_t commit_max_records);

  explicit RedeliveryFilter(size_t capacity = kCapacity) : capacity_(capacity) {}

  // FNV-1a over topic, a NUL, and payload.
  static uint64_t Hash(std::string_view topic, std::string_view payload);
  static void Pack(uint16_t mid, uint64_t hash, std::string& out);

  // Seeds from stored groups, newest group first (as Queue::RecentAcks returns them).
  void Load(const std::vector<std::string>& newest_first);
  void Remember(uint16_t mid, uint64_t hash);
  // A new connection: what comes first may be redeliveries.
  void Arm() {
    armed_ = !recent_.empty();
    next_ = recent_.size();
  }
  bool armed() const { return armed_; }
  // True when (mid, hash) is a redelivery of a stored message. Call for QoS 1 messages only.
  bool IsRedelivery(uint16_t mid, uint64_t hash);

 private:
  size_t capacity_;
  std::deque<std::pair<uint16_t, uint64_t>> recent_;  // oldest first
  // Where the next redelivery is looked for first: just after the last one found. The broker
  // resends in the order it first sent, the order remembered, so a phase of n redeliveries
  // costs O(n) after its first look-up, not O(n * capacity).
  size_t next_ = 0;
  bool armed_ = false;
};

}  // namespace ferry::agent
