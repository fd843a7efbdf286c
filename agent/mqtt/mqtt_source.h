// The MQTT source: a libmosquitto client with a persistent session (clean session off) that
// takes messages in and hands them to the intake in groups.
//
// Acknowledgement order. libmosquitto 2.0 queues the PUBACK of a QoS 1 message *before* it calls
// on_message, and writes it to the socket at once unless the client is marked threaded. So this
// source marks the client threaded (mosquitto_threaded_set) and drives the network itself:
// mosquitto_loop_read until the socket is drained, commit the group to the queue, and only then
// mosquitto_loop_write, which sends the PUBACKs. If the commit fails, the client is destroyed
// without writing (the queued PUBACKs die with it) and the broker redelivers those messages
// after the reconnect: nothing unstored is ever acknowledged.
//
// Run() is the intake thread's body; it returns when `stop` is set.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "agent/config/config.h"
#include "agent/intake/intake.h"
#include "agent/mqtt/redelivery.h"
#include "agent/status/agent_state.h"
#include "agent/status/metrics.h"
#include "platform/clock.h"

struct mosquitto;
struct mosquitto_message;

namespace ferry::agent {

class MqttSource {
 public:
  // `stored_acks` seeds the redelivery filter: Queue::RecentAcks() at start.
  MqttSource(const Config& config, Intake& intake, Metrics& metrics, AgentState& state,
             platform::Clock& clock, const std::vector<std::string>& stored_acks);
  ~MqttSource();

  void Run(const std::atomic<bool>& stop);

 private:
  bool Connect();
  bool ConfigureTls();
  void Disconnect(const std::string& why, bool keep_unacked);
  bool ReadAvailable();
  bool FlushPending();
  bool CommitDue();
  void WaitBeforeReconnect(const std::atomic<bool>& stop);
  void PauseUntilRoom(const std::string& why, const std::atomic<bool>& stop);
  void OnMessage(const mosquitto_message* msg);
  void OnConnect(int rc);
  static void OnConnectThunk(mosquitto*, void* self, int rc);
  static void OnDisconnectThunk(mosquitto*, void* self, int rc);
  static void OnMessageThunk(mosquitto*, void* self, const mosquitto_message* msg);
  static void OnLogThunk(mosquitto* mosq, void* self, int level, const char* text);

  const Config& config_;
  Intake& intake_;
  Metrics& metrics_;
  AgentState& state_;
  platform::Clock& clock_;
  mosquitto* mosq_ = nullptr;
  bool session_up_ = false;  // CONNACK accepted
  // This connection attempt's TLS failure is in the log and /status already.
  bool tls_error_shown_ = false;
  int64_t reconnect_delay_ms_;
  RedeliveryFilter redelivery_;
  std::vector<ReceivedMessage> pending_;
  size_t pending_count_ = 0;  // pending_ is reused: only the first pending_count_ are live
  size_t qos1_pending_ = 0;
  uint64_t pending_bytes_ = 0;  // topic and payload bytes of the pending group
  uint64_t max_group_bytes_;    // a group never brings more than one group may (Queue)
  size_t learned_window_ = 0;   // QoS 1 messages the broker sends before it waits for PUBACKs
  int64_t commit_due_ms_ = 0;   // monotonic: when the pending group must be committed
  int64_t room_due_ms_ = 0;     // monotonic: when to look at the queue's room again
};

}  // namespace ferry::agent
