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

TEST_CASE("dead letter reasons get short metric labels") {
  CHECK(DeadLetterReasonLabel("empty payload") == "empty_payload");
  CHECK(DeadLetterReasonLabel("invalid JSON: syntax error at byte 3") == "invalid_json");
  CHECK(DeadLetterReasonLabel("payload is not valid UTF-8 (byte 0)") == "invalid_utf8");
  CHECK(DeadLetterReasonLabel("invalid line protocol at byte 4: no fields") ==
        "invalid_line_protocol");
  CHECK(DeadLetterReasonLabel("validation failed: temperature out of range") ==
        "validation_failed");
  CHECK(DeadLetterReasonLabel("something new") == "invalid_message");
}
