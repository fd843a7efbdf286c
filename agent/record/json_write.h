// A JSON value written straight into a caller's string, as the record line's `data`.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace ferry::agent {

// Appends `v` to `out` exactly as v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
// would write it (the record line's bytes are a contract): no whitespace, object keys in the
// object's (sorted) order, strings escaped as AppendJsonString does, integers in decimal,
// floats as nlohmann writes them (its own shortest round-trip digits, "1.0" for a whole number,
// "1e+100"), NaN and infinities as null. Unlike dump, it allocates nothing but the growth of
// `out`, and it scans strings for characters to escape a run at a time.
// Recurses once per level: callers bound the depth (payload.h's kMaxJsonDepth).
// Never throws except std::bad_alloc.
void AppendJson(const nlohmann::json& v, std::string& out);

}  // namespace ferry::agent
