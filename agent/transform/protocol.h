// The NDJSON protocol between Ferry and a transform co-process (docs/transforms.md): one
// request line per message, one reply line per request, matched by id. Pure functions.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/normalize/normalizer.h"

namespace ferry::agent {

// One message and the records the route's rules made of it.
struct TransformRequest {
  uint64_t id = 0;
  std::string_view topic;
  std::string_view payload;
  int64_t received_ms = 0;
  std::span<const Normalized> records;
};

// Appends `{"id":17,"topic":...,"payload":"..." or "payload_base64":"...","received_at":...,
// "records":[{"device","ts","ts_source","labels","data"}...]}\n` to `out`. The payload goes as
// text when it is valid UTF-8, else base64. Never throws except std::bad_alloc.
void AppendTransformRequest(const TransformRequest& request, std::string& out);

// A reply line read: its id and the parsed object. False, with `*error` saying why, when the
// line is not a JSON object with a non-negative integer "id".
bool ParseReplyLine(std::string_view line, uint64_t* id, nlohmann::json* reply, std::string* error);

// The records of a parsed reply. `defaults` (the rules' first record; null: none) gives the
// device, ts and labels a record leaves out; with no default, ts is the receive time.
// A reply {"error": "text"} gives false with *error = "text" (the message is dead-lettered).
// A malformed reply (no records list, a record whose data is not an object, a ts that does
// not parse) gives false with *error saying what, starting "bad reply: ".
bool RecordsOfReply(const nlohmann::json& reply, const Normalized* defaults, int64_t received_ms,
                    std::vector<Normalized>* records, std::string* error);

}  // namespace ferry::agent
