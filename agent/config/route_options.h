// The settings of a route with a fixed set of values (config.h, Route), as enums with their
// tables of names (enum_names.h). Here and not in agent/normalize/ so that the config can hold
// them typed without including the normalizer; the normalizer uses these same types.
#pragma once

#include <optional>
#include <span>

#include "agent/config/enum_names.h"

namespace ferry::agent {

// payload_shape: which payloads a route applies to, by their first byte that is not white space.
enum class PayloadShape { kAny, kObject, kArray, kScalar };
// empty_payload: what a zero-length payload becomes.
enum class EmptyPayload { kDeadLetter, kNull, kIgnore };
// payload: how the payload is read.
enum class PayloadMode {
  kAuto,    // JSON if it parses; broken JSON (starts with '{' or '[') dead-letters; else text
  kJson,    // must be JSON
  kText,    // plain text, never parsed as JSON
  kInflux,  // InfluxDB line protocol (see agent/normalize/line_protocol.h)
  // Sparkplug B protobuf (agent/sparkplug/): decoded by the Normalizer itself, not by
  // DecodePayload, which refuses it ("sparkplug: match conditions cannot test a Sparkplug
  // payload"). A route with "auto" on an spBv1.0 topic decodes Sparkplug too.
  kSparkplug,
};
// time.format: how the event time is written.
enum class TimeFormat { kAuto, kRfc3339, kEpochS, kEpochMs, kEpochUs, kEpochNs };
// The types values are converted to (cast, value_type).
enum class CastType { kInt, kFloat, kBool, kString };
// value_type: the cast of a scalar payload, or none (auto).
enum class ValueType { kAuto, kInt, kFloat, kBool, kString };
// pairs.value_type: how the values of pairs without a known type name are typed (pairs.h).
enum class PairsValueType { kAuto, kText, kInt, kFloat, kBool, kString };
// bytes.encoding: how a binary frame is written in its string (binary_fields.h).
enum class BytesEncoding { kBase64, kHex };

inline constexpr EnumName<PayloadShape> kPayloadShapeNames[] = {{"any", PayloadShape::kAny},
                                                                {"object", PayloadShape::kObject},
                                                                {"array", PayloadShape::kArray},
                                                                {"scalar", PayloadShape::kScalar}};
inline constexpr EnumName<EmptyPayload> kEmptyPayloadNames[] = {
    {"dead_letter", EmptyPayload::kDeadLetter},
    {"null", EmptyPayload::kNull},
    {"ignore", EmptyPayload::kIgnore}};
inline constexpr EnumName<PayloadMode> kPayloadModeNames[] = {
    {"auto", PayloadMode::kAuto},
    {"json", PayloadMode::kJson},
    {"text", PayloadMode::kText},
    {"influx", PayloadMode::kInflux},
    {"sparkplug", PayloadMode::kSparkplug}};
inline constexpr EnumName<TimeFormat> kTimeFormatNames[] = {
    {"auto", TimeFormat::kAuto},        {"rfc3339", TimeFormat::kRfc3339},
    {"epoch_s", TimeFormat::kEpochS},   {"epoch_ms", TimeFormat::kEpochMs},
    {"epoch_us", TimeFormat::kEpochUs}, {"epoch_ns", TimeFormat::kEpochNs}};
inline constexpr EnumName<CastType> kCastTypeNames[] = {{"int", CastType::kInt},
                                                        {"float", CastType::kFloat},
                                                        {"bool", CastType::kBool},
                                                        {"string", CastType::kString}};
inline constexpr EnumName<ValueType> kValueTypeNames[] = {{"auto", ValueType::kAuto},
                                                          {"int", ValueType::kInt},
                                                          {"float", ValueType::kFloat},
                                                          {"bool", ValueType::kBool},
                                                          {"string", ValueType::kString}};

inline constexpr EnumName<PairsValueType> kPairsValueTypeNames[] = {
    {"auto", PairsValueType::kAuto}, {"text", PairsValueType::kText},
    {"int", PairsValueType::kInt},   {"float", PairsValueType::kFloat},
    {"bool", PairsValueType::kBool}, {"string", PairsValueType::kString}};
inline constexpr EnumName<BytesEncoding> kBytesEncodingNames[] = {
    {"base64", BytesEncoding::kBase64}, {"hex", BytesEncoding::kHex}};

constexpr std::span<const EnumName<PayloadShape>> NamesOf(PayloadShape) {
  return kPayloadShapeNames;
}
constexpr std::span<const EnumName<EmptyPayload>> NamesOf(EmptyPayload) {
  return kEmptyPayloadNames;
}
constexpr std::span<const EnumName<PayloadMode>> NamesOf(PayloadMode) { return kPayloadModeNames; }
constexpr std::span<const EnumName<TimeFormat>> NamesOf(TimeFormat) { return kTimeFormatNames; }
constexpr std::span<const EnumName<CastType>> NamesOf(CastType) { return kCastTypeNames; }
constexpr std::span<const EnumName<ValueType>> NamesOf(ValueType) { return kValueTypeNames; }
constexpr std::span<const EnumName<PairsValueType>> NamesOf(PairsValueType) {
  return kPairsValueTypeNames;
}
constexpr std::span<const EnumName<BytesEncoding>> NamesOf(BytesEncoding) {
  return kBytesEncodingNames;
}

// The cast value_type asks for; nullopt for auto.
constexpr std::optional<CastType> CastOf(ValueType type) {
  switch (type) {
    case ValueType::kInt:
      return CastType::kInt;
    case ValueType::kFloat:
      return CastType::kFloat;
    case ValueType::kBool:
      return CastType::kBool;
    case ValueType::kString:
      return CastType::kString;
    case ValueType::kAuto:
      break;
  }
  return std::nullopt;
}

}  // namespace ferry::agent
