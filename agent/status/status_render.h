// Renders the agent's state as the /status JSON and the /metrics Prometheus text. Pure
// functions of a snapshot, so tests check them without a server.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/status/agent_state.h"
#include "agent/status/metrics.h"
#include "agent/transform/transform_set.h"
#include "storage/queue.h"

namespace ferry::agent {

struct StatusSnapshot {
  std::string gateway;
  storage::QueueStats queue;
  int64_t now_wall_ms = 0;
  double uptime_seconds = 0;
  std::string intake_state;
  std::string upstream_state;
  int64_t next_attempt_wall_ms = 0;
  std::string breaker_state;
  std::string reload;
  int64_t reload_wall_ms = 0;
  uint32_t consecutive_failures = 0;
  std::string last_error;
  int64_t last_error_wall_ms = 0;
  std::vector<std::pair<int64_t, std::string>> recent_errors;  // oldest first
  uint64_t rss_bytes = 0;
  double cpu_seconds = 0;
  std::vector<TransformInfo> transforms;
};

StatusSnapshot TakeSnapshot(const std::string& gateway, storage::Queue& queue,
                            const AgentState& state, int64_t now_wall_ms, double uptime_seconds);

nlohmann::json RenderStatus(const StatusSnapshot& s, const Metrics& m);
std::string RenderMetrics(const StatusSnapshot& s, const Metrics& m);

// The version line of `ferry version` and /status.
std::string VersionString();
nlohmann::json VersionJson();

}  // namespace ferry::agent
