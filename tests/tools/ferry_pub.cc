// ferry-pub: an MQTT publisher for tests and benchmarks, built on libmosquitto.
//
// Publishes numbered messages from templates, or replays an NDJSON file of device messages
// (shared/data/devices format), from P concurrent clients. At QoS 1 it keeps every message
// until the broker acknowledged it (PUBACK), also across reconnects, and only then disconnects.
// The last line on stdout is always
//     published N acked M in S s (R msg/s)
// and the exit code is 0 only if every published message was acknowledged (at QoS 0: written
// to the socket) and none was refused. Run with --help for the options.
//
// Reading the device files is in replay/replay_file.cc.
#include <mosquitto.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <latch>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "tools/replay/replay_file.h"

namespace {

using Clock = std::chrono::steady_clock;
using ferry::tools::BrokerTakesTopic;
using ferry::tools::DecodeHex;
using ferry::tools::LoadReplay;
using ferry::tools::Message;

constexpr const char* kDefaultPayload =
    R"({"temperature":21.5,"humidity":48,"linkquality":120,"battery":97,"seq":{i},"pub":{p}})";

std::atomic<bool> g_stop{false};

struct Options {
  std::string host = "127.0.0.1";
  int port = 1883;
  std::string topic = "ferry/test/{p}";
  std::string payload = kDefaultPayload;
  std::optional<std::string> payload_hex;  // decoded; overrides payload, no substitution
  uint64_t count = 1;                      // per publisher
  bool count_given = false;
  int publishers = 1;
  int qos = 1;
  double rate = 0;         // msgs/s per publisher, 0 = unpaced
  double interval_s = -1;  // seconds between messages, overrides rate when >= 0
  int max_inflight = 100;
  std::string replay;  // NDJSON file
  bool loop = false;
  std::string client_prefix = "ferry-pub";
  double connect_timeout_s = 10;
  double ack_timeout_s = 60;  // give up when no acknowledgement arrives for this long
  bool retain = false;
  std::string cafile, cert, key;  // TLS to the broker when cafile is set; cert+key: mutual TLS
  std::string username, password;
};

// ---------------------------------------------------------------------------------------------
// Command line

void PrintUsage() {
  std::printf(
      "usage: ferry-pub [options]\n"
      "  --host H --port N          broker (127.0.0.1:1883)\n"
      "  --topic T                  topic template; {i} = message number (1..count), {p} =\n"
      "                             publisher number (1..publishers)\n"
      "  --payload T                payload template (default: a zigbee2mqtt-like object with\n"
      "                             \"seq\":{i},\"pub\":{p})\n"
      "  --payload-hex HEX          payload as raw bytes (no substitution)\n"
      "  --count N                  messages per publisher (default 1; with --replay: the file\n"
      "                             once, or forever with --loop)\n"
      "  --publishers P             concurrent clients, one thread and connection each\n"
      "  --qos 0|1                  (1)\n"
      "  --rate R                   messages/s per publisher, 0 = as fast as possible\n"
      "  --interval D               pause between messages (\"10ms\", \"1s\", \"0.5\")\n"
      "  --max-inflight K           unacknowledged QoS 1 messages per client (100)\n"
      "  --replay FILE              publish each line's topic and payload (payload_hex decoded,\n"
      "                             simple python `generator` lines expanded, others skipped;\n"
      "                             every publisher replays the whole file)\n"
      "  --loop                     repeat the replay file until --count or a signal\n"
      "  --client-prefix S          client ids are S-<p>-<pid>\n"
      "  --retain                   publish with the retain flag\n"
      "  --cafile F                 connect over TLS, verifying the broker with the CAs in F\n"
      "  --cert F --key F           client certificate and key for mutual TLS\n"
      "  --username U --password P  log in to the broker\n"
      "  --connect-timeout D        (10s)\n"
      "  --ack-timeout D            give up when no ack arrives for this long (60s)\n");
}

bool ParseSeconds(std::string_view text, double* out) {
  const std::pair<std::string_view, double> units[] = {
      {"us", 1e-6}, {"ms", 1e-3}, {"s", 1}, {"m", 60}};
  double scale = 1;
  for (const auto& [suffix, factor] : units) {
    if (text.size() > suffix.size() && text.ends_with(suffix)) {
      text.remove_suffix(suffix.size());
      scale = factor;
      break;
    }
  }
  std::string number(text);
  char* end = nullptr;
  double value = std::strtod(number.c_str(), &end);
  if (number.empty() || *end != '\0' || value < 0) return false;
  *out = value * scale;
  return true;
}

bool ParseUnsigned(const std::string& text, uint64_t* out) {
  char* end = nullptr;
  unsigned long long value = std::strtoull(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || text[0] == '-') return false;
  *out = value;
  return true;
}

bool ParseNumber(const std::string& text, double* out) {
  char* end = nullptr;
  *out = std::strtod(text.c_str(), &end);
  return !text.empty() && *end == '\0' && *out >= 0;
}

// Applies an option that takes an unsigned integer value.
bool ApplyIntOption(Options& o, const std::string& name, const std::string& value) {
  uint64_t n = 0;
  if (!ParseUnsigned(value, &n)) return false;
  if (name == "--count") {
    o.count = n;
    o.count_given = true;
    return true;
  }
  auto in = [n](uint64_t lo, uint64_t hi) { return n >= lo && n <= hi; };
  int* target = name == "--port"           ? &o.port
                : name == "--publishers"   ? &o.publishers
                : name == "--qos"          ? &o.qos
                : name == "--max-inflight" ? &o.max_inflight
                                           : nullptr;
  bool valid = name == "--port"           ? in(1, 65535)
               : name == "--publishers"   ? in(1, 10000)
               : name == "--qos"          ? in(0, 1)
               : name == "--max-inflight" ? in(1, 65534)
                                          : false;
  if (target == nullptr || !valid) return false;
  *target = static_cast<int>(n);
  return true;
}

// Applies one "--name value" pair; false if the name or value is not understood.
bool ApplyOption(Options& o, const std::string& name, const std::string& value) {
  std::string* text = name == "--host"            ? &o.host
                      : name == "--topic"         ? &o.topic
                      : name == "--payload"       ? &o.payload
                      : name == "--replay"        ? &o.replay
                      : name == "--client-prefix" ? &o.client_prefix
                      : name == "--cafile"        ? &o.cafile
                      : name == "--cert"          ? &o.cert
                      : name == "--key"           ? &o.key
                      : name == "--username"      ? &o.username
                      : name == "--password"      ? &o.password
                                                  : nullptr;
  if (text != nullptr) {
    *text = value;
    return true;
  }
  if (name == "--payload-hex") {
    o.payload_hex = DecodeHex(value);
    return o.payload_hex.has_value();
  }
  if (name == "--interval") return ParseSeconds(value, &o.interval_s);
  if (name == "--connect-timeout") return ParseSeconds(value, &o.connect_timeout_s);
  if (name == "--ack-timeout") return ParseSeconds(value, &o.ack_timeout_s);
  if (name == "--rate") return ParseNumber(value, &o.rate);
  return ApplyIntOption(o, name, value);
}

// Fills `o` from argv; returns -1 to go on, else the exit code (0 after --help, 2 on errors).
int ParseArgs(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      PrintUsage();
      return 0;
    }
    if (arg == "--loop") {
      o.loop = true;
    } else if (arg == "--retain") {
      o.retain = true;
    } else if (i + 1 >= argc || !ApplyOption(o, arg, argv[i + 1])) {
      std::fprintf(stderr, "ferry-pub: bad option or value: %s (see --help)\n", arg.c_str());
      return 2;
    } else {
      ++i;
    }
  }
  return -1;
}

// ---------------------------------------------------------------------------------------------
// Payload sources

// A template with {i} and {p} placeholders, split once so rendering is a few appends.
class Template {
 public:
  explicit Template(std::string_view text) {
    std::string literal;
    for (size_t i = 0; i < text.size(); ++i) {
      std::string_view rest = text.substr(i);
      if (rest.starts_with("{i}") || rest.starts_with("{p}")) {
        parts_.push_back({literal, rest[1]});
        literal.clear();
        i += 2;
      } else {
        literal.push_back(text[i]);
      }
    }
    parts_.push_back({literal, 0});
  }

  void Render(uint64_t i, int p, std::string& out) const {
    out.clear();
    for (const Part& part : parts_) {
      out += part.literal;
      if (part.field == 'i') out += std::to_string(i);
      if (part.field == 'p') out += std::to_string(p);
    }
  }

 private:
  struct Part {
    std::string literal;
    char field;  // 'i', 'p' or 0 after the literal
  };
  std::vector<Part> parts_;
};

// Messages a publisher sends: rendered from templates, or taken from the replay list.
class Source {
 public:
  Source(const Options& o, const std::vector<Message>* replay)
      : o_(o), replay_(replay), topic_(o.topic), payload_(o.payload) {}

  // Fills message number n (0-based) of publisher p (1-based); false when there is none.
  bool Get(uint64_t n, int p, Message* out) const {
    if (replay_ == nullptr) {
      if (n >= o_.count) return false;
      topic_.Render(n + 1, p, out->topic);
      if (o_.payload_hex) {
        out->payload = *o_.payload_hex;
        return true;
      }
      payload_.Render(n + 1, p, out->payload);
      return true;
    }
    if (replay_->empty() || (o_.count_given && n >= o_.count)) return false;
    if (!o_.loop && n >= replay_->size()) return false;
    *out = (*replay_)[n % replay_->size()];
    return true;
  }

 private:
  const Options& o_;
  const std::vector<Message>* replay_;
  Template topic_;
  Template payload_;
};

// ---------------------------------------------------------------------------------------------
// One publishing client

class Publisher {
 public:
  Publisher(const Options& o, const Source& source, int number)
      : o_(o), source_(source), number_(number) {}
  ~Publisher() {
    if (mosq_ != nullptr) mosquitto_destroy(mosq_);
  }

  // Thread body: connect, meet the others at `start`, publish, wait for acks, disconnect.
  void Run(std::latch& start) {
    bool connected = Connect();
    start.arrive_and_wait();
    if (!connected) return;
    ok_ = PublishAll() && WaitOutstanding(0);
    mosquitto_disconnect(mosq_);
    mosquitto_loop_stop(mosq_, false);
  }

  bool ok() const { return ok_ && refused_ == 0; }
  uint64_t published() const { return published_; }
  uint64_t acked() const { return acked_.load(); }
  uint64_t refused() const { return refused_; }

 private:
  static void OnConnect(mosquitto*, void* self, int rc) {
    auto* p = static_cast<Publisher*>(self);
    if (rc != 0) std::fprintf(stderr, "ferry-pub[%d]: connack %d\n", p->number_, rc);
    p->connected_.store(rc == 0);
    p->Wake();
  }
  static void OnDisconnect(mosquitto*, void* self, int rc) {
    auto* p = static_cast<Publisher*>(self);
    p->connected_.store(false);
    if (rc != 0) std::fprintf(stderr, "ferry-pub[%d]: connection lost, reconnecting\n", p->number_);
  }
  static void OnPublish(mosquitto*, void* self, int) {
    auto* p = static_cast<Publisher*>(self);
    p->acked_.fetch_add(1);
    p->Wake();
  }

  void Wake() {
    if (waiting_.load()) {
      std::lock_guard lock(mu_);
      cv_.notify_all();
    }
  }

  bool Connect() {
    std::string id = o_.client_prefix + "-" + std::to_string(number_) + "-" +
                     std::to_string(static_cast<long>(getpid()));
    mosq_ = mosquitto_new(id.c_str(), true, this);
    if (mosq_ == nullptr) return false;
    mosquitto_connect_callback_set(mosq_, OnConnect);
    mosquitto_disconnect_callback_set(mosq_, OnDisconnect);
    mosquitto_publish_callback_set(mosq_, OnPublish);
    mosquitto_max_inflight_messages_set(mosq_, static_cast<unsigned>(o_.max_inflight));
    mosquitto_reconnect_delay_set(mosq_, 1, 2, false);
    if (!o_.cafile.empty()) {
      int tls = mosquitto_tls_set(mosq_, o_.cafile.c_str(), nullptr,
                                  o_.cert.empty() ? nullptr : o_.cert.c_str(),
                                  o_.key.empty() ? nullptr : o_.key.c_str(), nullptr);
      if (tls != MOSQ_ERR_SUCCESS) {
        std::fprintf(stderr, "ferry-pub[%d]: TLS setup: %s\n", number_, mosquitto_strerror(tls));
        return false;
      }
    }
    if (!o_.username.empty()) {
      mosquitto_username_pw_set(mosq_, o_.username.c_str(),
                                o_.password.empty() ? nullptr : o_.password.c_str());
    }
    auto deadline = Clock::now() + Seconds(o_.connect_timeout_s);
    int rc;
    while ((rc = mosquitto_connect(mosq_, o_.host.c_str(), o_.port, 30)) != MOSQ_ERR_SUCCESS) {
      if (Clock::now() > deadline || g_stop.load()) {
        std::fprintf(stderr, "ferry-pub[%d]: cannot connect to %s:%d: %s\n", number_,
                     o_.host.c_str(), o_.port, mosquitto_strerror(rc));
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    mosquitto_loop_start(mosq_);
    return WaitFor([this] { return connected_.load(); }, deadline);
  }

  static Clock::duration Seconds(double s) {
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
  }

  template <typename Pred>
  bool WaitFor(Pred pred, Clock::time_point deadline) {
    while (!pred()) {
      if (Clock::now() > deadline) return false;
      waiting_.store(true);
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, std::chrono::milliseconds(10));
      waiting_.store(false);
    }
    return true;
  }

  // Waits until at most `limit` messages are unacknowledged. Fails after ack_timeout without
  // progress.
  bool WaitOutstanding(uint64_t limit) {
    while (published_ - acked_.load() > limit) {
      uint64_t before = acked_.load();
      auto deadline = Clock::now() + Seconds(o_.ack_timeout_s);
      WaitFor([&] { return published_ - acked_.load() <= limit || acked_.load() != before; },
              deadline);
      if (acked_.load() == before && published_ - before > limit) {
        std::fprintf(stderr, "ferry-pub[%d]: no acknowledgement for %.1f s, %llu outstanding\n",
                     number_, o_.ack_timeout_s,
                     static_cast<unsigned long long>(published_ - before));
        return false;
      }
    }
    return true;
  }

  bool PublishAll() {
    const uint64_t window = o_.qos == 0 ? 1000 : 2 * static_cast<uint64_t>(o_.max_inflight);
    double gap = o_.interval_s >= 0 ? o_.interval_s : (o_.rate > 0 ? 1.0 / o_.rate : 0);
    auto start = Clock::now();
    Message msg;
    for (uint64_t n = 0; !g_stop.load() && source_.Get(n, number_, &msg); ++n) {
      if (gap > 0) std::this_thread::sleep_until(start + Seconds(gap * n));
      if (!WaitOutstanding(window - 1)) return false;
      if (!PublishOne(msg)) return false;
    }
    return true;
  }

  // Publishes one message; false only on a failure that ends the run.
  bool PublishOne(const Message& msg) {
    if (!BrokerTakesTopic(msg.topic)) {
      std::fprintf(stderr, "ferry-pub[%d]: refused: topic has more than 201 levels\n", number_);
      ++refused_;
      return true;
    }
    for (;;) {
      int rc =
          mosquitto_publish(mosq_, nullptr, msg.topic.c_str(), static_cast<int>(msg.payload.size()),
                            msg.payload.data(), o_.qos, o_.retain);
      // At QoS 1 a message published while disconnected is queued in the library and sent
      // after the reconnect; at QoS 0 it is gone, so wait for the connection and try again.
      if (rc == MOSQ_ERR_SUCCESS || (rc == MOSQ_ERR_NO_CONN && o_.qos > 0)) {
        ++published_;
        return true;
      }
      if (rc != MOSQ_ERR_NO_CONN) {
        std::fprintf(stderr, "ferry-pub[%d]: refused message on '%.80s': %s\n", number_,
                     msg.topic.c_str(), mosquitto_strerror(rc));
        ++refused_;
        return true;
      }
      if (!WaitFor([this] { return connected_.load() || g_stop.load(); },
                   Clock::now() + Seconds(o_.ack_timeout_s)) ||
          g_stop.load()) {
        return false;
      }
    }
  }

  const Options& o_;
  const Source& source_;
  const int number_;
  mosquitto* mosq_ = nullptr;
  std::atomic<bool> connected_{false};
  std::atomic<bool> waiting_{false};
  std::atomic<uint64_t> acked_{0};
  uint64_t published_ = 0;  // only the publishing thread touches it
  uint64_t refused_ = 0;
  bool ok_ = false;
  std::mutex mu_;
  std::condition_variable cv_;
};

void OnSignal(int) { g_stop.store(true); }

int RunPublishers(const Options& o, const Source& source) {
  std::vector<std::unique_ptr<Publisher>> pubs;
  for (int p = 1; p <= o.publishers; ++p) pubs.push_back(std::make_unique<Publisher>(o, source, p));
  std::latch start(o.publishers + 1);
  std::vector<std::thread> threads;
  for (auto& pub : pubs) threads.emplace_back([&pub, &start] { pub->Run(start); });
  start.arrive_and_wait();
  auto t0 = Clock::now();
  for (auto& t : threads) t.join();
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();

  uint64_t published = 0, acked = 0, refused = 0;
  bool ok = true;
  for (auto& pub : pubs) {
    published += pub->published();
    acked += pub->acked();
    refused += pub->refused();
    ok = ok && pub->ok();
  }
  if (refused > 0) std::printf("refused %llu\n", static_cast<unsigned long long>(refused));
  std::printf("published %llu acked %llu in %.3f s (%.0f msg/s)\n",
              static_cast<unsigned long long>(published), static_cast<unsigned long long>(acked),
              secs, secs > 0 ? acked / secs : 0.0);
  std::fflush(stdout);
  return ok && acked == published ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (int rc = ParseArgs(argc, argv, options); rc >= 0) return rc;
  std::vector<Message> replay;
  if (!options.replay.empty() && !LoadReplay(options.replay, &replay)) return 2;
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGPIPE, SIG_IGN);
  mosquitto_lib_init();
  Source source(options, options.replay.empty() ? nullptr : &replay);
  int rc = RunPublishers(options, source);
  mosquitto_lib_cleanup();
  return rc;
}
