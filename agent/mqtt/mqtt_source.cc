#include "agent/mqtt/mqtt_source.h"

#include <errno.h>
#include <mosquitto.h>

#include <algorithm>
#include <mutex>

#include "agent/mqtt/tls_log.h"
#include "platform/log.h"
#include "platform/poll.h"

namespace ferry::agent {

namespace {

constexpr int kPollMs = 100;
// The queue's room (two PRAGMAs and a statvfs) is looked at this often, not per wake-up: it
// cost a sixth of intake's CPU. Between looks, a commit over the quota or on a full disk is
// refused by the queue itself, and the next look pauses intake.
constexpr int kRoomCheckMs = 50;
constexpr int kMaxReadsPerRound = 100'000;

void InitLibraryOnce() {
  static std::once_flag once;
  std::call_once(once, [] { mosquitto_lib_init(); });
}

}  // namespace

MqttSource::MqttSource(const Config& config, Intake& intake, Metrics& metrics, AgentState& state,
                       platform::Clock& clock, const std::vector<std::string>& stored_acks)
    : config_(config),
      intake_(intake),
      metrics_(metrics),
      state_(state),
      clock_(clock),
      reconnect_delay_ms_(config.mqtt.reconnect_min_ms),
      max_group_bytes_(storage::Queue::MaxGroupBytes(config.storage.max_size)) {
  InitLibraryOnce();
  redelivery_.Load(stored_acks);
}

MqttSource::~MqttSource() {
  if (mosq_) mosquitto_destroy(mosq_);
}

void MqttSource::OnConnectThunk(mosquitto*, void* self, int rc) {
  static_cast<MqttSource*>(self)->OnConnect(rc);
}

void MqttSource::OnDisconnectThunk(mosquitto*, void* self, int rc) {
  auto* s = static_cast<MqttSource*>(self);
  s->session_up_ = false;
  s->metrics_.mqtt_connected = 0;
}

void MqttSource::OnMessageThunk(mosquitto*, void* self, const mosquitto_message* msg) {
  static_cast<MqttSource*>(self)->OnMessage(msg);
}

// Only set with mqtt.tls: libmosquitto formats every log line when a callback is set.
void MqttSource::OnLogThunk(mosquitto* mosq, void* self, int level, const char* text) {
  auto* s = static_cast<MqttSource*>(self);
  if (s->tls_error_shown_) return;  // the first line names the cause
  std::string why = DescribeMosquittoTlsLog(mosq, level, text, s->config_);
  if (why.empty()) return;
  s->tls_error_shown_ = true;
  s->state_.SetIntake("connecting: " + why);
  s->state_.SetLastError(why, s->clock_.WallMillis());
  platform::LogWarn("mqtt", why);
}

void MqttSource::OnConnect(int rc) {
  if (rc != 0) {
    std::string why = std::string("broker ") + config_.mqtt.host + ":" +
                      std::to_string(config_.mqtt.port) +
                      " refused the connection: " + mosquitto_connack_string(rc);
    // 4: bad user name or password, 5: not authorised (MQTT 3.1.1's CONNACK codes).
    if (rc == 4 || rc == 5) why += " (check mqtt.username and mqtt.password or password_file)";
    state_.SetIntake("connecting: " + why);
    state_.SetLastError("mqtt: " + why, clock_.WallMillis());
    platform::LogWarn("mqtt", why);
    return;
  }
  session_up_ = true;
  redelivery_.Arm();
  metrics_.mqtt_connected = 1;
  ++metrics_.mqtt_connects;
  reconnect_delay_ms_ = config_.mqtt.reconnect_min_ms;
  state_.SetIntake("connected");
  for (const Subscription& s : config_.mqtt.subscriptions) {
    int src = mosquitto_subscribe(mosq_, nullptr, s.topic.c_str(), s.qos);
    if (src != MOSQ_ERR_SUCCESS) {
      platform::LogError("mqtt", "subscribe " + s.topic + ": " + mosquitto_strerror(src));
    }
  }
  platform::LogInfo("mqtt", "connected to " + config_.mqtt.host + ":" +
                                std::to_string(config_.mqtt.port) + " as " +
                                config_.mqtt.client_id);
}

// Whether the group read so far should be committed now. At a low rate, waiting up to
// storage.commit_interval gathers messages into one commit (one page written to flash instead of
// one per message). A QoS 1 group never waits once it holds as many messages as the broker was
// seen to send before waiting for PUBACKs (its in-flight window), so throughput does not suffer.
bool MqttSource::CommitDue() {
  if (pending_count_ >= config_.storage.commit_max_records) return true;
  if (pending_bytes_ >= max_group_bytes_) return true;
  if (qos1_pending_ > 0 && learned_window_ > 0 && qos1_pending_ >= learned_window_) return true;
  if (clock_.MonotonicMillis() < commit_due_ms_) return false;
  // The interval ran out: if QoS 1 messages were waiting, the broker may have stopped at its
  // window; next time commit as soon as that many are here.
  learned_window_ = std::max(learned_window_, qos1_pending_);
  return true;
}

void MqttSource::OnMessage(const mosquitto_message* msg) {
  std::string_view topic = msg->topic ? msg->topic : "";
  size_t len = msg->payloadlen > 0 ? static_cast<size_t>(msg->payloadlen) : 0;
  uint64_t hash = 0;
  if (msg->qos == 1) {
    hash = RedeliveryFilter::Hash(topic, {static_cast<const char*>(msg->payload), len});
    if (redelivery_.IsRedelivery(static_cast<uint16_t>(msg->mid), hash)) {
      ++metrics_.mqtt_redeliveries_skipped;  // stored before; its PUBACK now goes out
      return;
    }
  }
  if (pending_count_ == 0) {
    commit_due_ms_ = clock_.MonotonicMillis() + config_.storage.commit_interval_ms;
    qos1_pending_ = 0;
    pending_bytes_ = 0;
  }
  pending_bytes_ += len + topic.size();
  if (msg->qos == 1) ++qos1_pending_;
  if (pending_count_ == pending_.size()) pending_.emplace_back();
  ReceivedMessage& m = pending_[pending_count_++];
  m.topic.assign(topic);
  m.full_size = len;
  m.mid = static_cast<uint16_t>(msg->mid);
  m.hash = hash;
  m.oversize = len > config_.mqtt.max_payload;
  // An oversize payload is kept only in part, for the dead letter that explains it.
  size_t keep = m.oversize ? std::min<size_t>(len, 1024) : len;
  m.payload.assign(static_cast<const char*>(msg->payload), keep);
  m.received_ms = clock_.WallMillis();
  m.received_mono_ms = clock_.MonotonicMillis();
  m.qos = msg->qos;
}

// TLS to the broker (mqtt.tls): CA, client certificate for mutual TLS, verification.
bool MqttSource::ConfigureTls() {
  const TlsOptions& tls = config_.mqtt.tls;
  if (!tls.enabled) return true;
  const char* ca_file = tls.ca_file.empty() ? nullptr : tls.ca_file.c_str();
  const char* ca_dir = tls.ca_dir.empty() ? nullptr : tls.ca_dir.c_str();
  if (!ca_file && !ca_dir) ca_dir = "/etc/ssl/certs";
  int rc = mosquitto_tls_set(mosq_, ca_file, ca_dir,
                             tls.cert_file.empty() ? nullptr : tls.cert_file.c_str(),
                             tls.key_file.empty() ? nullptr : tls.key_file.c_str(), nullptr);
  if (rc == MOSQ_ERR_SUCCESS) rc = mosquitto_tls_insecure_set(mosq_, !tls.verify);
  if (rc != MOSQ_ERR_SUCCESS) {
    std::string why = std::string("mqtt.tls: ") + mosquitto_strerror(rc) +
                      " (check ca_file, ca_dir, cert_file and key_file)";
    state_.SetIntake("connecting: " + why);
    state_.SetLastError(why, clock_.WallMillis());
    mosquitto_destroy(mosq_);
    mosq_ = nullptr;
    return false;
  }
  return true;
}

bool MqttSource::Connect() {
  if (!mosq_) {
    mosq_ = mosquitto_new(config_.mqtt.client_id.c_str(), /*clean_session=*/false, this);
    if (!mosq_) {
      state_.SetIntake("connecting: cannot create MQTT client");
      return false;
    }
    // Keep PUBACKs queued until loop_write: see the header.
    mosquitto_threaded_set(mosq_, true);
    mosquitto_connect_callback_set(mosq_, OnConnectThunk);
    mosquitto_disconnect_callback_set(mosq_, OnDisconnectThunk);
    mosquitto_message_callback_set(mosq_, OnMessageThunk);
    if (config_.mqtt.tls.enabled) mosquitto_log_callback_set(mosq_, OnLogThunk);
    if (!ConfigureTls()) return false;
    if (!config_.mqtt.username.empty()) {
      mosquitto_username_pw_set(
          mosq_, config_.mqtt.username.c_str(),
          config_.mqtt.password.empty() ? nullptr : config_.mqtt.password.c_str());
    }
  }
  state_.SetIntake("connecting");
  tls_error_shown_ = false;
  int keepalive = static_cast<int>(std::max<int64_t>(5, config_.mqtt.keepalive_ms / 1000));
  int rc = mosquitto_connect(mosq_, config_.mqtt.host.c_str(), config_.mqtt.port, keepalive);
  if (rc != MOSQ_ERR_SUCCESS) {
    if (tls_error_shown_) return false;
    std::string why = rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc);
    state_.SetIntake("connecting: " + why);
    state_.SetLastError("mqtt connect to " + config_.mqtt.host + ":" +
                            std::to_string(config_.mqtt.port) + ": " + why,
                        clock_.WallMillis());
    return false;
  }
  return true;
}

// Closes the connection without writing anything still queued (PUBACKs of unstored messages).
// QoS 0 messages already read are stored first when `keep_unacked`, since nobody resends them.
void MqttSource::Disconnect(const std::string& why, bool keep_unacked) {
  if (keep_unacked) {
    size_t kept = 0;
    for (size_t i = 0; i < pending_count_; ++i) {
      if (pending_[i].qos == 0) std::swap(pending_[kept++], pending_[i]);
    }
    pending_count_ = kept;
    if (pending_count_ > 0) FlushPending();
  }
  pending_count_ = 0;
  if (mosq_) mosquitto_destroy(mosq_);
  mosq_ = nullptr;
  session_up_ = false;
  metrics_.mqtt_connected = 0;
  platform::LogWarn("mqtt", "disconnected: " + why);
}

// Reads every packet the socket holds now (bounded), collecting messages in pending_.
// errno tells when the socket is drained, but only after a read that produced no message:
// queuing a PUBACK writes a byte to libmosquitto's internal socket pair, which nobody drains
// in this mode, so once that pair is full every received message leaves errno at EAGAIN too.
bool MqttSource::ReadAvailable() {
  for (int i = 0; i < kMaxReadsPerRound; ++i) {
    size_t before = pending_count_;
    errno = 0;
    int rc = mosquitto_loop_read(mosq_, 1);
    if (rc != MOSQ_ERR_SUCCESS) {
      Disconnect(std::string("read: ") + mosquitto_strerror(rc), true);
      return false;
    }
    bool drained = errno == EAGAIN || errno == EWOULDBLOCK;
    if (pending_count_ == before && drained) break;
    if (pending_count_ >= config_.storage.commit_max_records ||
        pending_bytes_ >= max_group_bytes_) {
      break;
    }
  }
  return true;
}

bool MqttSource::FlushPending() {
  platform::Status st = intake_.Store({pending_.data(), pending_count_});
  qos1_pending_ = 0;
  if (st.ok()) {
    for (size_t i = 0; i < pending_count_; ++i) {
      if (pending_[i].qos == 1) redelivery_.Remember(pending_[i].mid, pending_[i].hash);
    }
  }
  pending_count_ = 0;
  if (st.ok()) return true;
  room_due_ms_ = 0;  // look at the room before reading again
  state_.SetLastError("storing messages: " + st.ToString(), clock_.WallMillis());
  state_.SetIntake("paused: " + st.ToString());
  platform::LogError("intake", "cannot store messages, pausing intake: " + st.ToString());
  return false;
}

void MqttSource::WaitBeforeReconnect(const std::atomic<bool>& stop) {
  int64_t until = clock_.MonotonicMillis() + reconnect_delay_ms_;
  while (!stop && clock_.MonotonicMillis() < until) {
    state_.Beat(AgentState::Loop::kIntake, clock_.MonotonicMillis());
    platform::SleepMillis(std::min<int64_t>(kPollMs, until - clock_.MonotonicMillis()));
  }
  reconnect_delay_ms_ = std::min(reconnect_delay_ms_ * 2, config_.mqtt.reconnect_max_ms);
}

// The queue cannot take more: say goodbye to the broker (everything read so far is stored and
// acknowledged), which keeps new messages in the persistent session, and wait for room.
void MqttSource::PauseUntilRoom(const std::string& why, const std::atomic<bool>& stop) {
  if (mosq_) {
    mosquitto_disconnect(mosq_);
    (void)mosquitto_loop_write(mosq_, 1);
    mosquitto_destroy(mosq_);
    mosq_ = nullptr;
  }
  session_up_ = false;
  metrics_.mqtt_connected = 0;
  state_.SetIntake("paused: " + why);
  platform::LogWarn("intake", "paused: " + why + "; the broker keeps new messages meanwhile");
  std::string still;
  while (!stop && !intake_.HasRoom(&still)) {
    state_.Beat(AgentState::Loop::kIntake, clock_.MonotonicMillis());
    platform::SleepMillis(kPollMs * 5);
  }
  if (!stop) platform::LogInfo("intake", "room again in the queue: resuming");
}

void MqttSource::Run(const std::atomic<bool>& stop) {
  std::string why;
  while (!stop) {
    int64_t now = clock_.MonotonicMillis();
    state_.Beat(AgentState::Loop::kIntake, now);
    if (now >= room_due_ms_) {
      if (!intake_.HasRoom(&why)) {
        PauseUntilRoom(why, stop);
        continue;
      }
      room_due_ms_ = now + kRoomCheckMs;
    }
    if (!mosq_ || mosquitto_socket(mosq_) < 0) {
      if (!Connect()) {
        WaitBeforeReconnect(stop);
        continue;
      }
    }
    // While a group waits for its commit, its PUBACKs must stay queued: poll for reading only.
    bool holding = pending_count_ > 0;
    int timeout = holding ? static_cast<int>(std::clamp<int64_t>(
                                commit_due_ms_ - clock_.MonotonicMillis(), 0, kPollMs))
                          : kPollMs;
    // PUBACKs the broker has not taken yet (the socket's send buffer is full: a busy mosquitto
    // reads one packet per wake-up): read nothing new until they are out, or libmosquitto's
    // queue of them grows without bound (80 MiB seen at 40k msg/s). The polls still time out,
    // so loop_misc's keepalive check ends a connection to a broker that never reads again.
    bool acks_waiting = !holding && mosquitto_want_write(mosq_);
    platform::Result<platform::FdReady> ready =
        platform::WaitFd(mosquitto_socket(mosq_), !acks_waiting, acks_waiting, timeout);
    if (ready.ok() && (ready->readable || ready->error) && !ReadAvailable()) {
      WaitBeforeReconnect(stop);
      continue;
    }
    if (pending_count_ > 0 && !CommitDue()) continue;
    if (pending_count_ > 0 && !FlushPending()) {
      Disconnect("intake paused: messages could not be stored", false);
      WaitBeforeReconnect(stop);
      continue;
    }
    // Everything read so far is committed: now PUBACKs, pings and subscriptions may go out.
    int rc = mosquitto_loop_write(mosq_, 1);
    if (rc == MOSQ_ERR_SUCCESS) rc = mosquitto_loop_misc(mosq_);
    if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_NO_CONN) {
      Disconnect(std::string("write: ") + mosquitto_strerror(rc), true);
      WaitBeforeReconnect(stop);
    }
  }
  // Acknowledge what is stored and say goodbye; if the last group cannot be stored, leave
  // without writing, so the broker keeps those messages for the next start.
  if (mosq_ && (pending_count_ == 0 || FlushPending())) {
    mosquitto_disconnect(mosq_);
    (void)mosquitto_loop_write(mosq_, 1);
  }
}

}  // namespace ferry::agent
