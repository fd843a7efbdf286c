// Sparkplug B payloads (the protobuf of the Eclipse Sparkplug 3.0 specification) decoded into
// metrics with typed JSON values. Pure functions; never throw except std::bad_alloc.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace ferry::agent {

// Messages nested deeper than this (Payload > Metric > Template > Metric > ..., or property
// sets within property sets) are refused before the protobuf library sees them: its decoder
// recurses once per level.
inline constexpr int kMaxSparkplugDepth = 16;

// The Sparkplug data types (specification 6.4.16), as they appear in Metric.datatype.
enum SparkplugType : uint32_t {
  kSpUnknown = 0,
  kSpInt8 = 1,
  kSpInt16 = 2,
  kSpInt32 = 3,
  kSpInt64 = 4,
  kSpUInt8 = 5,
  kSpUInt16 = 6,
  kSpUInt32 = 7,
  kSpUInt64 = 8,
  kSpFloat = 9,
  kSpDouble = 10,
  kSpBoolean = 11,
  kSpString = 12,
  kSpDateTime = 13,
  kSpText = 14,
  kSpUuid = 15,
  kSpDataSet = 16,
  kSpBytes = 17,
  kSpFile = 18,
  kSpTemplate = 19,
  kSpInt8Array = 22,
  kSpDoubleArray = 31,
  kSpBooleanArray = 32,
  kSpStringArray = 33,
  kSpDateTimeArray = 34,
};

struct SparkplugMetric {
  std::string name;  // "" when the metric names itself only by alias
  std::optional<uint64_t> alias;
  std::optional<uint64_t> timestamp;  // ms since epoch UTC
  uint32_t datatype = kSpUnknown;     // as sent; 0 when absent (DATA messages usually omit it)
  bool is_null = false;
  // The value as sent, typed by `datatype`, or by the protobuf field holding it when the
  // datatype is absent (see SparkplugValue).
  nlohmann::json value;
  // The raw oneof the value came in, kept to retype it once a BIRTH says the datatype.
  int value_field = 0;  // protobuf field number, 0 for none
  uint64_t raw_int = 0;
  std::string raw_bytes;  // bytes_value when no datatype came with it
};

struct SparkplugPayload {
  std::optional<uint64_t> timestamp;
  std::optional<uint64_t> seq;
  std::vector<SparkplugMetric> metrics;
};

// Decodes one payload. False, with `*reason`, for bytes that are not a Sparkplug B payload:
//   "sparkplug: invalid protobuf"                the library refused it (truncated, a length
//                                                past the end, a wrong wire type, ...)
//   "sparkplug: nested deeper than 16 levels"
// Values: integers as JSON integers of the datatype's sign and width, Float/Double as numbers
// (NaN and infinities as null), Boolean, String/Text/UUID as strings (invalid UTF-8 repaired
// later by the record encoder), DateTime as ms since epoch, Bytes/File as base64 strings,
// arrays (22-34) as JSON arrays, DataSet as {"columns": [...], "rows": [[...], ...]}, Template
// as {"template_ref": ..., "metrics": {name: value}, "parameters": {name: value}}; is_null and
// a metric without a value as null.
bool DecodeSparkplug(std::string_view bytes, SparkplugPayload* out, std::string* reason);

// Retypes `metric`'s value for `datatype` (a DATA message's metric whose datatype its BIRTH gave).
void RetypeSparkplugValue(uint32_t datatype, SparkplugMetric* metric);

}  // namespace ferry::agent
