// The declaration of a route's keys (routes[]), with the checks only routes use. The rest of the
// file's keys are in config_schema.cc.
#include <string>
#include <vector>

#include "agent/config/config_schema.h"
#include "agent/normalize/binary_fields.h"
#include "agent/normalize/event_time.h"
#include "agent/normalize/explode.h"
#include "agent/normalize/extract.h"
#include "agent/normalize/field_ops.h"
#include "agent/normalize/pairs.h"
#include "agent/normalize/route_match.h"
#include "agent/normalize/topic_template.h"
#include "agent/normalize/validate.h"
#include "agent/normalize/value_template.h"
#include "platform/timezone.h"

namespace ferry::agent::schema {
namespace {

using nlohmann::json;
using T = KeyType;

std::string CheckTopicTemplate(const Value& v) {
  platform::Result<TopicTemplate> parsed = TopicTemplate::Parse(v.text);
  return parsed.ok() ? "" : parsed.status().message();
}

// A dotted payload path ("params.ts"): no empty step.
std::string CheckFieldPath(const Value& v) {
  const std::string& t = v.text;
  if (t.empty()) return "";
  if (t.front() == '.' || t.back() == '.' || t.find("..") != std::string::npos) {
    return "must be a dotted path like \"params.ts\" without empty steps";
  }
  return "";
}

// Comma-separated payload paths ("Epoch, Time"): each without empty steps.
std::string CheckPathList(const Value& v) {
  for (const FieldPath& p : ParsePathList(v.text)) {
    if (std::string e = CheckPathText(p.text()); !e.empty()) return e;
  }
  return "";
}

std::string CheckTimezone(const Value& v) {
  if (v.text.empty()) return "";
  platform::Result<platform::TimeZone> zone = platform::TimeZone::Find(v.text);
  return zone.ok() ? ""
                   : "unknown IANA time zone (like \"Europe/Berlin\"): " + zone.status().message();
}

// The normalizer's own checks, one key at a time.
template <std::map<std::string, std::string> FieldOpsSpec::*kMember>
std::string CheckFieldOpsMap(const Value& v) {
  FieldOpsSpec spec;
  spec.*kMember = v.map;
  return CheckFieldOps(spec);
}

std::string CheckNullValues(const Value& v) {
  return CheckFieldOpsMap<&FieldOpsSpec::null_values>(v);
}
std::string CheckRename(const Value& v) { return CheckFieldOpsMap<&FieldOpsSpec::rename>(v); }
std::string CheckCast(const Value& v) { return CheckFieldOpsMap<&FieldOpsSpec::cast>(v); }
std::string CheckScale(const Value& v) { return CheckFieldOpsMap<&FieldOpsSpec::scale>(v); }
std::string CheckOffset(const Value& v) { return CheckFieldOpsMap<&FieldOpsSpec::offset>(v); }

std::string CheckTemplateList(const Value& v) {
  for (const FieldPath& item : ParsePathList(v.text)) {
    if (std::string e = CheckValueTemplate(item.text()); !e.empty()) return e;
  }
  return "";
}

std::string CheckRouteLabels(const Value& v) {
  if (std::string e = CheckLabelNames(v); !e.empty()) return e;
  for (const auto& [name, value] : v.map) {
    if (std::string e = CheckValueTemplate(value); !e.empty()) return "\"" + name + "\": " + e;
  }
  return "";
}

std::string CheckCarry(const Value& v) {
  ExplodeSpec spec;
  spec.path = "x";  // the path is checked by its own key
  spec.carry = v.map;
  return CheckExplode(spec);
}

std::string CheckMatch(const Value& v) { return CheckMatchValues(v.map); }
std::string CheckMatchPattern(const Value& v) { return CheckMatchPatterns(v.map); }
std::string CheckExtractMap(const Value& v) { return CheckExtract(v.map); }

std::string CheckBytesFields(const Value& v) {
  BytesSpec spec;
  spec.path = "x";  // the path is checked by its own key
  spec.fields = v.map;
  std::string e = CheckBytes(spec);
  return e.starts_with("fields ") ? e.substr(7) : e;
}

std::string CheckRequire(const Value& v) {
  ValidationSpec spec;
  spec.require = v.map;
  return CheckValidation(spec);
}

std::string CheckTransformName(const Value& v) {
  if (v.text.empty()) return "";
  for (char c : v.text) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.';
    if (!ok) return "may hold only letters, digits, '_', '-' and '.'";
  }
  return "";
}
}  // namespace

// clang-format off
template <>
const std::vector<KeyDecl<Route>>& KeysOf<Route>() {
  auto key = Key<Route>;
  static const auto* keys = new std::vector<KeyDecl<Route>>{
    key("/topic", T::kString, "Topic template: \"zigbee2mqtt/{device}\"; '+' and '#' allowed")
        .Required().Min(1).Check(CheckTopicTemplate).Bind(FERRY_FIELD(topic)),
    key("/payload_shape", T::kEnum, "Apply only to payloads starting with '{' (object), '[' "
        "(array) or anything else (scalar, also empty)")
        .Default("any").OneOf(AllowedNames<PayloadShape>()).Bind(FERRY_FIELD(payload_shape)),
    key("/ignore", T::kBool, "Drop matching messages (counted, not stored)")
        .Default(false).Bind(FERRY_FIELD(ignore)),
    key("/payload", T::kEnum, "How to read the payload")
        .Default("auto").OneOf(AllowedNames<PayloadMode>()).Bind(FERRY_FIELD(payload)),
    key("/empty_payload", T::kEnum, "A zero-length payload is dead-lettered, a null value, or "
        "ignored")
        .Default("dead_letter").OneOf(AllowedNames<EmptyPayload>())
        .Bind(FERRY_FIELD(empty_payload)),
    key("/value_field", T::kString, "Field name for a scalar or plain-text payload; may use "
        "{captures}")
        .Default("value").Min(1).Bind(FERRY_FIELD(value_field)),
    key("/value_type", T::kEnum, "Cast of a scalar or plain-text payload")
        .Default("auto").OneOf(AllowedNames<ValueType>()).Bind(FERRY_FIELD(value_type)),
    key("/device_field", T::kString, "Payload paths holding the device id, comma-separated; "
        "else the {device} capture")
        .Default("").Check(CheckPathList).Bind(FERRY_FIELD(device_field)),
    key("/time/field", T::kString, "Payload paths holding the event time, comma-separated; the "
        "first believable wins; empty: receive time")
        .Default("").Check(CheckPathList).Bind(FERRY_FIELD(time.field)),
    key("/time/format", T::kEnum, "How the event time is written")
        .Default("auto").OneOf(AllowedNames<TimeFormat>())
        .Bind(FERRY_FIELD(time.format)),
    key("/time/timezone", T::kString, "IANA time zone of local times written without an offset; "
        "empty: such times are not believed")
        .Default("").Check(CheckTimezone).Bind(FERRY_FIELD(time.timezone)),
    key("/time/max_ahead", T::kDuration, "An event time further ahead of the receive time is "
        "not believed")
        .Default("1d").Range(0, 365 * kDay).Bind(FERRY_FIELD(time.max_ahead_ms)),
    key("/data_field", T::kString, "Payload path whose value becomes the data; empty: the "
        "whole payload")
        .Default("").Check(CheckFieldPath).Bind(FERRY_FIELD(data_field)),
    key("/null_values", T::kStringMap, "Sentinels that become null: {\"TempC_DS\": \"327.67\"}; "
        "path \"*\": every value")
        .Default(json::object()).Check(CheckNullValues).Bind(FERRY_FIELD(null_values)),
    key("/keep", T::kString, "Keep only these data paths, comma-separated; empty: all")
        .Default("").Check(CheckPathList).Bind(FERRY_FIELD(keep)),
    key("/drop", T::kString, "Remove these data paths, comma-separated")
        .Default("").Check(CheckPathList).Bind(FERRY_FIELD(drop)),
    key("/rename", T::kStringMap, "Move values to new paths: {\"ENERGY.Total\": \"energy\"}")
        .Default(json::object()).Check(CheckRename).Bind(FERRY_FIELD(rename)),
    key("/cast", T::kStringMap, "Convert values: {\"battery\": \"float\"}; int, float, bool, "
        "string; what does not convert becomes null")
        .Default(json::object()).Check(CheckCast).Bind(FERRY_FIELD(cast)),
    key("/scale", T::kStringMap, "Multiply numbers: {\"energy\": \"1/60\"}")
        .Default(json::object()).Check(CheckScale).Bind(FERRY_FIELD(scale)),
    key("/offset", T::kStringMap, "Add to numbers after scaling: {\"temp\": \"-273.15\"}")
        .Default(json::object()).Check(CheckOffset).Bind(FERRY_FIELD(offset)),
    key("/flatten", T::kString, "Join nested object keys with this separator; empty: keep "
        "nesting")
        .Default("").Range(0, 8).Bind(FERRY_FIELD(flatten)),
    key("/labels", T::kStringMap, "Labels added to the records of this route; may use "
        "{captures}")
        .Default(json::object()).Check(CheckRouteLabels).Bind(FERRY_FIELD(labels)),
    key("/require", T::kStringMap, "Fields that must be present: {\"temperature\": "
        "\"number -40..125\"}; else dead-lettered")
        .Default(json::object()).Check(CheckRequire).Bind(FERRY_FIELD(require)),
    key("/max_payload", T::kSize, "Larger payloads are dead-lettered; 0: only mqtt.max_payload")
        .Default("0").Bind(FERRY_FIELD(max_payload)),
    key("/max_depth", T::kInt, "Deeper nested JSON is dead-lettered; 0: 128")
        .Default(0).Range(0, 128).Bind(FERRY_FIELD(max_depth)),
    key("/max_fields", T::kInt, "Payloads with more fields (at all depths) are dead-lettered; "
        "0: no limit")
        .Default(0).Range(0, 1'000'000).Bind(FERRY_FIELD(max_fields)),
    key("/device", T::kString, "Template of the device id over topic captures and payload "
        "paths, comma-separated; the first without a missing part wins: \"{.model}-{.channel}-"
        "{.id}, {.model}-{.id}\"")
        .Default("").Check(CheckTemplateList).Bind(FERRY_FIELD(device)),
    key("/decode_json", T::kString, "Payload paths of strings holding JSON, decoded in place, "
        "comma-separated")
        .Default("").Check(CheckPathList).Bind(FERRY_FIELD(decode_json)),
    key("/explode/path", T::kString, "Payload path of an array: one record per element")
        .Default("").Check(CheckFieldPath).Bind(FERRY_FIELD(explode.path)),
    key("/explode/carry", T::kStringMap, "Enclosing payload values copied into each element: "
        "{\"gateway\": \"gw_id\"}")
        .Default(json::object()).Check(CheckCarry).Bind(FERRY_FIELD(explode.carry)),
    key("/pairs/path", T::kString, "Data path of an array of name/value pairs that become "
        "fields")
        .Default("").Check(CheckFieldPath).Bind(FERRY_FIELD(pairs.path)),
    key("/pairs/name", T::kString, "Paths in a pair holding its name, comma-separated")
        .Default("name").Min(1).Check(CheckPathList).Bind(FERRY_FIELD(pairs.name)),
    key("/pairs/value", T::kString, "Paths in a pair holding its value, comma-separated")
        .Default("value").Min(1).Check(CheckPathList).Bind(FERRY_FIELD(pairs.value)),
    key("/pairs/type", T::kString, "Path in a pair holding a type name (\"Float32\", "
        "\"Int64\", \"Bool\"); empty: none")
        .Default("").Check(CheckFieldPath).Bind(FERRY_FIELD(pairs.type)),
    key("/pairs/value_type", T::kEnum, "Type of the values without a known type name")
        .Default("auto").OneOf(AllowedNames<PairsValueType>()).Bind(FERRY_FIELD(pairs.value_type)),
    key("/match", T::kStringMap, "Apply only when these payload values are one of the listed: "
        "{\"model\": \"Acurite-Tower, Acurite-986\"}")
        .Default(json::object()).Check(CheckMatch).Bind(FERRY_FIELD(match)),
    key("/match_pattern", T::kStringMap, "Apply only when these payload values match an RE2 "
        "pattern: {\"model\": \"^Fineoffset-\"}")
        .Default(json::object()).Check(CheckMatchPattern).Bind(FERRY_FIELD(match_pattern)),
    key("/extract", T::kStringMap, "RE2 patterns whose named groups become fields: "
        "{\"value\": \"T=(?P<temp_c>[0-9.]+)\"}")
        .Default(json::object()).Check(CheckExtractMap).Bind(FERRY_FIELD(extract)),
    key("/scale_first", T::kBool, "Apply scale and offset before rename and cast, so that a "
        "unit conversion can merge differently named fields")
        .Default(false).Bind(FERRY_FIELD(scale_first)),
    key("/utc_times", T::kString, "Data paths of times rewritten as UTC RFC 3339 strings, read "
        "by time.format and time.timezone, comma-separated")
        .Default("").Check(CheckPathList).Bind(FERRY_FIELD(utc_times)),
    key("/bytes/path", T::kString, "Payload path of a base64 or hex string holding a binary "
        "frame")
        .Default("").Check(CheckFieldPath).Bind(FERRY_FIELD(bytes.path)),
    key("/bytes/encoding", T::kEnum, "How the frame is written in the string")
        .Default("base64").OneOf(AllowedNames<BytesEncoding>()).Bind(FERRY_FIELD(bytes.encoding)),
    key("/bytes/fields", T::kStringMap, "Fields read from the frame: {\"temp_c\": \"s16be 2 "
        "1/10\"}: type (u8, s16le, u32be, ...), byte offset, optional scale")
        .Default(json::object()).Check(CheckBytesFields).Bind(FERRY_FIELD(bytes.fields)),
    key("/transform", T::kString, "Name of a transform (top-level transforms) that gets this "
        "route's records and the message, and returns the records to store")
        .Default("").Check(CheckTransformName).Bind(FERRY_FIELD(transform)),
  };
  return *keys;
}
// clang-format on

}  // namespace ferry::agent::schema
