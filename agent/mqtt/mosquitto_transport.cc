#include "agent/mqtt/mosquitto_transport.h"

#include <errno.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <string.h>

#include <algorithm>
#include <mutex>

#include "agent/mqtt/tls_log.h"
#include "platform/log.h"
#include "platform/poll.h"
#include "platform/socket_batching.h"

namespace ferry::agent {

using platform::Status;

namespace {

// MQTT 5 Session Expiry Interval: the session outlives every disconnect, as a 3.1.1 session
// with clean session off does (the broker's persistent_client_expiration still applies).
constexpr uint32_t kSessionNeverExpires = 0xFFFFFFFF;
// Goodbye() waits this long at most for the socket to take what is queued.
constexpr int kGoodbyeWriteMs = 1000;

void InitLibraryOnce() {
  static std::once_flag once;
  std::call_once(once, [] { mosquitto_lib_init(); });
}

std::string Describe(int rc) {
  return rc == MOSQ_ERR_ERRNO ? std::string(strerror(errno)) : mosquitto_strerror(rc);
}

}  // namespace

MosquittoTransport::MosquittoTransport(const Config& config) : config_(config) {
  InitLibraryOnce();
}

MosquittoTransport::~MosquittoTransport() { Drop(); }

void MosquittoTransport::OnConnectThunk(mosquitto*, void* self, int rc, int,
                                        const mqtt5__property* props) {
  auto* t = static_cast<MosquittoTransport*>(self);
  // libmosquitto times its own PINGREQs by the broker's value too (handle__connack).
  uint16_t server_keepalive = 0;
  t->server_keepalive_ms_ = 0;
  if (mosquitto_property_read_int16(props, MQTT_PROP_SERVER_KEEP_ALIVE, &server_keepalive, false) !=
      nullptr) {
    t->server_keepalive_ms_ = int64_t{server_keepalive} * 1000;
  }
  std::string why;
  if (rc != 0) why = t->protocol_ == 5 ? mosquitto_reason_string(rc) : mosquitto_connack_string(rc);
  if (t->protocol_ == 5 && rc == MQTT_RC_UNSUPPORTED_PROTOCOL_VERSION) {
    platform::LogWarn("mqtt", "the broker does not speak MQTT 5: using MQTT 3.1.1 from now on");
    t->protocol_ = 4;  // applies to the client made for the next connection
    why += " (MQTT 5; trying MQTT 3.1.1 next)";
  }
  if (t->events_) t->events_->OnConnack(rc, why);
}

void MosquittoTransport::OnMessageThunk(mosquitto*, void* self, const mosquitto_message* msg) {
  auto* t = static_cast<MosquittoTransport*>(self);
  t->delivered_ = true;
  InboundMessage m;
  m.topic = msg->topic ? msg->topic : "";
  size_t len = msg->payloadlen > 0 ? static_cast<size_t>(msg->payloadlen) : 0;
  m.payload = {static_cast<const char*>(msg->payload), len};
  m.qos = msg->qos;
  m.mid = static_cast<uint16_t>(msg->mid);
  if (t->events_) t->events_->OnMessage(m);
}

// Only set with mqtt.tls: libmosquitto formats every log line when a callback is set.
void MosquittoTransport::OnLogThunk(mosquitto* mosq, void* self, int level, const char* text) {
  auto* t = static_cast<MosquittoTransport*>(self);
  if (!t->tls_error_.empty()) return;  // the first line names the cause
  t->tls_error_ = DescribeMosquittoTlsLog(mosq, level, text, t->config_);
}

// TLS to the broker (mqtt.tls): CA, client certificate for mutual TLS, verification.
Status MosquittoTransport::ConfigureTls() {
  const TlsOptions& tls = config_.mqtt.tls;
  if (!tls.enabled) return Status::Ok();
  const char* ca_file = tls.ca_file.empty() ? nullptr : tls.ca_file.c_str();
  const char* ca_dir = tls.ca_dir.empty() ? nullptr : tls.ca_dir.c_str();
  if (!ca_file && !ca_dir) ca_dir = "/etc/ssl/certs";
  int rc = mosquitto_tls_set(mosq_, ca_file, ca_dir,
                             tls.cert_file.empty() ? nullptr : tls.cert_file.c_str(),
                             tls.key_file.empty() ? nullptr : tls.key_file.c_str(), nullptr);
  if (rc == MOSQ_ERR_SUCCESS) rc = mosquitto_tls_insecure_set(mosq_, !tls.verify);
  if (rc == MOSQ_ERR_SUCCESS) return Status::Ok();
  return Status::InvalidArgument(std::string("mqtt.tls: ") + mosquitto_strerror(rc) +
                                 " (check ca_file, ca_dir, cert_file and key_file)");
}

Status MosquittoTransport::Create() {
  // libmosquitto makes its wake-up socket pair here in some versions, at connect in others.
  platform::WithoutWakeupPipe([this] {
    mosq_ = mosquitto_new(config_.mqtt.client_id.c_str(), /*clean_session=*/false, this);
  });
  if (!mosq_) return Status::Internal("cannot create the MQTT client: " + Describe(MOSQ_ERR_ERRNO));
  // Keep every packet queued until WriteQueued(): see the header.
  int rc = mosquitto_threaded_set(mosq_, true);
  if (rc == MOSQ_ERR_SUCCESS) {
    rc = mosquitto_int_option(mosq_, MOSQ_OPT_PROTOCOL_VERSION,
                              protocol_ == 5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311);
  }
  Status st = rc == MOSQ_ERR_SUCCESS
                  ? Status::Ok()
                  : Status::Internal(std::string("setting up the MQTT client: ") + Describe(rc));
  mosquitto_connect_v5_callback_set(mosq_, OnConnectThunk);
  mosquitto_message_callback_set(mosq_, OnMessageThunk);
  if (config_.mqtt.tls.enabled) mosquitto_log_callback_set(mosq_, OnLogThunk);
  if (st.ok()) st = ConfigureTls();
  if (st.ok() && !config_.mqtt.username.empty()) {
    rc = mosquitto_username_pw_set(
        mosq_, config_.mqtt.username.c_str(),
        config_.mqtt.password.empty() ? nullptr : config_.mqtt.password.c_str());
    if (rc != MOSQ_ERR_SUCCESS) st = Status::InvalidArgument("mqtt.username: " + Describe(rc));
  }
  if (!st.ok()) Drop();
  return st;
}

int MosquittoTransport::ConnectV5() {
  int keepalive = static_cast<int>(std::max<int64_t>(5, config_.mqtt.keepalive_ms / 1000));
  if (protocol_ != 5) {
    return mosquitto_connect(mosq_, config_.mqtt.host.c_str(), config_.mqtt.port, keepalive);
  }
  mosquitto_property* props = nullptr;
  int rc = mosquitto_property_add_int16(&props, MQTT_PROP_RECEIVE_MAXIMUM,
                                        static_cast<uint16_t>(ReceiveMaximum()));
  if (rc == MOSQ_ERR_SUCCESS) {
    rc = mosquitto_property_add_int32(&props, MQTT_PROP_SESSION_EXPIRY_INTERVAL,
                                      kSessionNeverExpires);
  }
  if (rc == MOSQ_ERR_SUCCESS) {
    rc = mosquitto_connect_bind_v5(mosq_, config_.mqtt.host.c_str(), config_.mqtt.port, keepalive,
                                   nullptr, props);
  }
  mosquitto_property_free_all(&props);
  return rc;
}

Status MosquittoTransport::Connect(MqttEvents& events) {
  events_ = &events;
  Drop();  // a new client for every connection: nothing queued on an old one can go out
  FERRY_RETURN_IF_ERROR(Create());
  tls_error_.clear();
  int rc = MOSQ_ERR_SUCCESS;
  platform::WithoutWakeupPipe([&] { rc = ConnectV5(); });
  if (rc == MOSQ_ERR_SUCCESS) {
    buffered_fd_ = mosquitto_socket(mosq_);
    platform::BufferSocket(buffered_fd_);
    return Status::Ok();
  }
  std::string why = !tls_error_.empty() ? tls_error_ : Describe(rc);
  Drop();
  return Status::Unavailable(why);
}

int MosquittoTransport::Socket() const { return mosq_ ? mosquitto_socket(mosq_) : -1; }

// errno tells when the socket is drained, but only after a read that delivered no message:
// queuing a PUBACK writes a byte to libmosquitto's internal socket pair, which nobody drains in
// this mode, so once that pair is full every delivered message leaves errno at EAGAIN too.
ReadOutcome MosquittoTransport::Read(std::string* error) {
  if (!mosq_) {
    *error = "not connected";
    return ReadOutcome::kClosed;
  }
  delivered_ = false;
  errno = 0;
  int rc = mosquitto_loop_read(mosq_, 1);
  if (rc != MOSQ_ERR_SUCCESS) {
    *error = !tls_error_.empty() ? tls_error_ : std::string("read: ") + Describe(rc);
    Drop();
    return ReadOutcome::kClosed;
  }
  bool drained = errno == EAGAIN || errno == EWOULDBLOCK;
  return !delivered_ && drained ? ReadOutcome::kDrained : ReadOutcome::kPacket;
}

bool MosquittoTransport::HasBufferedInput() const {
  return Socket() >= 0 && platform::BufferedBytes(buffered_fd_) > 0;
}

bool MosquittoTransport::WantWrite() const {
  return mosq_ && (mosquitto_want_write(mosq_) || platform::PendingWriteBytes(buffered_fd_) > 0);
}

Status MosquittoTransport::Subscribe(const std::string& topic, int qos) {
  int rc = mosq_ ? mosquitto_subscribe(mosq_, nullptr, topic.c_str(), qos) : MOSQ_ERR_NO_CONN;
  if (rc == MOSQ_ERR_SUCCESS) return Status::Ok();
  return Status::InvalidArgument("subscribe " + topic + ": " + Describe(rc));
}

Status MosquittoTransport::Tick() {
  int rc = mosq_ ? mosquitto_loop_misc(mosq_) : MOSQ_ERR_NO_CONN;
  if (rc == MOSQ_ERR_SUCCESS) return Status::Ok();
  Drop();
  return Status::Unavailable("keep-alive: " + Describe(rc));
}

void MosquittoTransport::Drop() {
  // The library may have closed the socket already (mosquitto_socket() is then -1): unbuffer
  // the fd that was registered, before anything else can be opened under its number.
  platform::UnbufferSocket(buffered_fd_);
  buffered_fd_ = -1;
  if (!mosq_) return;
  mosquitto_destroy(mosq_);
  mosq_ = nullptr;
}

// Two groups' worth: while one group is committed (and fsynced) and its PUBACKs are not yet
// out, the broker can go on sending the next group into the socket, so the commit overlaps the
// broker's work instead of stopping it. A group still commits at storage.commit_max_records
// (AckGate::full); what the broker sends beyond it waits in the socket, not in Ferry's memory.
uint32_t MosquittoTransport::ReceiveMaximumFor(const Config& config) {
  uint64_t two_groups = 2 * static_cast<uint64_t>(config.storage.commit_max_records);
  return static_cast<uint32_t>(std::clamp<uint64_t>(two_groups, 1, 65535));
}

uint32_t MosquittoTransport::ReceiveMaximum() const {
  return protocol_ == 5 ? ReceiveMaximumFor(config_) : 0;
}

// The PUBACKs of a group go out in one send(2), not one write(2) each.
Status MosquittoTransport::WriteQueued() {
  if (!mosq_) return Status::Unavailable("write: not connected");
  platform::CorkWrites(buffered_fd_);
  int rc = mosquitto_loop_write(mosq_, 1);
  Status st = platform::UncorkWrites(buffered_fd_);
  if (rc == MOSQ_ERR_SUCCESS && st.ok()) return Status::Ok();
  if (st.ok()) st = Status::Unavailable("write: " + Describe(rc));
  Drop();
  return st;
}

// DISCONNECT makes the library close the socket once it is written, so what is still pending
// goes first, and DISCONNECT is written through.
void MosquittoTransport::Goodbye() {
  if (!mosq_) return;
  for (int waited = 0; waited < kGoodbyeWriteMs && mosquitto_socket(mosq_) >= 0; waited += 50) {
    if (!WantWrite()) break;
    if (!WriteQueued().ok()) return;  // dropped
    if (WantWrite()) (void)platform::WaitFd(mosquitto_socket(mosq_), false, true, 50);
  }
  if (!WantWrite() && mosquitto_socket(mosq_) >= 0 &&
      mosquitto_disconnect(mosq_) == MOSQ_ERR_SUCCESS) {
    (void)mosquitto_loop_write(mosq_, 1);
  }
  Drop();
}

}  // namespace ferry::agent
