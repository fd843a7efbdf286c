// The MQTT connection as the source sees it: a small interface over libmosquitto
// (MosquittoTransport), so the source and its acknowledgement rule are tested with a fake.
//
// The rule this interface is shaped around: nothing the client queued (PUBACKs above all, but
// also PINGREQ, SUBSCRIBE, DISCONNECT, which libmosquitto sends in queue order, after the PUBACKs
// before them) may reach the broker while a received message is not yet committed to the queue.
// So the two operations that write to the socket, WriteQueued() and Goodbye(), are private:
// only AckGate, which owns the group of uncommitted messages, can call them
// (agent/mqtt/ack_gate.h). Everything else here reads, queues, or closes without writing.
//
// Not thread-safe: used by the MQTT loop only.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "platform/status.h"

namespace ferry::agent {

struct InboundMessage {
  std::string_view topic;
  std::string_view payload;
  int qos = 0;
  uint16_t mid = 0;  // packet id (QoS 1 and 2)
};

// What reading delivers. Called from inside Read(), on the loop's thread.
class MqttEvents {
 public:
  virtual ~MqttEvents() = default;
  // The broker answered CONNECT: `rc` 0 is accepted (the session is up), anything else refused
  // with that reason code (MQTT 3.1.1 CONNACK code, or MQTT 5 reason code) and `why` in words.
  virtual void OnConnack(int rc, const std::string& why) = 0;
  // A PUBLISH. For QoS 1 the client has already queued its PUBACK (not written).
  virtual void OnMessage(const InboundMessage& message) = 0;
};

enum class ReadOutcome {
  kPacket,   // one packet was read (maybe a message, maybe not)
  kDrained,  // nothing more to read now
  kClosed,   // the connection ended or failed; the transport is closed (see `error`)
};

class AckGate;

class MqttTransport {
 public:
  virtual ~MqttTransport() = default;

  // Opens a connection and queues CONNECT; the CONNACK arrives through Read(). Replaces a closed
  // connection. kUnavailable when the broker cannot be reached (`Status::message` says why).
  virtual platform::Status Connect(MqttEvents& events) = 0;
  // The socket to wait on, or -1 when there is no connection.
  virtual int Socket() const = 0;
  // Reads at most one packet, delivering what it holds to the events given to Connect().
  // On kClosed, `error` says why.
  virtual ReadOutcome Read(std::string* error) = 0;
  // Bytes were read from the socket and wait in a buffer: readable although poll(2) may not
  // say so.
  virtual bool HasBufferedInput() const { return false; }
  // Something is queued for the broker (written only by the gate).
  virtual bool WantWrite() const = 0;
  // Queues SUBSCRIBE.
  virtual platform::Status Subscribe(const std::string& topic, int qos) = 0;
  // Keep-alive bookkeeping: may queue PINGREQ, or close a connection whose broker stopped
  // answering. Never writes. An error means the connection is closed.
  virtual platform::Status Tick() = 0;
  // Closes the connection without writing anything queued: queued PUBACKs are lost with it, so
  // the broker keeps those messages and sends them again on the next connection.
  virtual void Drop() = 0;
  // The largest QoS 1 in-flight window the broker was asked to keep to (MQTT 5 Receive
  // Maximum), or 0 when the protocol cannot ask (MQTT 3.1.1: the broker's own setting applies).
  virtual uint32_t ReceiveMaximum() const = 0;
  // The broker's MQTT 5 Server Keep Alive from the last CONNACK, in milliseconds: the keep-alive
  // it holds this connection to instead of mqtt.keepalive. 0 when it sent none (or sent 0, which
  // turns its timer off): mqtt.keepalive applies.
  virtual int64_t ServerKeepAliveMs() const { return 0; }

 private:
  friend class AckGate;
  // Writes everything queued. An error means the connection is closed.
  virtual platform::Status WriteQueued() = 0;
  // Queues DISCONNECT, writes everything queued (DISCONNECT last), and closes.
  virtual void Goodbye() = 0;
};

}  // namespace ferry::agent
