// A Route compiled once when the Normalizer is built: the topic template split into levels,
// field paths split into keys, names of modes resolved, so no message pays for parsing them.
#pragma once

#include <map>
#include <string>

#include "agent/config/config.h"
#include "agent/normalize/event_time.h"
#include "agent/normalize/field_path.h"
#include "agent/normalize/payload.h"
#include "agent/normalize/topic_template.h"

namespace ferry::agent {

struct RouteRule {
  TopicTemplate topic;  // matches nothing if the route's template is invalid
  bool ignore = false;
  PayloadMode payload = PayloadMode::kAuto;
  std::string value_field = "value";
  int device_capture = -1;  // index of the {device} capture, -1 if none
  FieldPath device_field;
  FieldPath time_field;
  TimeFormat time_format = TimeFormat::kAuto;
  std::map<std::string, std::string> labels;
};

// The config parser validates routes (TopicTemplate::Parse, ParsePayloadMode, ParseTimeFormat);
// should an invalid one arrive anyway, its template matches nothing and an unknown payload or
// time format means "auto".
RouteRule CompileRoute(const Route& route);

}  // namespace ferry::agent
