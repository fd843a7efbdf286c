// An MqttTransport for tests: a scripted broker that records which PUBACKs were queued by the
// client and which reached it, so tests can check that nothing unstored was acknowledged.
#pragma once

#include <unistd.h>

#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "agent/mqtt/transport.h"

namespace ferry::testing {

class FakeTransport : public agent::MqttTransport {
 public:
  struct Incoming {
    std::string topic, payload;
    int qos = 1;
    uint16_t mid = 0;
    bool close = false;  // the connection ends here instead
  };

  FakeTransport() {
    // Socket() is a pipe's read end with one byte in it: always readable, so the source never
    // waits on it.
    if (pipe(fds_) == 0) (void)!write(fds_[1], "x", 1);
  }
  ~FakeTransport() override {
    close(fds_[0]);
    close(fds_[1]);
  }

  // Queues a message the broker will send.
  void Send(std::string topic, std::string payload, int qos, uint16_t mid) {
    incoming.push_back({std::move(topic), std::move(payload), qos, mid, false});
  }

  platform::Status Connect(agent::MqttEvents& e) override {
    if (refuse_connect) return platform::Status::Unavailable("Connection refused");
    events = &e;
    connected = true;
    connack_pending = true;
    queued_acks.clear();
    ++connects;
    return platform::Status::Ok();
  }
  int Socket() const override { return connected ? fds_[0] : -1; }
  agent::ReadOutcome Read(std::string* error) override {
    if (!connected) return agent::ReadOutcome::kClosed;
    if (connack_pending) {
      connack_pending = false;
      events->OnConnack(0, "");
      return agent::ReadOutcome::kPacket;
    }
    if (incoming.empty()) return agent::ReadOutcome::kDrained;
    Incoming m = std::move(incoming.front());
    incoming.pop_front();
    if (m.close) {
      *error = "connection reset by peer";
      Drop();
      return agent::ReadOutcome::kClosed;
    }
    if (m.qos == 1) queued_acks.push_back(m.mid);  // as libmosquitto: before on_message
    events->OnMessage({m.topic, m.payload, m.qos, m.mid});
    return agent::ReadOutcome::kPacket;
  }
  bool HasBufferedInput() const override { return connected && buffered_input; }
  bool WantWrite() const override { return connected && !queued_acks.empty(); }
  platform::Status Subscribe(const std::string&, int) override { return platform::Status::Ok(); }
  platform::Status Tick() override { return platform::Status::Ok(); }
  void Drop() override {
    lost_acks += queued_acks.size();
    queued_acks.clear();
    connected = false;
    ++drops;
  }
  uint32_t ReceiveMaximum() const override { return receive_maximum; }
  int64_t ServerKeepAliveMs() const override { return server_keepalive_ms; }

  // Called with each batch of PUBACKs as it reaches the broker, before it is recorded.
  std::function<void(const std::vector<uint16_t>&)> on_acks;
  std::deque<Incoming> incoming;
  std::vector<uint16_t> queued_acks;   // queued by the client, not written
  std::vector<uint16_t> written_acks;  // reached the broker
  size_t lost_acks = 0;                // died with a dropped connection
  agent::MqttEvents* events = nullptr;
  bool connected = false, connack_pending = false, refuse_connect = false;
  bool buffered_input = false;  // input waits in the client's read buffer (HasBufferedInput)
  bool stall_writes = false;    // the broker reads nothing: PUBACKs stay queued
  int connects = 0, drops = 0, goodbyes = 0;
  uint32_t receive_maximum = 0;
  int64_t server_keepalive_ms = 0;  // the CONNACK's Server Keep Alive (MQTT 5); 0: none

 private:
  platform::Status WriteQueued() override {
    if (stall_writes) return platform::Status::Ok();  // the socket took nothing; no error
    if (on_acks && !queued_acks.empty()) on_acks(queued_acks);
    written_acks.insert(written_acks.end(), queued_acks.begin(), queued_acks.end());
    queued_acks.clear();
    return platform::Status::Ok();
  }
  void Goodbye() override {
    (void)WriteQueued();
    connected = false;
    ++goodbyes;
  }

  int fds_[2] = {-1, -1};
};

}  // namespace ferry::testing
