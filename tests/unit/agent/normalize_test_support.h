// Helpers shared by the normalization tests: the device corpus, the example configs, and a
// comparison of records with checked-in expectations.
#pragma once

#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/config/config.h"
#include "agent/normalize/normalizer.h"

#ifndef FERRY_DEVICES_DIR
#define FERRY_DEVICES_DIR "/work/shared/data/devices"
#endif
#ifndef FERRY_SOURCE_DIR
#define FERRY_SOURCE_DIR "."
#endif

namespace ferry::agent::testing {

// 2026-11-21T10:15:00.000Z: the receive time the expected fixtures assume.
inline constexpr int64_t kFixtureReceivedMs = 1'795'256'100'000;

inline const std::vector<std::string>& Families() {
  static const std::vector<std::string> kFamilies = {"zigbee2mqtt", "tasmota", "shelly_gen1",
                                                     "shelly_gen2", "ttn_v3",  "owntracks",
                                                     "esphome",     "telegraf"};
  return kFamilies;
}

inline std::vector<nlohmann::json> ReadNdjson(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), "cannot read " << path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    nlohmann::json v = nlohmann::json::parse(line, nullptr, false);
    REQUIRE_MESSAGE(v.is_object(), path << ": not a JSON object: " << line);
    out.push_back(std::move(v));
  }
  return out;
}

inline std::vector<nlohmann::json> DeviceLines(const std::string& family) {
  return ReadNdjson(std::string(FERRY_DEVICES_DIR) + "/" + family + ".ndjson");
}

inline std::string Unhex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  }
  return out;
}

// The payload bytes of a corpus line (payload, or payload_hex).
inline std::string PayloadOf(const nlohmann::json& line) {
  if (line.contains("payload_hex")) return Unhex(line["payload_hex"].get<std::string>());
  const nlohmann::json& p = line.value("payload", nlohmann::json());
  return p.is_string() ? p.get<std::string>() : std::string();
}

inline Config ExampleConfig(const std::string& family) {
  std::string path = std::string(FERRY_SOURCE_DIR) + "/config/examples/" + family + ".json";
  platform::Result<Config> config = LoadConfig(path);
  REQUIRE_MESSAGE(config.ok(), config.status().message());
  return *config;
}

// Equal JSON, numbers compared by kind (integer or float) and, for floats, within 1e-12
// relative: the expectations are written by hand, not by the code under test.
inline bool SameJson(const nlohmann::json& a, const nlohmann::json& b) {
  if (a.is_number() && b.is_number()) {
    if (a.is_number_float() != b.is_number_float()) return false;
    if (!a.is_number_float()) return a == b;
    double x = a.get<double>(), y = b.get<double>();
    return std::fabs(x - y) <= 1e-12 * std::max(std::fabs(x), std::fabs(y));
  }
  if (a.type() != b.type()) return false;
  if (a.is_object()) {
    if (a.size() != b.size()) return false;
    for (auto it = a.begin(); it != a.end(); ++it) {
      auto other = b.find(it.key());
      if (other == b.end() || !SameJson(*it, *other)) return false;
    }
    return true;
  }
  if (a.is_array()) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      if (!SameJson(a[i], b[i])) return false;
    }
    return true;
  }
  return a == b;
}

}  // namespace ferry::agent::testing
