// Normalization: one MQTT message in, one record's content out (device id, event time, data),
// or a reason why the message cannot become a record. Pure: no I/O, no clock (the receive
// time comes in with the message). Thread-compatible: const methods may run concurrently.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/config/config.h"
#include "agent/normalize/route_rule.h"

namespace ferry::agent {

struct Message {
  std::string_view topic;
  std::string_view payload;  // bytes as received; may be empty or not UTF-8
  int64_t received_ms = 0;   // gateway wall clock when taken in
};

struct Normalized {
  std::string device;                         // "" when no rule extracted one
  int64_t ts_ms = 0;                          // event time, ms since epoch UTC
  bool ts_from_payload = false;               // ts_source "payload" (true) or "received" (false)
  nlohmann::json data;                        // always an object
  std::map<std::string, std::string> labels;  // the route's labels (gateway labels added later)
};

enum class Outcome { kRecord, kIgnored, kDeadLetter };

class Normalizer {
 public:
  // Compiles the routes' templates and paths once; see CompileRoute for invalid routes.
  explicit Normalizer(std::vector<Route> routes);

  // The first route whose topic template matches applies; with none, the default rule
  // (payload "auto", value field "value", no device, receive time).
  //
  // kRecord fills `out`:
  //   data    the decoded payload (see DecodePayload)
  //   device  the template's {device} capture; else the route's device_field (a string, or a
  //           number written as JSON); else ""
  //   ts_ms   the route's time field parsed as its format (see ParseEventTimeMs) when that
  //           succeeds and InEventTimeWindow holds (ts_from_payload = true); else received_ms
  //   labels  the route's labels
  // kDeadLetter fills `reason` (see DecodePayload: "empty payload", "payload is not valid
  // UTF-8 (byte 9)", "invalid JSON at byte 12: ..."); `out` is then unspecified.
  // kIgnored means the route says to skip the message; nothing is filled.
  // Never throws except std::bad_alloc.
  Outcome Normalize(const Message& msg, Normalized* out, std::string* reason) const;

 private:
  const RouteRule& Select(std::string_view topic, std::vector<std::string_view>* captures) const;

  std::vector<RouteRule> routes_;
  RouteRule default_rule_;
};

}  // namespace ferry::agent
