// Normalization: one MQTT message in, one record's content out (device id, event time, data),
// or a reason why the message cannot become a record. Pure: no I/O, no clock (the receive
// time comes in with the message). Thread-compatible: const methods may run concurrently.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/config/config.h"

namespace ferry::agent {

struct Message {
  std::string_view topic;
  std::string_view payload;  // bytes as received; may be empty or not UTF-8
  int64_t received_ms = 0;   // gateway wall clock when taken in
};

struct Normalized {
  std::string device;          // "" when no rule extracted one
  int64_t ts_ms = 0;           // event time, ms since epoch UTC
  bool ts_from_payload = false;  // ts_source "payload" (true) or "received" (false)
  nlohmann::json data;         // always an object
  std::map<std::string, std::string> labels;  // the route's labels (gateway labels added later)
};

enum class Outcome { kRecord, kIgnored, kDeadLetter };

class Normalizer {
 public:
  explicit Normalizer(std::vector<Route> routes);

  // kRecord fills `out`; kDeadLetter fills `reason` ("invalid JSON at byte 12: ...",
  // "payload is not valid UTF-8", "empty payload"); kIgnored means a route said to skip it.
  Outcome Normalize(const Message& msg, Normalized* out, std::string* reason) const;

 private:
  std::vector<Route> routes_;
};

}  // namespace ferry::agent
