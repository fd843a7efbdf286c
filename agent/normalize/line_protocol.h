// InfluxDB line protocol, the default data_format of Telegraf's MQTT output, decoded into JSON
// in the shape of Telegraf's own JSON serializer, so that one route can read either:
//
//   weather,location=us-midwest temperature=82,ok=t,note="warm" 1465839830100400200
//   -> {"name":"weather","tags":{"location":"us-midwest"},
//       "fields":{"temperature":82.0,"ok":true,"note":"warm"},"timestamp":1465839830100400200}
//
// Field values: a float ("82", "-1.5e3"; never NaN or infinite), an integer with an i
// suffix ("82i", int64), an unsigned integer with a u suffix ("82u"), a string in double
// quotes (\" and \\ escaped), or a bool (t T true True TRUE f F false False FALSE). The
// timestamp is optional, an integer kept exactly (epoch nanoseconds are above 2^53).
// Escapes: "\," "\ " in the measurement; "\," "\=" "\ " in tag keys, tag values and field
// keys. Lines starting with '#' and blank lines are skipped; a payload with several lines
// becomes {"metrics":[...]} as Telegraf's JSON batch format.
// Pure function; never throws except std::bad_alloc.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace ferry::agent {

// False with *reason = "invalid line protocol at byte N: <what>" (N counted from 0 in `text`)
// when a line is malformed or no line holds a metric; *out is then unspecified.
bool ParseLineProtocol(std::string_view text, nlohmann::json* out, std::string* reason);

}  // namespace ferry::agent
