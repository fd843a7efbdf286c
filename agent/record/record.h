// The record envelope of the landing protocol and its NDJSON encoding.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace ferry::agent {

struct RecordEnvelope {
  std::string_view gateway;
  std::string_view epoch;
  uint64_t seq = 0;
  std::string_view source = "mqtt";
  std::string_view topic;
  std::string_view device;  // omitted when empty
  int64_t ts_ms = 0;
  bool ts_from_payload = false;
  int64_t received_ms = 0;
  const std::map<std::string, std::string>* gateway_labels = nullptr;
  const std::map<std::string, std::string>* route_labels = nullptr;  // override gateway's
  const nlohmann::json* data = nullptr;                              // an object
  std::string_view transform{};         // the transform that made the record; "": none
  std::string_view transform_sha256{};  // its code's SHA-256; "": unknown
};

// Appends one line (ending in '\n') to `out`, fields in the protocol's order:
// id, seq, gateway, source, topic, device, ts, ts_source, received_at, labels, data, and
// for a record a transform made, transform {name, sha256}.
// Invalid UTF-8 in any string is replaced with U+FFFD, never thrown.
void AppendRecordLine(const RecordEnvelope& rec, std::string& out);

// The same line in two parts, for a caller that learns the seq only after the rest is written:
// the head is `{"id":"<gateway>.<epoch>.<seq>","seq":<seq>,` and the body all that follows
// (`rec.epoch` and `rec.seq` are not used by the body).
void AppendRecordHead(std::string_view gateway, std::string_view epoch, uint64_t seq,
                      std::string& out);
void AppendRecordBody(const RecordEnvelope& rec, std::string& out);

// "<gateway>.<epoch>.<seq>"
std::string RecordId(std::string_view gateway, std::string_view epoch, uint64_t seq);

// Appends `s` to `out` as a JSON string literal, quotes included. Escapes as nlohmann's dump
// does: '"', '\\', and control characters below U+0020 (\b \f \n \r \t, else \u00xx);
// other characters, also non-ASCII, are copied. Each maximal ill-formed UTF-8 subsequence
// becomes one U+FFFD. Never throws except std::bad_alloc.
void AppendJsonString(std::string_view s, std::string& out);

}  // namespace ferry::agent
