// Payload decoding: the bytes of one message into the JSON object a record carries as `data`.
// Pure functions; never throw (nlohmann is only used with exceptions off).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/config/route_options.h"
#include "agent/normalize/field_path.h"
#include "agent/record/dead_letter_reason.h"

namespace ferry::agent {

// "auto", "json", "text", "influx", "sparkplug"; nullopt for anything else.
std::optional<PayloadMode> ParsePayloadMode(std::string_view name);

// Objects and arrays nested deeper than this are refused: serializing and copying nlohmann
// values recurses, so a hostile '{"a":' * 10000 payload would otherwise exhaust the stack.
inline constexpr int kMaxJsonDepth = 128;
// Dead-letter reasons quote the parser's message; longer ones are cut to this many bytes.
inline constexpr size_t kMaxReasonBytes = 200;

struct DecodeOptions {
  PayloadMode mode = PayloadMode::kAuto;
  std::string_view value_field = "value";  // where a scalar or plain-text payload goes
  int max_depth = kMaxJsonDepth;           // at most kMaxJsonDepth
};

// Decodes `payload` into `*data`, always an object:
//   JSON object          as is (a repeated key: the last one wins)
//   JSON string holding a JSON object or array (a payload encoded twice, as some bridges
//                        send it)  the inner JSON, as if it had been the payload
//   JSON scalar / array  {value_field: value}
//   text                 {value_field: ParsePlainValue(payload)}
//   influx               ParseLineProtocol's object
// `*wrapped` (if not null) says whether the payload went into value_field.
// Returns false and sets `*reason` (leaving `*data` unspecified) for, by code:
//   kEmptyPayload         "empty payload", "payload is only whitespace",
//   kInvalidUtf8          "payload is not valid UTF-8 (byte N)"  N = the first bad byte, from 0,
//   kInvalidJson          "invalid JSON at byte N: <parser message>",
//   kTooDeep              "JSON nested deeper than N levels"     N = options.max_depth (in
//                         the auto mode too, also past a UTF-8 byte order mark),
//   kInvalidLineProtocol  "invalid line protocol at byte N: <what>",
//   kInvalidSparkplug     "sparkplug: match conditions cannot test a Sparkplug payload".
bool DecodePayload(std::string_view payload, const DecodeOptions& options, nlohmann::json* data,
                   bool* wrapped, DeadLetterReason* reason);

// The route's decode_json: each string at one of `paths` in `*payload` (JSON written into a
// string, as some bridges nest a device's message) is replaced by the JSON it holds, any
// JSON value. Paths that are absent or hold no string, and empty strings, are left alone.
// False, with `*reason` set, for a string that is not JSON:
//   kInvalidJson  "invalid JSON in \"<path>\" at byte N: <parser message>",
//   kTooDeep      "JSON nested deeper than N levels in \"<path>\""   N = max_depth.
// The paths are decoded in order, so a later path may reach into an earlier one's JSON.
bool DecodeJsonAt(const std::vector<FieldPath>& paths, int max_depth, nlohmann::json* payload,
                  DeadLetterReason* reason);

// The text rule for one plain value, surrounding whitespace ignored:
//   nan NaN NAN -nan -NaN None null  -> null (a missing reading is never 0)
//   true false                       -> bool
//   a JSON number ("21.5", "-3", "1e3", "1465839830100400200") -> that number, integers exact
//   anything else ("ON", "online", "21,5", "inf", "0x1F")      -> the trimmed string
nlohmann::json ParsePlainValue(std::string_view text);

}  // namespace ferry::agent
