// MqttTransport over libmosquitto: the connection, TLS, credentials and the protocol version.
//
// Write order. libmosquitto 2.0 queues the PUBACK of a QoS 1 message *before* it calls
// on_message, and writes it at once unless the client is marked threaded
// (lib/handle_publish.c, lib/packet_mosq.c). So the client is marked threaded (a failure to do
// so is an error: the whole acknowledgement order rests on it) and this class writes only in
// WriteQueued() and Goodbye(), which only the AckGate can call.
//
// System calls. libmosquitto reads each packet with three or more read(2) calls, writes each
// PUBACK with its own write(2), and writes a byte to an internal socket pair for each packet it
// queues; platform/socket_batching.h gives it 16 KiB reads, one send(2) per group's PUBACKs and
// no socket pair: about one system call per twenty messages instead of five per message.
//
// Protocol. It connects with MQTT 5, asking the broker for an in-flight window (Receive Maximum)
// of two group commits (2 x storage.commit_max_records, at most 65,535), so that a QoS 1 group
// is not cut at the broker's default of 20 messages and the broker sends the next group while
// one is committed, and with a Session Expiry Interval
// that never ends, so the session persists across disconnects as a 3.1.1 persistent session
// does. A broker that refuses MQTT 5 (CONNACK "unsupported protocol version") is connected to
// with MQTT 3.1.1 from then on, and the broker's own window applies.
//
// Not thread-safe: used by the MQTT loop only.
#pragma once

#include <string>

#include "agent/config/config.h"
#include "agent/mqtt/transport.h"

struct mosquitto;
struct mosquitto_message;
struct mqtt5__property;  // mosquitto_property

namespace ferry::agent {

class MosquittoTransport : public MqttTransport {
 public:
  explicit MosquittoTransport(const Config& config);
  ~MosquittoTransport() override;

  platform::Status Connect(MqttEvents& events) override;
  int Socket() const override;
  ReadOutcome Read(std::string* error) override;
  bool HasBufferedInput() const override;
  bool WantWrite() const override;
  platform::Status Subscribe(const std::string& topic, int qos) override;
  platform::Status Tick() override;
  void Drop() override;
  uint32_t ReceiveMaximum() const override;
  // The Receive Maximum asked for under MQTT 5: two groups' worth, at most 65,535.
  static uint32_t ReceiveMaximumFor(const Config& config);
  int64_t ServerKeepAliveMs() const override { return server_keepalive_ms_; }

  // The protocol version in use: 5, or 4 (3.1.1) after a broker refused MQTT 5.
  int protocol() const { return protocol_; }

 private:
  platform::Status WriteQueued() override;
  void Goodbye() override;

  platform::Status Create();
  platform::Status ConfigureTls();
  int ConnectV5();
  // The MQTT 5 form, called for 3.1.1 connections too (without properties): it sees the
  // CONNACK's Server Keep Alive before the session starts.
  static void OnConnectThunk(mosquitto*, void* self, int rc, int flags,
                             const mqtt5__property* props);
  static void OnMessageThunk(mosquitto*, void* self, const mosquitto_message* msg);
  static void OnLogThunk(mosquitto* mosq, void* self, int level, const char* text);

  const Config& config_;
  mosquitto* mosq_ = nullptr;
  MqttEvents* events_ = nullptr;
  int protocol_ = 5;
  int64_t server_keepalive_ms_ = 0;  // from the last CONNACK (MQTT 5); 0: none
  bool delivered_ = false;           // the current Read() delivered a message
  int buffered_fd_ = -1;             // the socket whose reads platform/socket_batching.h batches
  // Why this connection attempt's TLS handshake failed, from libmosquitto's log: "" if it did not.
  std::string tls_error_;
};

}  // namespace ferry::agent
