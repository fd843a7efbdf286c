// Normalization: one MQTT message in, one record's content out (device id, event time, data),
// or a reason why the message cannot become a record. Pure: no I/O, no clock (the receive
// time comes in with the message). Thread-compatible: const methods may run concurrently.
// config/README.md is the reference of the rule language; this header is the contract.
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
  std::string device;                           // "" when no rule extracted one
  int64_t ts_ms = 0;                            // event time, ms since epoch UTC
  bool ts_from_payload = false;                 // ts_source "payload" (true) or "received" (false)
  nlohmann::json data;                          // always an object
  std::map<std::string, std::string> labels;    // the route's labels (gateway labels added later)
  TimeStatus ts_status = TimeStatus::kMissing;  // why ts is what it is (kPayload iff from payload)
  int route = -1;  // index of the route that applied; -1: the default rule
};

enum class Outcome { kRecord, kIgnored, kDeadLetter };

class Normalizer {
 public:
  // Compiles the routes' templates and paths once; see CompileRoute for invalid routes.
  explicit Normalizer(std::vector<Route> routes);

  // The first route whose topic template and payload_shape match applies; with none, the
  // default rule (payload "auto", value field "value", no device, receive time).
  //
  // Steps, each on what the previous left:
  //   1. ignore: kIgnored.             2. max_payload.
  //   3. an empty payload: per empty_payload (dead letter, {value_field: null}, kIgnored).
  //   4. decode (DecodePayload); a scalar is cast by value_type.
  //   5. max_fields and require, on the whole decoded payload.
  //   6. device: the first device_field path holding a string (or a number, written as
  //      JSON); else the template's {device} capture; else "".
  //   7. ts_ms: the first time.field path whose value parses (ParseEventTimeMs) and passes the
  //      window (CheckEventTimeWindow): ts_from_payload = true; else received_ms, and
  //      ts_status says why (for the first path that was present).
  //   8. data: the value at data_field (an object, or a scalar put into value_field), else
  //      the whole decoded payload; then the field operations (FieldOps::Apply).
  //   9. labels: the route's labels, {captures} filled in.
  // kDeadLetter fills `reason`; its prefixes are stable (metrics labels derive from them):
  //   "empty payload", "payload is only whitespace", "payload is not valid UTF-8 (byte 9)",
  //   "invalid JSON at byte 12: ...", "JSON nested deeper than 128 levels",
  //   "invalid line protocol at byte 30: ...", "payload too large: ...",
  //   "validation failed: ..." (see validate.h; also "validation failed: data_field \"x\":
  //   missing"). `out` is then unspecified.
  // kIgnored means the route says to skip the message; nothing is filled.
  // Never throws except std::bad_alloc.
  Outcome Normalize(const Message& msg, Normalized* out, std::string* reason) const;

  size_t route_count() const { return routes_.size(); }

 private:
  // The rule for a message and its index (-1: the default rule).
  const RouteRule& Select(const Message& msg, std::vector<std::string_view>* captures,
                          int* index) const;

  std::vector<RouteRule> routes_;
  RouteRule default_rule_;
};

}  // namespace ferry::agent
