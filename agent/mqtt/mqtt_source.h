// The MQTT source: a client with a persistent session that takes messages in and hands them to
// the intake in groups. Its parts:
//   MqttTransport (mosquitto_transport.h)  the connection: TLS, credentials, MQTT 5 or 3.1.1
//   AckGate (ack_gate.h)                   the held group and its acknowledgements: the only
//                                          code that lets the client write
//   MqttSource (this file)                 the loop and its flow control: connecting with
//                                          backoff, reading, pausing while the queue has no
//                                          room, back-pressure on unwritten PUBACKs
//
// Pausing: when the queue cannot take more (quota with the block policy, or a full disk), the
// source leaves the broker through the gate (the held group is committed first, or, if that
// fails, left unacknowledged), which keeps new messages in the persistent session, and
// reconnects once there is room.
//
// Run() is the intake thread's body; it returns when `stop` is set. Step() is one round of it,
// for tests; it never blocks longer than about half a second.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "agent/config/config.h"
#include "agent/intake/intake.h"
#include "agent/mqtt/ack_gate.h"
#include "agent/mqtt/transport.h"
#include "agent/status/agent_state.h"
#include "agent/status/metrics.h"
#include "platform/clock.h"
#include "platform/log.h"

namespace ferry::agent {

class MqttSource : private MqttEvents {
 public:
  // `stored_acks` seeds the redelivery filter: Queue::RecentAcks() at start. `transport` is
  // the connection to use; null makes a MosquittoTransport.
  MqttSource(const Config& config, Intake& intake, Metrics& metrics, AgentState& state,
             platform::Clock& clock, const std::vector<std::string>& stored_acks,
             std::unique_ptr<MqttTransport> transport = nullptr);
  ~MqttSource() override;

  void Run(const std::atomic<bool>& stop);
  void Step();
  // Leaves the broker through the gate (what Run does when stopped).
  void Finish();

  bool paused() const { return paused_; }
  const AckGate& gate() const { return gate_; }
  // Packets the last Step's read round took: what ReadPacing decides the next pause by.
  int last_round_packets() const { return last_round_packets_; }

 private:
  void OnConnack(int rc, const std::string& why) override;
  void OnMessage(const InboundMessage& message) override;
  bool ReadyToRead(int64_t now);
  bool Connect(int64_t now);
  bool ReadAvailable();
  void AfterRead();
  void Closed(const std::string& why);
  void StoreFailed(const platform::Status& st);
  void ScheduleReconnect(int64_t now);
  void Pause(const std::string& why);
  void ReportConnectFailure(const std::string& why);

  const Config& config_;
  Intake& intake_;
  Metrics& metrics_;
  AgentState& state_;
  platform::Clock& clock_;
  std::unique_ptr<MqttTransport> transport_;
  AckGate gate_;
  bool paused_ = false;
  int last_round_packets_ = 0;  // packets the last read round took (ReadPacing)
  int64_t reconnect_delay_ms_;
  int64_t next_connect_ms_ = 0;  // monotonic
  int64_t room_due_ms_ = 0;      // monotonic: when to look at the queue's room again
  // A failure to connect is logged when it is new, and again every 5 minutes while it lasts.
  platform::LogThrottle connect_errors_{5 * 60'000};
};

}  // namespace ferry::agent
