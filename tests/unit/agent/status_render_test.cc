#include "agent/status/status_render.h"

#include <doctest/doctest.h>

using namespace ferry::agent;

TEST_CASE("metrics text carries every metric of the contract with its type") {
  Metrics m;
  m.records_received.Add("mqtt", 5);
  m.records_dead_lettered.Add("invalid_json", 2);
  m.upstream_requests.Add("200", 1);
  m.mqtt_connected = 1;
  StatusSnapshot s;
  s.queue.records = 3;
  s.queue.oldest_received_ms = 1000;
  s.now_wall_ms = 3500;
  std::string text = RenderMetrics(s, m);
  const char* families[][2] = {
      {"ferry_records_received_total", "counter"},
      {"ferry_records_stored_total", "counter"},
      {"ferry_records_delivered_total", "counter"},
      {"ferry_records_dead_lettered_total", "counter"},
      {"ferry_records_dropped_total", "counter"},
      {"ferry_queue_records", "gauge"},
      {"ferry_queue_bytes", "gauge"},
      {"ferry_queue_oldest_age_seconds", "gauge"},
      {"ferry_dead_letters", "gauge"},
      {"ferry_upstream_requests_total", "counter"},
      {"ferry_upstream_bytes_sent_total", "counter"},
      {"ferry_mqtt_connected", "gauge"},
  };
  for (auto& f : families) {
    CAPTURE(f[0]);
    CHECK(text.find(std::string("# TYPE ") + f[0] + " " + f[1] + "\n") != std::string::npos);
  }
  CHECK(text.find("ferry_records_received_total{source=\"mqtt\"} 5\n") != std::string::npos);
  CHECK(text.find("ferry_records_dead_lettered_total{reason=\"invalid_json\"} 2\n") !=
        std::string::npos);
  CHECK(text.find("ferry_queue_records 3\n") != std::string::npos);
  CHECK(text.find("ferry_queue_oldest_age_seconds 2.5\n") != std::string::npos);
  CHECK(text.find("ferry_mqtt_connected 1\n") != std::string::npos);
}

TEST_CASE("status JSON has the contract's fields") {
  Metrics m;
  StatusSnapshot s;
  s.gateway = "gw-1";
  s.upstream_state = "backoff";
  s.last_error = "upstream: HTTP 503";
  auto j = RenderStatus(s, m);
  for (const char* key : {"version", "uptime_seconds", "gateway", "queue", "dead_letters", "mqtt",
                          "upstream", "last_error", "counters"}) {
    CAPTURE(key);
    CHECK(j.contains(key));
  }
  CHECK(j["queue"].contains("records"));
  CHECK(j["queue"].contains("bytes"));
  CHECK(j["queue"].contains("oldest_age_seconds"));
  CHECK(j["upstream"]["state"] == "backoff");
  CHECK(j["mqtt"]["connected"] == false);
}

TEST_CASE("the dead-letter store's bound, drops and purges are in /status and /metrics") {
  Metrics m;
  m.records_received.Add("mqtt", 10);
  m.records_dropped.Add("ignored", 2);
  m.dead_letters_purged = 4;
  StatusSnapshot s;
  s.queue.max_bytes = 1 << 20;
  s.queue.dead_letters = 3;
  s.queue.dead_letter_bytes = 70'000;
  s.queue.dead_letter_max_bytes = 65'536;
  s.queue.dead_letters_block = true;
  s.queue.dead_letters_dropped = 5;
  s.recent_errors = {{1000, "first"}, {2000, "second"}};
  nlohmann::json j = RenderStatus(s, m);
  CHECK(j["dead_letters"] == 3);
  CHECK(j["dead_letter_store"]["full"] == true);
  CHECK(j["dead_letter_store"]["policy"] == "block");
  CHECK(j["dead_letter_store"]["dropped"] == 5);
  CHECK(j["dead_letter_store"]["purged"] == 4);
  CHECK(j["queue"]["max_bytes"] == 1 << 20);
  CHECK(j["counters"]["records_ignored"] == 2);
  CHECK(j["counters"]["records_dropped"] == 7);
  REQUIRE(j["recent_errors"].size() == 2);
  CHECK(j["recent_errors"][1]["error"] == "second");
  std::string text = RenderMetrics(s, m);
  CHECK(text.find("ferry_records_dropped_total{reason=\"dead_letter_quota\"} 5\n") !=
        std::string::npos);
  CHECK(text.find("ferry_records_dropped_total{reason=\"ignored\"} 2\n") != std::string::npos);
  CHECK(text.find("ferry_dead_letter_bytes 70000\n") != std::string::npos);
  CHECK(text.find("ferry_dead_letters_purged_total 4\n") != std::string::npos);
}

TEST_CASE("a new queue epoch after an unclean stop is counted in /metrics") {
  Metrics m;
  StatusSnapshot s;
  CHECK(RenderMetrics(s, m).find("\nferry_queue_epochs_started_total 0\n") != std::string::npos);
  m.queue_epochs_started = 1;
  std::string text = RenderMetrics(s, m);
  CHECK(text.find("# TYPE ferry_queue_epochs_started_total counter\n") != std::string::npos);
  CHECK(text.find("\nferry_queue_epochs_started_total 1\n") != std::string::npos);
}
