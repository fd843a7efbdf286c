// Normalization: one MQTT message in, one record's content out (device id, event time, data),
// or a reason why the message cannot become a record. Pure: no I/O, no clock (the receive
// time comes in with the message). Thread-compatible: const methods may run concurrently.
// config/README.md is the reference of the rule language; this header is the contract.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/config/config.h"
#include "agent/normalize/route_rule.h"
#include "agent/record/dead_letter_reason.h"
#include "agent/sparkplug/sparkplug_state.h"

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
  // Compiles the routes' templates and paths once. A route that does not compile
  // (CompileRoute) is kInvalidArgument naming it ("/routes/2/time/timezone: ..."): the agent
  // reports it and does not start the pipeline, rather than run without the route.
  static platform::Result<Normalizer> Create(const std::vector<Route>& routes);
  // For routes known to compile (tests): as Create, but should one not compile, that is
  // logged at error level and no route applies (every message takes the default rule).
  explicit Normalizer(std::vector<Route> routes);

  // The first route whose topic template and payload_shape match applies; with none, the
  // default rule (payload "auto", value field "value", no device, receive time).
  //
  // Steps, each on what the previous left:
  // A route with match or match_pattern applies only when its conditions hold on the payload
  // decoded by its own steps 2-4 (RouteMatch); a payload it cannot decode does not match.
  //   1. ignore: kIgnored.             2. max_payload.
  //   3. an empty payload: per empty_payload (dead letter, {value_field: null}, kIgnored).
  //   4. decode (DecodePayload); a scalar is cast by value_type; then decode_json
  //      (DecodeJsonAt), then extract (Extractor), then bytes (BinaryFields).
  //   5. max_fields and require, on the whole decoded payload.
  //   5b. explode (Exploder::Split): steps 6-10 run once per element, on the element as the
  //      payload; an empty array gives kIgnored.
  //   6. device: the first `device` template with no missing part (ValueTemplate);
  //      else the first device_field path holding a string (or a number, written as
  //      JSON); else the template's {device} capture; else "".
  //   7. ts_ms: the first time.field path whose value parses (ParseEventTimeMs) and passes the
  //      window (CheckEventTimeWindow): ts_from_payload = true; else received_ms, and
  //      ts_status says why (for the first path that was present).
  //   8. labels: the route's label templates, each rendered on the payload; a label with a
  //      missing part is left out.
  //   9. data: the value at data_field (an object, or a scalar put into value_field), else
  //      the whole decoded payload; then pairs (Pairs::Apply), then the field operations
  //      (FieldOps::Apply), then utc_times (each a time read as time.format and
  //      time.timezone say, rewritten "2026-11-21T10:15:00.000Z"; values that do not parse
  //      or lie before 2000 stay as they are; no upper bound).
  // An explode route's records beyond the first go to `*more` (cleared first); with `more`
  // null, a message that explodes into more than one record is dead-lettered
  // ("explode: this caller takes one record per message"). A dead letter of one element
  // dead-letters the whole message, " (element N)" (N from 0) added to the reason.
  // kDeadLetter fills `reason`: its code (the metric label, dead_letter_reason.h) and text:
  //   kEmptyPayload "empty payload", "payload is only whitespace";
  //   kInvalidUtf8 "payload is not valid UTF-8 (byte 9)";
  //   kInvalidJson "invalid JSON at byte 12: ...", "invalid JSON in \"x\" at byte 3: ...";
  //   kTooDeep "JSON nested deeper than 128 levels"; kTooLarge "payload too large: ...";
  //   kInvalidLineProtocol "invalid line protocol at byte 30: ...";
  //   kValidationFailed "validation failed: ..." (validate.h; data_field, explode, extract,
  //   bytes); kSparkplugUnknownAlias "sparkplug: unknown alias ..."; kInvalidSparkplug
  //   "sparkplug: ..."; kInvalidMessage "explode: this caller takes one record per message".
  //   `out` is then unspecified.
  // kIgnored means the route says to skip the message; nothing is filled.
  // Never throws except std::bad_alloc.
  Outcome Normalize(const Message& msg, Normalized* out, DeadLetterReason* reason,
                    std::vector<Normalized>* more = nullptr) const;

  // For `ferry normalize`: why each route before the one that applies (all of them, when
  // none does) was passed over, one line each: "route 0 (topic \"a/#\"): topic does not
  // match", "... payload_shape does not match", "... match \"model\": \"X\" is not one of
  // A, B", "... match: the payload does not decode: <reason>".
  std::vector<std::string> Explain(const Message& msg) const;

  size_t route_count() const { return routes_.size(); }

  // The Sparkplug metrics table the normalizer learns into and resolves from (see
  // NormalizeSparkplug); each Normalizer starts with an empty one of its own. The agent hands
  // the one it keeps with the queue to every Normalizer it builds, so a reload keeps it.
  void set_sparkplug_state(std::shared_ptr<SparkplugState> state) { sparkplug_ = std::move(state); }
  SparkplugState& sparkplug_state() const { return *sparkplug_; }

 private:
  // Compiles `routes` into routes_; on the first that does not compile, none (kInvalidArgument
  // naming it, "/routes/2/topic: ...").
  platform::Status CompileRoutes(const std::vector<Route>& routes);
  // The rule for a message and its index (-1: the default rule).
  // With conditions (match), a route's payload is decoded to test them; `*is_decoded` then
  // says `*decoded` holds it. `why_not` (if not null) gets a line per route passed over.
  const RouteRule& Select(const Message& msg, std::vector<std::string_view>* captures, int* index,
                          nlohmann::json* decoded, bool* is_decoded,
                          std::vector<std::string>* why_not) const;
  // Steps 2-4 (size, empty payload, decoding, value_type, decode_json, extract, bytes): kRecord
  // when
  // `*data` holds the decoded payload.
  static Outcome Decode(const RouteRule& rule, const Message& msg, std::string_view value_field,
                        nlohmann::json* data, DeadLetterReason* reason);
  // Steps 6-9 on out->data, the payload of one record.
  static bool Finish(const RouteRule& rule, const std::vector<std::string_view>& captures,
                     std::string_view value_field, int64_t received_ms, Normalized* out,
                     DeadLetterReason* reason);
  // Step 5b and steps 6-9 per element.
  static Outcome Explode(const RouteRule& rule, const std::vector<std::string_view>& captures,
                         std::string_view value_field, int64_t received_ms, Normalized* out,
                         std::vector<Normalized>* more, DeadLetterReason* reason);

  // A Sparkplug B message (payload "sparkplug", or "auto" on an spBv1.0 topic): decoded
  // (DecodeSparkplug), BIRTHs learnt and other messages resolved (SparkplugState), and its
  // metrics made records, one per distinct metric timestamp; steps 6-9 run on each
  // (normalizer_sparkplug.cc; config/README.md, "Sparkplug B").
  Outcome NormalizeSparkplug(const RouteRule& rule, const std::vector<std::string_view>& captures,
                             const Message& msg, Normalized* out, std::vector<Normalized>* more,
                             DeadLetterReason* reason) const;

  std::vector<RouteRule> routes_;
  RouteRule default_rule_;
  std::shared_ptr<SparkplugState> sparkplug_ = std::make_shared<SparkplugState>();
};

}  // namespace ferry::agent
