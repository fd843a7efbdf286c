// Binary payloads: a route's `bytes` decodes a base64 or hex string at a payload path (a
// LoRaWAN frame without a network-server codec, a BLE advertisement) and reads fixed-layout
// fields out of it, each "<type> <offset> [<scale>]":
//
//   "bytes": {"path": "data", "encoding": "base64",
//             "fields": {"battery_v": "u16be 0 1/1000", "distance_mm": "u16be 2",
//                        "interrupt": "u8 4"}}
//
// types: u8 s8, u16be u16le s16be s16le, u24be u24le s24be s24le, u32be u32le s32be s32le
// (unsigned or two's-complement signed, big or little endian); offset: the first byte, from
// 0; scale: a decimal or a fraction ("0.1", "1/1000") the integer is multiplied by, which
// makes the value a float. The fields go into the object holding the path; the string stays.
// A path that is absent or holds no string is left alone. Dead letters:
//   "validation failed: bytes \"data\": not base64" / ": not hex",
//   "validation failed: bytes \"data\": 3 bytes, field \"distance_mm\" needs 4".
// Compiled once per route; Apply is const and safe to call concurrently.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/config/route_options.h"
#include "agent/normalize/field_path.h"

namespace ferry::agent {

struct BytesSpec {
  std::string path;  // "": no binary decoding
  BytesEncoding encoding = BytesEncoding::kBase64;
  std::map<std::string, std::string> fields;  // field name -> "<type> <offset> [<scale>]"
};

// "" when the spec compiles, else what is wrong, naming the entry ("fields \"t\": ...").
std::string CheckBytes(const BytesSpec& spec);

// Standard base64 (RFC 4648, with or without '=' padding; '-' and '_' of the URL alphabet
// accepted too) and hex (either case) to bytes; nullopt for anything else.
std::optional<std::string> DecodeBase64(std::string_view text);
std::optional<std::string> DecodeHex(std::string_view text);

class BinaryFields {
 public:
  BinaryFields() = default;  // does nothing
  explicit BinaryFields(const BytesSpec& spec);

  bool enabled() const { return !path_.empty(); }
  bool Apply(nlohmann::json* payload, std::string* reason) const;

 private:
  struct Field {
    std::string name;
    size_t offset = 0;
    size_t size = 1;
    bool is_signed = false;
    bool big_endian = true;
    std::optional<std::pair<double, double>> scale;  // numerator, denominator
  };
  FieldPath path_;
  FieldPath parent_;
  bool hex_ = false;
  std::vector<Field> fields_;
};

}  // namespace ferry::agent
