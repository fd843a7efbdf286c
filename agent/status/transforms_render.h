// The transforms' part of /status and /metrics (and of `ferry transforms`).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/transform/transform_set.h"

namespace ferry::agent {

// {"<name>": {"command": [...], "sha256", "pinned", "isolation", "sandbox", "limits": {...},
// "state", "restarts", "requests", "errors", "failures", "kills", "last_failure",
// "latency_mean_seconds", "latency_max_seconds" (of the last batch), "restart_in_seconds"}}
nlohmann::json TransformsJson(const std::vector<TransformInfo>& transforms);

// ferry_transform_requests_total{transform}, ferry_transform_errors_total{transform} (replies
// with "error"), ferry_transform_failures_total{transform} (requests failed by a kill),
// ferry_transform_restarts_total{transform}, ferry_transform_up{transform} (1 while running),
// ferry_transform_request_seconds_sum / _count{transform}. Nothing without transforms.
void AppendTransformMetrics(const std::vector<TransformInfo>& transforms, std::string& out);

}  // namespace ferry::agent
