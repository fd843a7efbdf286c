#include "agent/status/status_print.h"

#include <cmath>
#include <cstdio>

#include "agent/status/status_client.h"
#include "platform/clock.h"
#include "platform/poll.h"

namespace ferry::agent {

namespace {

const nlohmann::json* Find(const nlohmann::json& j, const char* a, const char* b = nullptr) {
  const nlohmann::json* v = &j;
  for (const char* k : {a, b}) {
    if (!k) break;
    if (!v->is_object() || !v->contains(k)) return nullptr;
    v = &(*v)[k];
  }
  return v;
}

std::string Get(const nlohmann::json& j, const char* a, const char* b = nullptr) {
  const nlohmann::json* v = Find(j, a, b);
  if (!v) return "-";
  if (v->is_string()) return v->get<std::string>().empty() ? "-" : v->get<std::string>();
  return v->dump();
}

double Num(const nlohmann::json& j, const char* a, const char* b = nullptr) {
  const nlohmann::json* v = Find(j, a, b);
  return v && v->is_number() ? v->get<double>() : 0;
}

std::string Count(double n) {
  char buf[32];
  snprintf(buf, sizeof buf, "%.0f", n);
  return buf;
}

std::string Line(const char* label, const std::string& value) {
  char buf[64];
  snprintf(buf, sizeof buf, "%-14s", label);
  return std::string(buf) + value + "\n";
}

std::string Rate(const nlohmann::json& now, const nlohmann::json* before, double seconds,
                 const char* key) {
  if (!before || seconds <= 0) return "";
  double d = Num(now, "counters", key) - Num(*before, "counters", key);
  char buf[48];
  snprintf(buf, sizeof buf, "  (%.1f/s)", std::max(0.0, d) / seconds);
  return buf;
}

}  // namespace

std::string HumanDuration(double seconds) {
  long s = std::lround(std::max(0.0, seconds));
  char buf[32];
  if (s < 60) {
    snprintf(buf, sizeof buf, "%lds", s);
  } else if (s < 3600) {
    snprintf(buf, sizeof buf, "%ldm %02lds", s / 60, s % 60);
  } else if (s < 86400) {
    snprintf(buf, sizeof buf, "%ldh %02ldm", s / 3600, s % 3600 / 60);
  } else {
    snprintf(buf, sizeof buf, "%ldd %ldh", s / 86400, s % 86400 / 3600);
  }
  return buf;
}

std::string HumanBytes(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int i = 0;
  while (bytes >= 1024 && i < 4) bytes /= 1024, ++i;
  char buf[32];
  snprintf(buf, sizeof buf, i == 0 ? "%.0f %s" : "%.1f %s", bytes, units[i]);
  return buf;
}

std::string FormatStatusForPerson(const nlohmann::json& s, const nlohmann::json* prev,
                                  double between) {
  std::string out;
  out += Line("gateway", Get(s, "gateway") + "  (ferry " + Get(s, "version") + ", up " +
                             HumanDuration(Num(s, "uptime_seconds")) + ")");
  out += Line("mqtt", Get(s, "mqtt", "state"));
  double records = Num(s, "queue", "records");
  out += Line(
      "queue",
      Count(records) + " records, " + HumanBytes(Num(s, "queue", "bytes")) +
          (records > 0 ? ", oldest " + HumanDuration(Num(s, "queue", "oldest_age_seconds")) : "") +
          "; disk " + HumanBytes(Num(s, "queue", "disk_bytes")) +
          (Find(s, "queue", "max_bytes") ? " of " + HumanBytes(Num(s, "queue", "max_bytes")) : ""));
  std::string next = Get(s, "upstream", "next_attempt");
  out +=
      Line("upstream", Get(s, "upstream", "state") + ", breaker " + Get(s, "upstream", "breaker") +
                           (next != "-" ? ", next attempt " + next : ""));
  std::string dl = Count(Num(s, "dead_letters"));
  if (Find(s, "dead_letter_store")) {
    dl += " (" + HumanBytes(Num(s, "dead_letter_store", "bytes")) + " of " +
          HumanBytes(Num(s, "dead_letter_store", "max_bytes")) + ", " +
          Get(s, "dead_letter_store", "policy") +
          (Get(s, "dead_letter_store", "full") == "true" ? ", FULL: intake paused" : "") + ")";
  }
  out += Line("dead letters", dl);
  double received = Num(s, "counters", "records_received");
  double stored = Num(s, "counters", "records_stored");
  double dead = Num(s, "counters", "records_dead_lettered");
  double ignored = Num(s, "counters", "records_ignored");
  double other = received - stored - dead - ignored;
  out += Line("received", Count(received) + Rate(s, prev, between, "records_received") + " = " +
                              Count(stored) + " stored + " + Count(dead) + " dead-lettered + " +
                              Count(ignored) + " ignored" +
                              (std::fabs(other) >= 1 ? " + " + Count(other) + " other" : ""));
  out +=
      Line("delivered", Count(Num(s, "counters", "records_delivered")) +
                            Rate(s, prev, between, "records_delivered") + "; dropped by policy " +
                            Count(Num(s, "counters", "records_dropped") - ignored));
  out += Line("last error",
              Get(s, "last_error") +
                  (Get(s, "last_error_at") != "-" ? "  (" + Get(s, "last_error_at") + ")" : ""));
  return out;
}

int RunStatus(const StatusArgs& a) {
  auto client = StatusClient(a.url, 5);
  nlohmann::json previous;
  int64_t previous_ms = 0;
  platform::Clock& clock = platform::SystemClock();
  for (;;) {
    auto res = client->Get("/status");
    std::string text;
    int rc = 0;
    nlohmann::json j;
    if (!res) {
      text = Unreachable(a.url, res.error()), rc = 1;
    } else if (res->status != 200) {
      text = StatusBaseUrl(a.url) + "/status answered " + std::to_string(res->status) + "\n";
      rc = 1;
    } else if ((j = nlohmann::json::parse(res->body, nullptr, false)).is_discarded()) {
      text = StatusBaseUrl(a.url) + "/status did not answer JSON\n", rc = 1;
    } else if (a.json) {
      text = j.dump(2) + "\n";
    } else {
      int64_t now = clock.MonotonicMillis();
      double between = previous_ms ? static_cast<double>(now - previous_ms) / 1000.0 : 0;
      text = FormatStatusForPerson(j, previous.is_object() ? &previous : nullptr, between);
      previous = j, previous_ms = now;
    }
    if (!a.watch) {
      fwrite(text.data(), 1, text.size(), rc == 0 ? stdout : stderr);
      return rc;
    }
    // Home, clear: the view is redrawn in place.
    std::string screen = "\x1b[H\x1b[2J" + text + "\n(every " +
                         std::to_string(a.interval_ms / 1000.0).substr(0, 3) + " s; Ctrl-C ends)\n";
    fwrite(screen.data(), 1, screen.size(), stdout);
    fflush(stdout);
    platform::SleepMillis(a.interval_ms);
  }
}

}  // namespace ferry::agent
