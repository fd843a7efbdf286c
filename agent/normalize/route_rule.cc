#include "agent/normalize/route_rule.h"

namespace ferry::agent {
namespace {

void CompileLabels(const Route& route, RouteRule* rule) {
  rule->static_labels = route.labels;
  for (const auto& [name, value] : route.labels) {
    ValueTemplate text(value, rule->topic);
    rule->labels_use_captures = rule->labels_use_captures || !text.is_static();
    rule->labels.emplace_back(name, std::move(text));
  }
}

}  // namespace

PayloadShape ShapeOf(std::string_view payload) {
  size_t i = payload.find_first_not_of(" \t\r\n");
  if (i == std::string_view::npos) return PayloadShape::kScalar;
  if (payload[i] == '{') return PayloadShape::kObject;
  if (payload[i] == '[') return PayloadShape::kArray;
  return PayloadShape::kScalar;
}

platform::Result<RouteRule> CompileRoute(const Route& route) {
  RouteRule rule;
  platform::Result<TopicTemplate> topic = TopicTemplate::Parse(route.topic);
  if (!topic.ok()) return platform::Status::InvalidArgument("topic: " + topic.status().message());
  rule.topic = std::move(topic).value();
  rule.shape = route.payload_shape;
  rule.ignore = route.ignore;
  rule.payload = route.payload;
  rule.empty = route.empty_payload;
  rule.value_field = CaptureText(route.value_field, rule.topic);
  rule.value_type = CastOf(route.value_type);
  rule.device_capture = rule.topic.CaptureIndex("device");
  rule.device_fields = ParsePathList(route.device_field);
  rule.time_fields = ParsePathList(route.time.field);
  rule.time.format = route.time.format;
  if (!route.time.timezone.empty()) {
    platform::Result<platform::TimeZone> zone = platform::TimeZone::Find(route.time.timezone);
    if (!zone.ok()) {
      return platform::Status::InvalidArgument("time/timezone: " + zone.status().message());
    }
    rule.time.zone = *zone;
  }
  rule.time.max_ahead_ms = route.time.max_ahead_ms;
  rule.data_field = FieldPath(route.data_field);
  rule.ops =
      FieldOps(FieldOpsSpec{route.null_values, route.keep, route.drop, route.rename, route.cast,
                            route.scale, route.offset, route.flatten, route.scale_first});
  CompileLabels(route, &rule);
  rule.device_templates = ParseTemplateList(route.device, rule.topic);
  rule.decode_json = ParsePathList(route.decode_json);
  rule.explode = Exploder(ExplodeSpec{route.explode.path, route.explode.carry});
  rule.pairs = Pairs(PairsSpec{route.pairs.path, route.pairs.name, route.pairs.value,
                               route.pairs.type, route.pairs.value_type});
  rule.match = RouteMatch(route.match, route.match_pattern);
  rule.extract = Extractor(route.extract);
  rule.utc_times = ParsePathList(route.utc_times);
  rule.bytes = BinaryFields(BytesSpec{route.bytes.path, route.bytes.encoding, route.bytes.fields});
  rule.validator = Validator(
      ValidationSpec{route.require, route.max_payload, route.max_depth, route.max_fields});
  return rule;
}

}  // namespace ferry::agent
