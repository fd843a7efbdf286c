#include "agent/status/transforms_render.h"

#include "agent/status/metrics.h"

#include <cstdio>

namespace ferry::agent {

nlohmann::json TransformsJson(const std::vector<TransformInfo>& transforms) {
  nlohmann::json out = nlohmann::json::object();
  for (const TransformInfo& t : transforms) {
    const TransformConfig& c = *t.config;
    const TransformStats& s = t.stats;
    nlohmann::json limits = {{"timeout", FormatDuration(c.timeout_ms)},
                             {"memory", FormatSize(c.memory)},
                             {"cpu", FormatDuration(c.cpu_ms)},
                             {"max_output", FormatSize(c.max_output)},
                             {"max_in_flight", c.max_in_flight},
                             {"max_processes", c.max_processes},
                             {"max_file_size", FormatSize(c.max_file_size)}};
    out[c.name] = {
        {"command", c.command},
        {"sha256", t.pin},
        {"pinned", !c.sha256.empty()},
        {"sandbox", std::string(NameOf(c.sandbox))},
        {"isolation", s.isolation},
        {"limits", limits},
        {"state", s.state},
        {"starts", s.starts},
        {"restarts", s.restarts},
        {"requests", s.requests},
        {"errors", s.errors},
        {"failures", s.failures},
        {"kills", s.kills},
        {"last_failure", s.last_failure},
        {"latency_mean_seconds", s.latency_count ? s.latency_sum_s / s.latency_count : 0.0},
        {"latency_max_seconds", s.latency_max_s},
        {"restart_in_seconds", s.restart_in_ms / 1000.0},
    };
  }
  return out;
}

namespace {

template <typename F>
void Series(std::string& out, const std::vector<TransformInfo>& transforms, const char* name,
            const char* type, const char* help, F value) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
  for (const TransformInfo& t : transforms) {
    char buf[64];
    snprintf(buf, sizeof buf, "%.17g", static_cast<double>(value(t.stats)));
    out.append(name).append("{transform=\"").append(EscapeLabel(t.config->name)).append("\"} ");
    out.append(buf).append("\n");
  }
}

}  // namespace

void AppendTransformMetrics(const std::vector<TransformInfo>& transforms, std::string& out) {
  if (transforms.empty()) return;
  using S = TransformStats;
  Series(out, transforms, "ferry_transform_requests_total", "counter",
         "Messages sent to a transform.", [](const S& s) { return s.requests; });
  Series(out, transforms, "ferry_transform_errors_total", "counter",
         "Replies with an error (the message is dead-lettered).",
         [](const S& s) { return s.errors; });
  Series(out, transforms, "ferry_transform_failures_total", "counter",
         "Messages dead-lettered because the transform failed (timeout, crash, bad output).",
         [](const S& s) { return s.failures; });
  Series(out, transforms, "ferry_transform_restarts_total", "counter",
         "Starts of a transform after a failure.", [](const S& s) { return s.restarts; });
  Series(out, transforms, "ferry_transform_up", "gauge", "1 while the transform's process runs.",
         [](const S& s) { return s.state == "running" ? 1 : 0; });
  Series(out, transforms, "ferry_transform_request_seconds_sum", "counter",
         "Seconds from request to reply, summed.", [](const S& s) { return s.latency_sum_s; });
  Series(out, transforms, "ferry_transform_request_seconds_count", "counter", "Replies timed.",
         [](const S& s) { return s.latency_count; });
}

}  // namespace ferry::agent
