// Why a message or record went to the dead letters: a code, set where the reason is made, and
// the text for people. The code names the label the dead letter is counted under
// (ferry_records_dead_lettered_total{reason="invalid_json"}); the text is what the dead-letter
// store keeps and shows. The label never derives from the text, so a reason's wording (or a
// transform's own error text) cannot move it to another label.
//
// The code is not stored with the dead letter (storage/FORMAT.md: `reason` is the text alone):
// it only counts the letter, once, when it is made. Replay needs none: a replayed letter is
// normalized (or, refused by the landing zone, queued) again, and one that fails again gets a
// new reason, code and text, from that failure (replay does not count it again). No stored
// text is ever read back into a code.
#pragma once

#include <cstddef>
#include <span>
#include <string>

#include "agent/config/enum_names.h"

namespace ferry::agent {

enum class DeadLetterCode {
  kInvalidMessage,         // a message this caller cannot take (explode where one record is wanted)
  kEmptyPayload,           // zero-length or only white space
  kInvalidUtf8,            // payload is not valid UTF-8
  kInvalidJson,            // payload (or a decode_json string) is not JSON
  kTooLarge,               // beyond mqtt.max_payload or the route's max_payload
  kRejected,               // refused by the landing zone (forwarder)
  kInvalidLineProtocol,    // an influx route's payload is not line protocol
  kValidationFailed,       // require, max_fields, data_field, explode, extract, bytes
  kTooDeep,                // JSON nested beyond max_depth
  kSparkplugUnknownAlias,  // a Sparkplug DATA names an alias no BIRTH defined (replayable)
  kInvalidSparkplug,       // any other Sparkplug failure
  kTransform,              // the route's transform answered an error, failed or is not running
  kUnreadableBlock,        // a stored block that cannot be read (forwarder)
};

// The metric labels: public values that dashboards and tests use; never rename one. In the
// enum's order, one distinct name for each code.
inline constexpr EnumName<DeadLetterCode> kDeadLetterCodeNames[] = {
    {"invalid_message", DeadLetterCode::kInvalidMessage},
    {"empty_payload", DeadLetterCode::kEmptyPayload},
    {"invalid_utf8", DeadLetterCode::kInvalidUtf8},
    {"invalid_json", DeadLetterCode::kInvalidJson},
    {"too_large", DeadLetterCode::kTooLarge},
    {"rejected", DeadLetterCode::kRejected},
    {"invalid_line_protocol", DeadLetterCode::kInvalidLineProtocol},
    {"validation_failed", DeadLetterCode::kValidationFailed},
    {"too_deep", DeadLetterCode::kTooDeep},
    {"sparkplug_unknown_alias", DeadLetterCode::kSparkplugUnknownAlias},
    {"invalid_sparkplug", DeadLetterCode::kInvalidSparkplug},
    {"transform", DeadLetterCode::kTransform},
    {"unreadable_block", DeadLetterCode::kUnreadableBlock},
};
constexpr std::span<const EnumName<DeadLetterCode>> NamesOf(DeadLetterCode) {
  return kDeadLetterCodeNames;
}

constexpr bool DeadLetterTableInOrder() {
  for (size_t i = 0; i < std::size(kDeadLetterCodeNames); ++i) {
    if (kDeadLetterCodeNames[i].value != static_cast<DeadLetterCode>(i)) return false;
  }
  return true;
}
static_assert(DeadLetterTableInOrder() &&
                  std::size(kDeadLetterCodeNames) ==
                      static_cast<size_t>(DeadLetterCode::kUnreadableBlock) + 1,
              "every DeadLetterCode has one entry in kDeadLetterCodeNames, in order");

struct DeadLetterReason {
  DeadLetterCode code = DeadLetterCode::kInvalidMessage;
  std::string text;  // "invalid JSON at byte 12: ..."
};

// The metric label of a code: NameOf(DeadLetterCode::kInvalidJson) is "invalid_json".
inline std::string DeadLetterLabel(DeadLetterCode code) { return std::string(NameOf(code)); }

}  // namespace ferry::agent
