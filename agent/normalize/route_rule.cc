#include "agent/normalize/route_rule.h"

namespace ferry::agent {

RouteRule CompileRoute(const Route& route) {
  RouteRule rule;
  if (auto topic = TopicTemplate::Parse(route.topic); topic.ok()) {
    rule.topic = std::move(topic).value();
  }
  rule.ignore = route.ignore;
  rule.payload = ParsePayloadMode(route.payload).value_or(PayloadMode::kAuto);
  rule.value_field = route.value_field;
  rule.device_capture = rule.topic.CaptureIndex("device");
  rule.device_field = FieldPath(route.device_field);
  rule.time_field = FieldPath(route.time.field);
  rule.time_format = ParseTimeFormat(route.time.format).value_or(TimeFormat::kAuto);
  rule.labels = route.labels;
  return rule;
}

}  // namespace ferry::agent
