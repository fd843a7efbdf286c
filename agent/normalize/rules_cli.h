// The rule-testing commands of `ferry` (config/README.md, "Testing rules"):
//
//   ferry normalize --config F --topic T (--payload P | --payload-file F | --hex H)
//                   [--received RFC3339]
//     prints which route applies and why each earlier one did not, then the record(s) the
//     rules make, one JSON line each, or the dead-letter reason, or "ignored".
//     Exit 0: record(s) or ignored; 1: dead-lettered; 2: bad command line or config.
//
//   ferry test-rules --config F [--cases C]
//     runs a file of cases (NDJSON; default: F with ".json" replaced by ".cases.ndjson") and
//     prints a diff per failing case. Exit 0: all pass; 1: a case fails; 2: bad command line,
//     config or cases file.
//
// Both read only files and write only `out`/`err`; no network, no queue.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/normalize/normalizer.h"

namespace ferry::agent {

// `args` are the words after the command name. `now_ms` is the receive time when no
// --received is given.
int RunNormalizeCommand(const std::vector<std::string>& args, int64_t now_ms, std::FILE* out,
                        std::FILE* err);
int RunTestRulesCommand(const std::vector<std::string>& args, int64_t now_ms, std::FILE* out,
                        std::FILE* err);

// A record as both commands print it and cases expect it:
// {"device", "ts", "ts_source", "labels", "data"} ("device" and "labels" only when set).
nlohmann::json RecordJson(const Normalized& n);

// The differences between one expectation and what the rules made, one line each ("" when
// they agree): "data.temperature_C: expected 13.5, got 13.6", "outcome: expected a record,
// got dead letter: invalid JSON ...". `expect` holds one of "record" (an object of the keys
// to compare: device, ts, ts_source, labels exactly; data field by field, only the fields
// listed), "records" (a list of such objects, one per record), "dead_letter" (the reason's
// expected start) or "ignored": true.
std::vector<std::string> DiffCase(const nlohmann::json& expect, Outcome outcome,
                                  const std::vector<Normalized>& records,
                                  const std::string& reason);

}  // namespace ferry::agent
