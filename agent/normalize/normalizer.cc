#include "agent/normalize/normalizer.h"

#include <utility>

namespace ferry::agent {
namespace {

using nlohmann::json;

bool ShapeMatches(PayloadShape want, std::string_view payload) {
  return want == PayloadShape::kAny || want == ShapeOf(payload);
}

// A device id from a payload value: a string as is, a number as JSON writes it.
bool DeviceFromValue(const json* v, std::string* device) {
  if (v == nullptr) return false;
  if (v->is_string()) {
    *device = v->get_ref<const std::string&>();
    return true;
  }
  if (v->is_number()) {
    *device = v->dump();
    return true;
  }
  return false;
}

void FindDevice(const RouteRule& rule, const json& payload,
                const std::vector<std::string_view>& captures, std::string* device) {
  for (const FieldPath& path : rule.device_fields) {
    if (DeviceFromValue(path.Find(payload), device)) return;
  }
  if (rule.device_capture >= 0) {
    *device = std::string(captures[rule.device_capture]);
  } else {
    device->clear();
  }
}

void FindEventTime(const RouteRule& rule, const json& payload, int64_t received_ms,
                   Normalized* out) {
  out->ts_ms = received_ms;
  out->ts_from_payload = false;
  out->ts_status = TimeStatus::kMissing;
  for (const FieldPath& path : rule.time_fields) {
    const json* v = path.Find(payload);
    if (v == nullptr || v->is_null()) continue;
    TimeStatus status = TimeStatus::kUnparsable;
    std::optional<int64_t> ts = ParseEventTimeMs(*v, rule.time, received_ms, &status);
    if (ts) status = CheckEventTimeWindow(*ts, received_ms, rule.time.max_ahead_ms);
    if (status == TimeStatus::kPayload) {
      out->ts_ms = *ts;
      out->ts_from_payload = true;
      out->ts_status = status;
      return;
    }
    if (out->ts_status == TimeStatus::kMissing) out->ts_status = status;
  }
}

// Step 8's first half: the data is the value at data_field.
bool SelectData(const RouteRule& rule, std::string_view value_field, json* data,
                std::string* reason) {
  json* v = rule.data_field.Find(*data);
  if (v == nullptr) {
    *reason = "validation failed: data_field \"" + rule.data_field.text() + "\": missing";
    return false;
  }
  json selected = std::move(*v);
  if (selected.is_object()) {
    *data = std::move(selected);
  } else {
    *data = json::object();
    (*data)[std::string(value_field)] = std::move(selected);
  }
  return true;
}

void FillLabels(const RouteRule& rule, const std::vector<std::string_view>& captures,
                std::map<std::string, std::string>* labels) {
  if (!rule.labels_use_captures) {
    *labels = rule.static_labels;
    return;
  }
  labels->clear();
  for (const auto& [name, text] : rule.labels) labels->emplace(name, text.Render(captures));
}

}  // namespace

Normalizer::Normalizer(std::vector<Route> routes) : default_rule_(CompileRoute(Route{})) {
  routes_.reserve(routes.size());
  for (const Route& route : routes) routes_.push_back(CompileRoute(route));
}

const RouteRule& Normalizer::Select(const Message& msg, std::vector<std::string_view>* captures,
                                    int* index) const {
  size_t levels = TopicTemplate::CountLevels(msg.topic);
  for (size_t i = 0; i < routes_.size(); ++i) {
    const RouteRule& rule = routes_[i];
    if (rule.topic.Match(msg.topic, levels, captures) && ShapeMatches(rule.shape, msg.payload)) {
      *index = static_cast<int>(i);
      return rule;
    }
  }
  captures->clear();
  *index = -1;
  return default_rule_;
}

Outcome Normalizer::Normalize(const Message& msg, Normalized* out, std::string* reason) const {
  std::vector<std::string_view> captures;
  const RouteRule& rule = Select(msg, &captures, &out->route);
  if (rule.ignore) return Outcome::kIgnored;
  if (!rule.validator.CheckSize(msg.payload.size(), reason)) return Outcome::kDeadLetter;
  if (msg.payload.empty() && rule.empty == EmptyPayload::kIgnore) return Outcome::kIgnored;

  std::string value_field = rule.value_field.Render(captures);
  bool wrapped = false;
  if (msg.payload.empty() && rule.empty == EmptyPayload::kNull) {
    out->data = json::object();
    out->data[value_field] = nullptr;
  } else if (!DecodePayload(msg.payload, {rule.payload, value_field, rule.validator.max_depth()},
                            &out->data, &wrapped, reason)) {
    return Outcome::kDeadLetter;
  }
  if (wrapped && rule.value_type) {
    json& v = out->data[value_field];
    v = CastValue(v, *rule.value_type);
  }
  if (!rule.validator.CheckFields(out->data, reason)) return Outcome::kDeadLetter;

  FindDevice(rule, out->data, captures, &out->device);
  FindEventTime(rule, out->data, msg.received_ms, out);
  if (!rule.data_field.empty() && !SelectData(rule, value_field, &out->data, reason)) {
    return Outcome::kDeadLetter;
  }
  rule.ops.Apply(&out->data);
  FillLabels(rule, captures, &out->labels);
  return Outcome::kRecord;
}

}  // namespace ferry::agent
