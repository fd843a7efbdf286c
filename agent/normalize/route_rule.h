// A Route compiled once when the Normalizer is built: the topic template split into levels,
// field paths split into keys, names of modes resolved, the time zone looked up, so that no
// message pays for parsing them. Immutable after CompileRoute; safe to share between threads.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "agent/config/config.h"
#include "agent/normalize/binary_fields.h"
#include "agent/normalize/event_time.h"
#include "agent/normalize/explode.h"
#include "agent/normalize/extract.h"
#include "agent/normalize/field_ops.h"
#include "agent/normalize/field_path.h"
#include "agent/normalize/pairs.h"
#include "agent/normalize/payload.h"
#include "agent/normalize/route_match.h"
#include "agent/normalize/topic_template.h"
#include "agent/normalize/validate.h"
#include "agent/normalize/value_template.h"
#include "platform/status.h"

namespace ferry::agent {

struct RouteRule {
  TopicTemplate topic;  // a default-constructed one matches nothing
  PayloadShape shape = PayloadShape::kAny;
  bool ignore = false;
  PayloadMode payload = PayloadMode::kAuto;
  EmptyPayload empty = EmptyPayload::kDeadLetter;
  CaptureText value_field;
  std::optional<CastType> value_type;  // nullopt: auto
  int device_capture = -1;             // index of the {device} capture, -1 if none
  std::vector<FieldPath> device_fields;
  std::vector<FieldPath> time_fields;
  TimeSpec time;
  FieldPath data_field;
  FieldOps ops;
  std::vector<std::pair<std::string, ValueTemplate>> labels;
  bool labels_use_captures = false;  // or payload paths: the labels differ per message
  std::map<std::string, std::string> static_labels;  // the labels when they do not
  Validator validator;
  std::vector<ValueTemplate> device_templates;  // `device`: the first complete wins
  std::vector<FieldPath> decode_json;
  Exploder explode;
  Pairs pairs;
  RouteMatch match;  // match and match_pattern: conditions on the decoded payload
  Extractor extract;
  std::vector<FieldPath> utc_times;
  BinaryFields bytes;
};

// The config parser validates routes (its checks call the same parsers) and the route's modes
// arrive typed. What can still fail here, a topic template or time zone the config check did
// not see (a Route built by hand), is kInvalidArgument naming the key ("topic: ...",
// "time/timezone: ..."), never a silent default. Entries of the map-valued keys (cast, rename,
// ...) that do not compile are left out: their keys' checks refuse them in the config.
platform::Result<RouteRule> CompileRoute(const Route& route);

// The shape of a payload as payload_shape sees it: the first byte that is not JSON
// whitespace is '{' (object), '[' (array), or anything else, also none (scalar).
PayloadShape ShapeOf(std::string_view payload);

}  // namespace ferry::agent
