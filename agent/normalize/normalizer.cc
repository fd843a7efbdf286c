#include "agent/normalize/normalizer.h"

#include <utility>

namespace ferry::agent {
namespace {

std::string DeviceFromValue(const nlohmann::json* v) {
  if (v == nullptr) return {};
  if (v->is_string()) return v->get<std::string>();
  if (v->is_number()) return v->dump();
  return {};
}

}  // namespace

Normalizer::Normalizer(std::vector<Route> routes) : default_rule_(CompileRoute(Route{})) {
  routes_.reserve(routes.size());
  for (const Route& route : routes) routes_.push_back(CompileRoute(route));
}

const RouteRule& Normalizer::Select(std::string_view topic,
                                    std::vector<std::string_view>* captures) const {
  for (const RouteRule& rule : routes_) {
    if (rule.topic.Match(topic, captures)) return rule;
  }
  captures->clear();
  return default_rule_;
}

Outcome Normalizer::Normalize(const Message& msg, Normalized* out, std::string* reason) const {
  std::vector<std::string_view> captures;
  const RouteRule& rule = Select(msg.topic, &captures);
  if (rule.ignore) return Outcome::kIgnored;

  if (!DecodePayload(msg.payload, rule.payload, rule.value_field, &out->data, reason)) {
    return Outcome::kDeadLetter;
  }

  if (rule.device_capture >= 0) {
    out->device = std::string(captures[rule.device_capture]);
  } else {
    out->device = DeviceFromValue(rule.device_field.Find(out->data));
  }

  out->ts_ms = msg.received_ms;
  out->ts_from_payload = false;
  if (const nlohmann::json* field = rule.time_field.Find(out->data)) {
    std::optional<int64_t> ts = ParseEventTimeMs(*field, rule.time_format);
    if (ts && InEventTimeWindow(*ts, msg.received_ms)) {
      out->ts_ms = *ts;
      out->ts_from_payload = true;
    }
  }

  out->labels = rule.labels;
  return Outcome::kRecord;
}

}  // namespace ferry::agent
