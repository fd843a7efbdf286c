#include "agent/normalize/normalizer.h"

#include <utility>

#include "agent/sparkplug/sparkplug_topic.h"
#include "platform/log.h"

namespace ferry::agent {
namespace {

using nlohmann::json;

// The dead letter of a step that fails in one way only: its code (the step wrote the text).
Outcome Failed(DeadLetterCode code, DeadLetterReason* reason) {
  reason->code = code;
  return Outcome::kDeadLetter;
}

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
  for (const ValueTemplate& t : rule.device_templates) {
    if (std::optional<std::string> id = t.Render(captures, payload)) {
      *device = std::move(*id);
      return;
    }
  }
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
                const json& payload, std::map<std::string, std::string>* labels) {
  if (!rule.labels_use_captures) {
    *labels = rule.static_labels;
    return;
  }
  labels->clear();
  for (const auto& [name, text] : rule.labels) {
    if (std::optional<std::string> value = text.Render(captures, payload)) {
      labels->emplace(name, std::move(*value));
    }
  }
}

// utc_times: times in the data as UTC RFC 3339 strings; what does not parse, and times before
// 2000 (a clock never set), stay as they are.
void TimesToUtc(const RouteRule& rule, int64_t received_ms, json* data) {
  for (const FieldPath& path : rule.utc_times) {
    json* v = path.Find(*data);
    if (v == nullptr || v->is_null()) continue;
    TimeStatus why = TimeStatus::kUnparsable;
    std::optional<int64_t> ms = ParseEventTimeMs(*v, rule.time, received_ms, &why);
    if (ms && *ms >= kMinEventTimeMs) *v = platform::FormatRfc3339Millis(*ms);
  }
}

}  // namespace

platform::Result<Normalizer> Normalizer::Create(const std::vector<Route>& routes) {
  Normalizer n(std::vector<Route>{});
  platform::Status st = n.CompileRoutes(routes);
  if (!st.ok()) return st;
  return n;
}

Normalizer::Normalizer(std::vector<Route> routes) {
  Route any;  // the defaults under a template that compiles; the default rule matches by itself
  any.topic = "#";
  default_rule_ = std::move(CompileRoute(any)).value();
  default_rule_.topic = TopicTemplate();
  platform::Status st = CompileRoutes(routes);
  if (!st.ok()) platform::LogError("normalize", st.message() + ": no route applies");
}

platform::Status Normalizer::CompileRoutes(const std::vector<Route>& routes) {
  routes_.clear();
  routes_.reserve(routes.size());
  for (size_t i = 0; i < routes.size(); ++i) {
    platform::Result<RouteRule> rule = CompileRoute(routes[i]);
    if (!rule.ok()) {
      routes_.clear();
      return platform::Status::InvalidArgument("/routes/" + std::to_string(i) + "/" +
                                               rule.status().message());
    }
    routes_.push_back(std::move(rule).value());
  }
  return platform::Status::Ok();
}

const RouteRule& Normalizer::Select(const Message& msg, std::vector<std::string_view>* captures,
                                    int* index, json* decoded, bool* is_decoded,
                                    std::vector<std::string>* why_not) const {
  size_t levels = TopicTemplate::CountLevels(msg.topic);
  *is_decoded = false;
  for (size_t i = 0; i < routes_.size(); ++i) {
    const RouteRule& rule = routes_[i];
    std::string_view why;   // "": the route applies (a view: most routes pass without a copy)
    std::string why_match;  // why the match conditions do not hold
    if (!rule.topic.Match(msg.topic, levels, captures)) {
      why = "topic does not match";
    } else if (!ShapeMatches(rule.shape, msg.payload)) {
      why = "payload_shape does not match";
    } else if (!rule.match.empty()) {
      DeadLetterReason reason;
      Outcome o = Decode(rule, msg, rule.value_field.Render(*captures), decoded, &reason);
      if (o == Outcome::kRecord && rule.match.Matches(*decoded, &why_match)) *is_decoded = true;
      if (o == Outcome::kIgnored) {
        why_match = "match: the payload is empty and empty_payload is ignore";
      }
      if (o == Outcome::kDeadLetter) {
        why_match = "match: the payload does not decode: " + reason.text;
      }
      why = why_match;
    }
    if (why.empty()) {
      *index = static_cast<int>(i);
      return rule;
    }
    if (why_not != nullptr) {
      why_not->push_back("route " + std::to_string(i) + " (topic \"" + rule.topic.text() +
                         "\"): " + std::string(why));
    }
  }
  captures->clear();
  *index = -1;
  *is_decoded = false;
  return default_rule_;
}

std::vector<std::string> Normalizer::Explain(const Message& msg) const {
  std::vector<std::string> why_not;
  std::vector<std::string_view> captures;
  json decoded;
  bool is_decoded = false;
  int index = -1;
  Select(msg, &captures, &index, &decoded, &is_decoded, &why_not);
  return why_not;
}

Outcome Normalizer::Decode(const RouteRule& rule, const Message& msg, std::string_view value_field,
                           json* data, DeadLetterReason* reason) {
  if (!rule.validator.CheckSize(msg.payload.size(), &reason->text)) {
    return Failed(DeadLetterCode::kTooLarge, reason);
  }
  if (msg.payload.empty() && rule.empty == EmptyPayload::kIgnore) return Outcome::kIgnored;
  bool wrapped = false;
  if (msg.payload.empty() && rule.empty == EmptyPayload::kNull) {
    *data = json::object();
    (*data)[std::string(value_field)] = nullptr;
  } else if (!DecodePayload(msg.payload, {rule.payload, value_field, rule.validator.max_depth()},
                            data, &wrapped, reason)) {
    return Outcome::kDeadLetter;
  }
  if (wrapped && rule.value_type) {
    json& v = (*data)[std::string(value_field)];
    v = CastValue(v, *rule.value_type);
  }
  if (!rule.decode_json.empty() &&
      !DecodeJsonAt(rule.decode_json, rule.validator.max_depth(), data, reason)) {
    return Outcome::kDeadLetter;
  }
  if (!rule.extract.empty() && !rule.extract.Apply(data, &reason->text)) {
    return Failed(DeadLetterCode::kValidationFailed, reason);
  }
  if (rule.bytes.enabled() && !rule.bytes.Apply(data, &reason->text)) {
    return Failed(DeadLetterCode::kValidationFailed, reason);
  }
  return Outcome::kRecord;
}

bool Normalizer::Finish(const RouteRule& rule, const std::vector<std::string_view>& captures,
                        std::string_view value_field, int64_t received_ms, Normalized* out,
                        DeadLetterReason* reason) {
  FindDevice(rule, out->data, captures, &out->device);
  FindEventTime(rule, out->data, received_ms, out);
  FillLabels(rule, captures, out->data, &out->labels);
  if (!rule.data_field.empty() && !SelectData(rule, value_field, &out->data, &reason->text)) {
    reason->code = DeadLetterCode::kValidationFailed;
    return false;
  }
  rule.pairs.Apply(&out->data);
  rule.ops.Apply(&out->data);
  if (!rule.utc_times.empty()) TimesToUtc(rule, received_ms, &out->data);
  return true;
}

Outcome Normalizer::Explode(const RouteRule& rule, const std::vector<std::string_view>& captures,
                            std::string_view value_field, int64_t received_ms, Normalized* out,
                            std::vector<Normalized>* more, DeadLetterReason* reason) {
  std::vector<json> elements;
  if (!rule.explode.Split(&out->data, value_field, &elements, &reason->text)) {
    return Failed(DeadLetterCode::kValidationFailed, reason);
  }
  if (elements.empty()) return Outcome::kIgnored;
  if (more == nullptr && elements.size() > 1) {
    *reason = {DeadLetterCode::kInvalidMessage,
               "explode: this caller takes one record per message"};
    return Outcome::kDeadLetter;
  }
  if (more != nullptr) more->reserve(elements.size() - 1);
  for (size_t i = 0; i < elements.size(); ++i) {
    Normalized* target = out;
    if (i > 0) {
      target = &more->emplace_back();
      target->route = out->route;
    }
    target->data = std::move(elements[i]);
    if (!Finish(rule, captures, value_field, received_ms, target, reason)) {
      reason->text += " (element " + std::to_string(i) + ")";
      return Outcome::kDeadLetter;
    }
  }
  return Outcome::kRecord;
}

Outcome Normalizer::Normalize(const Message& msg, Normalized* out, DeadLetterReason* reason,
                              std::vector<Normalized>* more) const {
  if (more != nullptr) more->clear();
  std::vector<std::string_view> captures;
  bool decoded = false;
  const RouteRule& rule = Select(msg, &captures, &out->route, &out->data, &decoded, nullptr);
  if (rule.ignore) return Outcome::kIgnored;
  if (rule.payload == PayloadMode::kSparkplug ||
      (rule.payload == PayloadMode::kAuto && IsSparkplugTopic(msg.topic))) {
    return NormalizeSparkplug(rule, captures, msg, out, more, reason);
  }
  std::string value_field = rule.value_field.Render(captures);
  if (!decoded) {
    Outcome o = Decode(rule, msg, value_field, &out->data, reason);
    if (o != Outcome::kRecord) return o;
  }
  if (!rule.validator.CheckFields(out->data, &reason->text)) {
    return Failed(DeadLetterCode::kValidationFailed, reason);
  }
  if (rule.explode.enabled()) {
    return Explode(rule, captures, value_field, msg.received_ms, out, more, reason);
  }
  return Finish(rule, captures, value_field, msg.received_ms, out, reason) ? Outcome::kRecord
                                                                           : Outcome::kDeadLetter;
}

}  // namespace ferry::agent
