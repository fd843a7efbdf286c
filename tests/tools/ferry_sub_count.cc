// ferry-sub-count: a bare MQTT subscriber that only counts messages, for benchmarks (the
// broker's delivery rate to a subscriber that does nothing is the ceiling for Ferry's intake).
//
// Subscribes with a clean session, prints "subscribed <topic>" once the broker granted the
// subscription (start publishing after that), and ends when --expect messages arrived or
// --timeout passed, printing as its last line
//     received N in S s (R msg/s)
// where S runs from the first message to the last one counted. Exit 0 if N >= --expect.
#include <mosquitto.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>

namespace {

using Clock = std::chrono::steady_clock;

std::atomic<bool> g_stop{false};

struct Options {
  std::string host = "127.0.0.1";
  int port = 1883;
  std::string topic = "#";
  int qos = 0;
  uint64_t expect = 0;  // 0 = count until the timeout or a signal
  double timeout_s = 60;
  std::string client_id;
};

// State shared with the libmosquitto callbacks (they run on the loop thread).
struct Counter {
  const Options* options = nullptr;
  std::atomic<uint64_t> count{0};
  std::atomic<bool> subscribed{false};
  std::atomic<int64_t> first_ns{0};
  std::atomic<int64_t> last_ns{0};
};

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

void PrintUsage() {
  std::printf(
      "usage: ferry-sub-count [--host H] [--port N] [--topic FILTER] [--qos 0|1]\n"
      "                       [--expect N] [--timeout SECONDS] [--client-id ID]\n");
}

bool ParseNumber(const std::string& text, double* out) {
  char* end = nullptr;
  *out = std::strtod(text.c_str(), &end);
  return !text.empty() && *end == '\0' && *out >= 0;
}

bool ApplyOption(Options& o, const std::string& name, const std::string& value) {
  if (name == "--host" || name == "--topic" || name == "--client-id") {
    (name == "--host" ? o.host : name == "--topic" ? o.topic : o.client_id) = value;
    return true;
  }
  double n = 0;
  if (!ParseNumber(value, &n)) return false;
  if (name == "--timeout") {
    o.timeout_s = n;
  } else if (name == "--port" && n >= 1 && n <= 65535) {
    o.port = static_cast<int>(n);
  } else if (name == "--qos" && (n == 0 || n == 1)) {
    o.qos = static_cast<int>(n);
  } else if (name == "--expect") {
    o.expect = static_cast<uint64_t>(n);
  } else {
    return false;
  }
  return true;
}

// Returns -1 to go on, else the exit code.
int ParseArgs(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      PrintUsage();
      return 0;
    }
    if (i + 1 >= argc || !ApplyOption(o, arg, argv[i + 1])) {
      std::fprintf(stderr, "ferry-sub-count: bad option or value: %s\n", arg.c_str());
      return 2;
    }
    ++i;
  }
  if (o.client_id.empty()) o.client_id = "ferry-sub-count-" + std::to_string(getpid());
  return -1;
}

void OnConnect(mosquitto* mosq, void* data, int rc) {
  auto* c = static_cast<Counter*>(data);
  if (rc != 0) {
    std::fprintf(stderr, "ferry-sub-count: connack %d\n", rc);
    return;
  }
  mosquitto_subscribe(mosq, nullptr, c->options->topic.c_str(), c->options->qos);
}

void OnSubscribe(mosquitto*, void* data, int, int, const int*) {
  auto* c = static_cast<Counter*>(data);
  if (!c->subscribed.exchange(true)) {
    std::printf("subscribed %s\n", c->options->topic.c_str());
    std::fflush(stdout);
  }
}

void OnMessage(mosquitto*, void* data, const mosquitto_message*) {
  auto* c = static_cast<Counter*>(data);
  int64_t now = NowNs();
  uint64_t n = c->count.fetch_add(1) + 1;
  if (n == 1) c->first_ns.store(now);
  if (c->options->expect == 0 || n <= c->options->expect) c->last_ns.store(now);
}

// Waits until enough messages came, the timeout passed or a signal arrived.
void WaitDone(const Options& o, const Counter& c) {
  auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(o.timeout_s));
  while (!g_stop.load() && Clock::now() < deadline) {
    if (o.expect > 0 && c.count.load() >= o.expect) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

void OnSignal(int) { g_stop.store(true); }

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (int rc = ParseArgs(argc, argv, o); rc >= 0) return rc;
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  mosquitto_lib_init();
  Counter counter;
  counter.options = &o;
  mosquitto* mosq = mosquitto_new(o.client_id.c_str(), true, &counter);
  mosquitto_connect_callback_set(mosq, OnConnect);
  mosquitto_subscribe_callback_set(mosq, OnSubscribe);
  mosquitto_message_callback_set(mosq, OnMessage);
  mosquitto_reconnect_delay_set(mosq, 1, 2, false);
  int rc = mosquitto_connect(mosq, o.host.c_str(), o.port, 30);
  if (rc != MOSQ_ERR_SUCCESS) {
    std::fprintf(stderr, "ferry-sub-count: cannot connect to %s:%d: %s\n", o.host.c_str(), o.port,
                 mosquitto_strerror(rc));
    return 1;
  }
  int64_t start_ns = NowNs();
  mosquitto_loop_start(mosq);
  WaitDone(o, counter);
  mosquitto_disconnect(mosq);
  mosquitto_loop_stop(mosq, false);

  uint64_t n = counter.count.load();
  if (o.expect > 0 && n > o.expect) n = o.expect;
  int64_t from = n > 0 ? counter.first_ns.load() : start_ns;
  int64_t to = n > 0 ? counter.last_ns.load() : NowNs();
  double secs = static_cast<double>(to - from) / 1e9;
  std::printf("received %llu in %.3f s (%.0f msg/s)\n", static_cast<unsigned long long>(n), secs,
              secs > 0 ? n / secs : 0.0);
  std::fflush(stdout);
  mosquitto_destroy(mosq);
  mosquitto_lib_cleanup();
  return o.expect == 0 || n >= o.expect ? 0 : 1;
}
