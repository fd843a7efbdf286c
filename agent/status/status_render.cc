#include "agent/status/status_render.h"

#include <map>

#include "agent/status/transforms_render.h"
#include "platform/log.h"
#include "platform/process.h"

#ifndef FERRY_VERSION
#define FERRY_VERSION "0.0.0"
#define FERRY_GIT_REVISION "unknown"
#define FERRY_BUILD_TYPE "unknown"
#define FERRY_TARGET_ARCH "unknown"
#endif

namespace ferry::agent {

namespace {

double AgeSeconds(int64_t now_ms, int64_t then_ms) {
  return then_ms > 0 && now_ms > then_ms ? static_cast<double>(now_ms - then_ms) / 1000.0 : 0.0;
}

std::string Stamp(int64_t ms) { return ms > 0 ? platform::FormatRfc3339Millis(ms) : ""; }

void Family(std::string& out, const char* name, const char* type, const char* help) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

void Sample(std::string& out, const char* name, double value) {
  char buf[64];
  snprintf(buf, sizeof buf, "%.17g", value);
  out.append(name).append(" ").append(buf).append("\n");
}

void Labeled(std::string& out, const char* name, const char* label, const LabeledCounter& c,
             const std::vector<std::string>& always,
             const std::map<std::string, uint64_t>& more = {}) {
  auto values = c.Snapshot();
  for (const auto& v : always) values.emplace(v, 0);
  for (const auto& [k, v] : more) values[k] += v;
  for (const auto& [k, v] : values) {
    out.append(name).append("{").append(label).append("=\"").append(EscapeLabel(k));
    out.append("\"} ").append(std::to_string(v)).append("\n");
  }
}

// Messages an ignore route dropped: they reconcile received with stored and dead-lettered.
uint64_t IgnoredCount(const Metrics& m) {
  auto dropped = m.records_dropped.Snapshot();
  auto it = dropped.find("ignored");
  return it == dropped.end() ? 0 : it->second;
}

}  // namespace

std::string VersionString() {
  return std::string("ferry ") + FERRY_VERSION + " (revision " + FERRY_GIT_REVISION + ", " +
         FERRY_BUILD_TYPE + ", " + FERRY_TARGET_ARCH + ")";
}

nlohmann::json VersionJson() {
  return {{"version", FERRY_VERSION},
          {"revision", FERRY_GIT_REVISION},
          {"build_type", FERRY_BUILD_TYPE},
          {"arch", FERRY_TARGET_ARCH}};
}

StatusSnapshot TakeSnapshot(const std::string& gateway, storage::Queue& queue,
                            const AgentState& state, int64_t now_wall_ms, double uptime_seconds) {
  StatusSnapshot s;
  s.gateway = gateway;
  s.queue = queue.Stats();
  s.now_wall_ms = now_wall_ms;
  s.uptime_seconds = uptime_seconds;
  s.intake_state = state.Intake();
  s.upstream_state = state.Upstream();
  s.next_attempt_wall_ms = state.NextAttemptWallMs();
  s.breaker_state = state.Breaker();
  s.reload = state.Reload();
  s.reload_wall_ms = state.ReloadWallMs();
  s.consecutive_failures = state.ConsecutiveFailures();
  s.last_error = state.LastError();
  s.last_error_wall_ms = state.LastErrorWallMs();
  s.recent_errors = state.RecentErrors();
  platform::ProcessStats p = platform::ReadProcessStats();
  s.rss_bytes = p.rss_bytes;
  s.cpu_seconds = p.cpu_seconds;
  s.transforms = state.Transforms();
  return s;
}

nlohmann::json RenderStatus(const StatusSnapshot& s, const Metrics& m) {
  using nlohmann::json;
  json j;
  j["version"] = FERRY_VERSION;
  j["build"] = VersionJson();
  j["uptime_seconds"] = s.uptime_seconds;
  j["gateway"] = s.gateway;
  j["queue"] = {{"records", s.queue.records},
                {"bytes", s.queue.stored_bytes},
                {"raw_bytes", s.queue.raw_bytes},
                {"disk_bytes", s.queue.disk_bytes},
                {"max_bytes", s.queue.max_bytes},
                {"oldest_age_seconds", AgeSeconds(s.now_wall_ms, s.queue.oldest_received_ms)},
                {"epoch", s.queue.epoch},
                {"next_seq", s.queue.next_seq},
                {"quarantined", s.queue.quarantined}};
  j["dead_letters"] = s.queue.dead_letters;
  const storage::QueueStats& q = s.queue;
  j["dead_letter_store"] = {{"bytes", q.dead_letter_bytes},
                            {"max_bytes", q.dead_letter_max_bytes},
                            {"policy", q.dead_letters_block ? "block" : "drop_oldest"},
                            {"full", q.dead_letters_block && q.dead_letter_max_bytes > 0 &&
                                         q.dead_letter_bytes >= q.dead_letter_max_bytes},
                            {"dropped", q.dead_letters_dropped},
                            {"purged", m.dead_letters_purged.load()}};
  j["mqtt"] = {{"connected", m.mqtt_connected.load() == 1}, {"state", s.intake_state}};
  j["upstream"] = {{"state", s.upstream_state},
                   {"next_attempt", Stamp(s.next_attempt_wall_ms)},
                   {"breaker", s.breaker_state},
                   {"consecutive_failures", s.consecutive_failures}};
  j["config"] = {{"last_load", s.reload}, {"loaded_at", Stamp(s.reload_wall_ms)}};
  j["last_error"] = s.last_error;
  j["last_error_at"] = Stamp(s.last_error_wall_ms);
  j["recent_errors"] = json::array();
  for (const auto& [ms, error] : s.recent_errors) {
    j["recent_errors"].push_back({{"at", Stamp(ms)}, {"error", error}});
  }
  j["counters"] = {{"records_received", m.records_received.Total()},
                   {"records_stored", m.records_stored.load()},
                   {"records_delivered", m.records_delivered.load()},
                   {"records_dead_lettered", m.records_dead_lettered.Total()},
                   {"records_dropped", m.records_dropped.Total() + q.dead_letters_dropped},
                   {"records_ignored", IgnoredCount(m)},
                   {"batches_delivered", m.batches_delivered.load()},
                   {"upstream_requests", m.upstream_requests.Total()},
                   {"upstream_bytes_sent", m.upstream_bytes_sent.load()}};
  j["process"] = {{"rss_bytes", s.rss_bytes}, {"cpu_seconds", s.cpu_seconds}};
  j["transforms"] = TransformsJson(s.transforms);
  return j;
}

std::string RenderMetrics(const StatusSnapshot& s, const Metrics& m) {
  std::string o;
  Family(o, "ferry_records_received_total", "counter", "Messages taken in, by source.");
  Labeled(o, "ferry_records_received_total", "source", m.records_received, {"mqtt"});
  Family(o, "ferry_records_stored_total", "counter", "Records committed to the queue.");
  Sample(o, "ferry_records_stored_total", static_cast<double>(m.records_stored.load()));
  Family(o, "ferry_records_delivered_total", "counter", "Records the landing zone confirmed.");
  Sample(o, "ferry_records_delivered_total", static_cast<double>(m.records_delivered.load()));
  Family(o, "ferry_records_dead_lettered_total", "counter", "Records moved to dead letters.");
  Labeled(o, "ferry_records_dead_lettered_total", "reason", m.records_dead_lettered, {});
  Family(o, "ferry_records_dropped_total", "counter", "Records dropped by a configured policy.");
  // Dead letters dropped at their bound are counted by the queue (it drops them).
  Labeled(o, "ferry_records_dropped_total", "reason", m.records_dropped, {},
          {{"dead_letter_quota", s.queue.dead_letters_dropped}});
  Family(o, "ferry_queue_records", "gauge", "Records waiting in the queue.");
  Sample(o, "ferry_queue_records", static_cast<double>(s.queue.records));
  Family(o, "ferry_queue_bytes", "gauge", "Compressed bytes of the queued records.");
  Sample(o, "ferry_queue_bytes", static_cast<double>(s.queue.stored_bytes));
  Family(o, "ferry_queue_disk_bytes", "gauge", "Bytes the queue database uses on disk.");
  Sample(o, "ferry_queue_disk_bytes", static_cast<double>(s.queue.disk_bytes));
  Family(o, "ferry_queue_oldest_age_seconds", "gauge", "Age of the oldest queued record.");
  Sample(o, "ferry_queue_oldest_age_seconds",
         AgeSeconds(s.now_wall_ms, s.queue.oldest_received_ms));
  Family(o, "ferry_dead_letters", "gauge", "Records in the dead-letter store.");
  Sample(o, "ferry_dead_letters", static_cast<double>(s.queue.dead_letters));
  Family(o, "ferry_dead_letter_bytes", "gauge",
         "Bytes of the dead-letter store, against storage.dead_letters.max_size.");
  Sample(o, "ferry_dead_letter_bytes", static_cast<double>(s.queue.dead_letter_bytes));
  Family(o, "ferry_dead_letters_purged_total", "counter", "Dead letters deleted on request.");
  Sample(o, "ferry_dead_letters_purged_total", static_cast<double>(m.dead_letters_purged.load()));
  Family(o, "ferry_upstream_requests_total", "counter", "Requests to the landing zone, by code.");
  Labeled(o, "ferry_upstream_requests_total", "code", m.upstream_requests, {});
  Family(o, "ferry_upstream_probes_total", "counter", "Probes while the breaker is open, by code.");
  Labeled(o, "ferry_upstream_probes_total", "code", m.upstream_probes, {});
  Family(o, "ferry_upstream_breaker_open", "gauge", "1 while the circuit breaker is open.");
  Sample(o, "ferry_upstream_breaker_open", s.breaker_state == "open" ? 1 : 0);
  Family(o, "ferry_upstream_bytes_sent_total", "counter", "Request body bytes sent upstream.");
  Sample(o, "ferry_upstream_bytes_sent_total", static_cast<double>(m.upstream_bytes_sent.load()));
  Family(o, "ferry_mqtt_connected", "gauge", "1 while the MQTT session is up.");
  Sample(o, "ferry_mqtt_connected", m.mqtt_connected.load());
  Family(o, "ferry_mqtt_redeliveries_skipped_total", "counter",
         "QoS 1 messages the broker sent again that were already stored.");
  Sample(o, "ferry_mqtt_redeliveries_skipped_total",
         static_cast<double>(m.mqtt_redeliveries_skipped.load()));
  Family(o, "ferry_intake_commits_total", "counter",
         "Groups of received messages committed to the queue (one transaction each).");
  Sample(o, "ferry_intake_commits_total", static_cast<double>(m.intake_commits.load()));
  Family(o, "ferry_queue_quarantined_total", "counter", "Corrupt queue files moved aside.");
  Sample(o, "ferry_queue_quarantined_total", static_cast<double>(m.queue_quarantined.load()));
  Family(o, "ferry_queue_epochs_started_total", "counter",
         "New queue epochs started because a run with storage.sync normal did not close cleanly.");
  Sample(o, "ferry_queue_epochs_started_total", static_cast<double>(m.queue_epochs_started.load()));
  Family(o, "ferry_process_resident_memory_bytes", "gauge", "Resident set size.");
  Sample(o, "ferry_process_resident_memory_bytes", static_cast<double>(s.rss_bytes));
  Family(o, "ferry_process_cpu_seconds_total", "counter", "User and system CPU time.");
  Sample(o, "ferry_process_cpu_seconds_total", s.cpu_seconds);
  AppendTransformMetrics(s.transforms, o);
  return o;
}

}  // namespace ferry::agent
