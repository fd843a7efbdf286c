// Normalizer::NormalizeSparkplug: one Sparkplug B message into records (config/README.md,
// "Sparkplug B").
#include <optional>
#include <utility>

#include "agent/normalize/normalizer.h"
#include "agent/sparkplug/sparkplug_payload.h"
#include "agent/sparkplug/sparkplug_topic.h"

namespace ferry::agent {
namespace {

using nlohmann::json;

// The metrics of one timestamp (nullopt: none given, neither the metric's nor the payload's).
struct TimeGroup {
  std::optional<uint64_t> ts;
  json data = json::object();
};

bool GroupByTime(SparkplugPayload& p, std::vector<TimeGroup>* groups, std::string* reason) {
  for (SparkplugMetric& m : p.metrics) {
    if (m.name.empty()) {
      *reason = "sparkplug: a metric has neither a name nor an alias";
      return false;
    }
    std::optional<uint64_t> ts = m.timestamp ? m.timestamp : p.timestamp;
    TimeGroup* group = nullptr;
    for (TimeGroup& g : *groups) {
      if (g.ts == ts) group = &g;
    }
    if (group == nullptr) group = &groups->emplace_back(TimeGroup{ts});
    group->data[std::move(m.name)] = std::move(m.value);
  }
  if (groups->empty()) groups->push_back(TimeGroup{p.timestamp});
  return true;
}

// The dead letter of a step that fails in one way only: its code (the step wrote the text).
Outcome Failed(DeadLetterCode code, DeadLetterReason* reason) {
  reason->code = code;
  return Outcome::kDeadLetter;
}

std::string Scope(const SparkplugTopic& t) {
  std::string scope = std::string(t.group) + "/" + std::string(t.node);
  if (!t.device.empty()) scope += "/" + std::string(t.device);
  return scope;
}

bool RouteNamesDevice(const RouteRule& rule) {
  return !rule.device_templates.empty() || !rule.device_fields.empty() || rule.device_capture >= 0;
}

// What the message itself says, after the route's steps 6-9 have run on `out`.
void ApplySparkplug(const RouteRule& rule, const SparkplugTopic& t, const std::string& scope,
                    std::optional<uint64_t> ts, int64_t received_ms, Normalized* out) {
  if (!RouteNamesDevice(rule)) out->device = scope;
  if (rule.time_fields.empty() && ts) {
    int64_t ms = static_cast<int64_t>(*ts);
    TimeStatus status = CheckEventTimeWindow(ms, received_ms, rule.time.max_ahead_ms);
    out->ts_status = status;
    if (status == TimeStatus::kPayload) {
      out->ts_ms = ms;
      out->ts_from_payload = true;
    }
  }
  out->labels.emplace("sparkplug_group", std::string(t.group));
  out->labels.emplace("sparkplug_node", std::string(t.node));
  out->labels.emplace("sparkplug_type", std::string(t.type));
}

}  // namespace

Outcome Normalizer::NormalizeSparkplug(const RouteRule& rule,
                                       const std::vector<std::string_view>& captures,
                                       const Message& msg, Normalized* out,
                                       std::vector<Normalized>* more,
                                       DeadLetterReason* reason) const {
  std::string* text = &reason->text;
  if (!rule.validator.CheckSize(msg.payload.size(), text)) {
    return Failed(DeadLetterCode::kTooLarge, reason);
  }
  std::optional<SparkplugTopic> topic = ParseSparkplugTopic(msg.topic);
  if (!topic) {
    *text = "sparkplug: the topic is not spBv1.0/<group>/<type>/<node>[/<device>]";
    return Failed(DeadLetterCode::kInvalidSparkplug, reason);
  }
  SparkplugPayload p;
  if (!DecodeSparkplug(msg.payload, &p, text)) {
    return Failed(DeadLetterCode::kInvalidSparkplug, reason);
  }
  std::string scope = Scope(*topic);
  if (topic->kind == SparkplugKind::kBirth && !sparkplug_->Learn(scope, p.metrics, text)) {
    return Failed(DeadLetterCode::kInvalidSparkplug, reason);  // too many metrics
  }
  if (topic->kind != SparkplugKind::kBirth && !sparkplug_->Resolve(scope, &p.metrics, text)) {
    return Failed(DeadLetterCode::kSparkplugUnknownAlias, reason);  // its only failure
  }
  std::vector<TimeGroup> groups;
  if (!GroupByTime(p, &groups, text)) return Failed(DeadLetterCode::kInvalidSparkplug, reason);
  if (more == nullptr && groups.size() > 1) {
    *reason = {DeadLetterCode::kInvalidMessage,
               "explode: this caller takes one record per message"};
    return Outcome::kDeadLetter;
  }
  if (more != nullptr) more->reserve(groups.size() - 1);
  std::string value_field = rule.value_field.Render(captures);
  for (size_t i = 0; i < groups.size(); ++i) {
    Normalized* target = out;
    if (i > 0) {
      target = &more->emplace_back();
      target->route = out->route;
    }
    json& data = groups[i].data;
    if (p.seq) data["_seq"] = *p.seq;
    if (topic->kind == SparkplugKind::kDeath) data["_state"] = "offline";
    if (topic->kind == SparkplugKind::kBirth) data["_state"] = "online";
    target->data = std::move(data);
    if (!rule.validator.CheckFields(target->data, text)) {
      return Failed(DeadLetterCode::kValidationFailed, reason);
    }
    if (!Finish(rule, captures, value_field, msg.received_ms, target, reason)) {
      return Outcome::kDeadLetter;
    }
    ApplySparkplug(rule, *topic, scope, groups[i].ts, msg.received_ms, target);
  }
  return Outcome::kRecord;
}

}  // namespace ferry::agent
