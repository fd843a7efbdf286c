// `ferry transforms [--url URL] [--config F] [--json]`: each transform with its command, pin,
// limits, isolation, state, restarts, requests, failures and latency. Asks the running agent
// (GET /status, its "transforms"); when no agent answers and a config file was given, lists
// the config's transforms with the state "not running" (no counters).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace ferry::agent {

struct TransformsArgs {
  std::string url;     // the status server (any URL StatusBaseUrl takes)
  std::string config;  // "" : none given
  bool json = false;   // print /status's "transforms" object as it is
};

// Returns the exit code: 0, 1 when neither the agent nor the config could be read (then `out`
// says why), 2 for an invalid config.
int ListTransforms(const TransformsArgs& args, std::string* out);

// The person's view of /status's "transforms" object (also for tests).
std::string FormatTransforms(const nlohmann::json& transforms);

}  // namespace ferry::agent
