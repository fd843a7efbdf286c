#include "agent/mqtt/mqtt_source.h"

#include <algorithm>

#include "agent/mqtt/mosquitto_transport.h"
#include "agent/mqtt/read_pacing.h"
#include "platform/log.h"
#include "platform/poll.h"

namespace ferry::agent {

using platform::Status;

namespace {

constexpr int kPollMs = 100;
// While paused, the queue's room is looked at this often.
constexpr int kPauseCheckMs = 500;
// The queue's room (two PRAGMAs and a statvfs) is looked at this often, not per wake-up: it
// cost a sixth of intake's CPU. Between looks, a commit over the quota or on a full disk is
// refused by the queue itself, and the next look pauses intake.
constexpr int kRoomCheckMs = 50;
constexpr int kMaxReadsPerRound = 100'000;

std::string BrokerName(const Config& config) {
  return config.mqtt.host + ":" + std::to_string(config.mqtt.port);
}

}  // namespace

MqttSource::MqttSource(const Config& config, Intake& intake, Metrics& metrics, AgentState& state,
                       platform::Clock& clock, const std::vector<std::string>& stored_acks,
                       std::unique_ptr<MqttTransport> transport)
    : config_(config),
      intake_(intake),
      metrics_(metrics),
      state_(state),
      clock_(clock),
      transport_(transport ? std::move(transport) : std::make_unique<MosquittoTransport>(config)),
      gate_(config, *transport_, intake, metrics, clock, stored_acks),
      reconnect_delay_ms_(config.mqtt.reconnect_min_ms) {}

MqttSource::~MqttSource() = default;

void MqttSource::OnConnack(int rc, const std::string& reason) {
  if (rc != 0) {
    std::string why = "broker " + BrokerName(config_) + " refused the connection: " + reason;
    // 4/5: MQTT 3.1.1's bad user name or password / not authorised; 134/135: MQTT 5's.
    if (rc == 4 || rc == 5 || rc == 134 || rc == 135) {
      why += " (check mqtt.username and mqtt.password or password_file)";
    }
    ReportConnectFailure(why);
    return;
  }
  gate_.SessionStarted();
  metrics_.mqtt_connected = 1;
  ++metrics_.mqtt_connects;
  reconnect_delay_ms_ = config_.mqtt.reconnect_min_ms;
  connect_errors_.Clear();
  state_.SetIntake("connected");
  for (const Subscription& s : config_.mqtt.subscriptions) {
    Status st = transport_->Subscribe(s.topic, s.qos);
    if (!st.ok()) platform::LogError("mqtt", st.message());
  }
  uint32_t window = transport_->ReceiveMaximum();
  platform::LogInfo("mqtt",
                    "connected to " + BrokerName(config_) + " as " + config_.mqtt.client_id +
                        (window > 0 ? " (MQTT 5, receive maximum " + std::to_string(window) + ")"
                                    : " (MQTT 3.1.1)"));
}

void MqttSource::OnMessage(const InboundMessage& message) { gate_.Hold(message); }

// A failure to connect is in /status at once and in the log when it is new (a broker that is
// down for an hour is one line, not thousands).
void MqttSource::ReportConnectFailure(const std::string& why) {
  int64_t now = clock_.MonotonicMillis();
  state_.SetIntake("connecting: " + why);
  state_.SetLastError("mqtt: " + why, clock_.WallMillis());
  if (connect_errors_.Allow(why, now)) {
    int64_t max_ms = config_.mqtt.reconnect_max_ms;
    platform::LogWarn("mqtt", why + "; retrying, at most every " +
                                  (max_ms < 1000 ? std::to_string(max_ms) + " ms"
                                                 : std::to_string(max_ms / 1000) + " s"));
  }
}

void MqttSource::ScheduleReconnect(int64_t now) {
  next_connect_ms_ = now + reconnect_delay_ms_;
  reconnect_delay_ms_ = std::min(reconnect_delay_ms_ * 2, config_.mqtt.reconnect_max_ms);
}

bool MqttSource::Connect(int64_t now) {
  if (now < next_connect_ms_) {
    platform::SleepMillis(std::min<int64_t>(kPollMs, next_connect_ms_ - now));
    return false;
  }
  state_.SetIntake("connecting");
  Status st = transport_->Connect(*this);
  if (st.ok()) return true;
  ReportConnectFailure("connecting to " + BrokerName(config_) + ": " + st.message());
  ScheduleReconnect(now);
  return false;
}

// The connection ended under us: the gate keeps what it can (QoS 0), the broker resends the
// rest.
void MqttSource::Closed(const std::string& why) {
  gate_.ConnectionLost();
  bool was_up = metrics_.mqtt_connected.exchange(0) == 1;
  if (was_up) {
    platform::LogWarn("mqtt", "disconnected from " + BrokerName(config_) + ": " + why);
    state_.SetIntake("connecting: " + why);
  } else if (!connect_errors_.active()) {
    ReportConnectFailure("connection to " + BrokerName(config_) + " closed: " + why);
  }
  ScheduleReconnect(clock_.MonotonicMillis());
}

// A group could not be committed; the gate dropped the connection without acknowledging it.
void MqttSource::StoreFailed(const Status& st) {
  metrics_.mqtt_connected = 0;
  room_due_ms_ = 0;  // look at the room before reading again
  state_.SetLastError("storing messages: " + st.ToString(), clock_.WallMillis());
  state_.SetIntake("paused: " + st.ToString());
  platform::LogError("intake", "cannot store messages, pausing intake: " + st.ToString());
  ScheduleReconnect(clock_.MonotonicMillis());
}

// The queue cannot take more: leave the broker, which keeps new messages in the persistent
// session, and wait for room.
void MqttSource::Pause(const std::string& why) {
  gate_.Leave();
  metrics_.mqtt_connected = 0;
  paused_ = true;
  state_.SetIntake("paused: " + why);
  platform::LogWarn("intake", "paused: " + why + "; the broker keeps new messages meanwhile");
}

// Whether the loop may read now: not paused, room in the queue, and connected.
bool MqttSource::ReadyToRead(int64_t now) {
  std::string why;
  if (paused_) {
    if (!intake_.HasRoom(&why)) {
      platform::SleepMillis(kPauseCheckMs);
      return false;
    }
    paused_ = false;
    next_connect_ms_ = 0;
    platform::LogInfo("intake", "room again in the queue: resuming");
  }
  if (now >= room_due_ms_) {
    if (!intake_.HasRoom(&why)) {
      Pause(why);
      return false;
    }
    room_due_ms_ = now + kRoomCheckMs;
  }
  return transport_->Socket() >= 0 || Connect(now);
}

// Reads every packet the socket holds now (bounded), until the held group is full.
bool MqttSource::ReadAvailable() {
  std::string error;
  for (int i = 0; i < kMaxReadsPerRound && !gate_.full(); ++i) {
    ReadOutcome r = transport_->Read(&error);
    if (r == ReadOutcome::kDrained) break;
    if (r == ReadOutcome::kClosed) {
      Closed(error);
      return false;
    }
    ++last_round_packets_;
  }
  return true;
}

// After reading: commit the held group when it is due, then let the gate write (PUBACKs,
// pings, subscriptions), then keep-alive bookkeeping.
void MqttSource::AfterRead() {
  if (gate_.holding() && !gate_.CommitDue(clock_.MonotonicMillis())) return;
  bool stored = true;
  Status st = gate_.holding() ? gate_.CommitAndRelease(&stored) : gate_.Flush();
  if (!stored) return StoreFailed(st);
  if (st.ok()) st = transport_->Tick();
  if (!st.ok()) Closed(st.message());
}

void MqttSource::Step() {
  int64_t now = clock_.MonotonicMillis();
  state_.Beat(AgentState::Loop::kIntake, now);
  if (!ReadyToRead(now)) return;
  // While a group is held, its PUBACKs must stay queued: poll for reading only, and no longer
  // than until the group is due.
  bool holding = gate_.holding();
  int timeout =
      holding ? static_cast<int>(std::clamp<int64_t>(gate_.due_ms() - now, 0, kPollMs)) : kPollMs;
  // PUBACKs the broker has not taken yet (the socket's send buffer is full: a busy mosquitto
  // reads one packet per wake-up, and keeps sending past the Receive Maximum): read nothing
  // new until they are out, not even input already buffered, whose reads would refill the
  // buffer from the socket; else the PUBACKs waiting grow without bound (80 MiB seen at 40k
  // msg/s in libmosquitto's queue, 1.7 MB in the write buffer). The polls still time out, so
  // the keep-alive check ends a connection to a broker that never reads again.
  bool acks_waiting = !holding && transport_->WantWrite();
  bool buffered = !acks_waiting && transport_->HasBufferedInput();
  platform::SleepMicros(ReadPacing::PauseMicros(last_round_packets_, acks_waiting, buffered));
  last_round_packets_ = 0;
  platform::Result<platform::FdReady> ready =
      buffered ? platform::Result<platform::FdReady>(platform::FdReady{true, false, false})
               : platform::WaitFd(transport_->Socket(), !acks_waiting, acks_waiting, timeout);
  if (ready.ok() && (ready->readable || ready->error) && !ReadAvailable()) return;
  AfterRead();
}

void MqttSource::Finish() { gate_.Leave(); }

void MqttSource::Run(const std::atomic<bool>& stop) {
  while (!stop) Step();
  // Acknowledge what is stored and say goodbye; if the last group cannot be stored, leave
  // without writing, so the broker keeps those messages for the next start.
  Finish();
}

}  // namespace ferry::agent
