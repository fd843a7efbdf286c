// Templates of a route's device id and label values, over topic captures and payload paths:
//
//   "{model}-{channel}"           topic captures ({name}: the capture of that name)
//   "{.model}_{.channel}_{.id}"    payload paths ({.path}: the value at that dotted path)
//   "{domain}.{.object_id|none}"  a default after '|' stands in for a missing payload value
//   "plant-7"                     no placeholder: the text as is
//
// A payload value is used when it is a string (as is), a number (as JSON writes it) or a
// bool ("true"/"false"); missing, null, an object or an array is missing. The missing-part
// rule: a template with a missing part (a payload path without a default whose value is
// missing) gives no value at all, never a half-filled id. A {name} that the topic template
// does not capture stays as written ("{x}"), as it always did in labels.
// Immutable after construction; Render is const and safe to call concurrently.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/normalize/field_path.h"
#include "agent/normalize/topic_template.h"

namespace ferry::agent {

class ValueTemplate {
 public:
  ValueTemplate() = default;  // renders "" (a static empty text)
  // `text` is assumed checked (CheckValueTemplate); an unclosed '{' is taken literally.
  ValueTemplate(std::string_view text, const TopicTemplate& topic);

  bool is_static() const { return is_static_; }        // no capture and no payload path
  bool has_captures() const { return !is_static_; }    // as CaptureText said it
  bool uses_payload() const { return uses_payload_; }  // at least one {.path}
  const std::string& text() const { return text_; }

  // The filled-in text, or nullopt when a payload part is missing (see the missing-part rule).
  // `captures` as TopicTemplate::Match returned them; `payload` is the JSON the paths name.
  std::optional<std::string> Render(const std::vector<std::string_view>& captures,
                                    const nlohmann::json& payload) const;
  // For texts that use captures only (value_field): a text with a payload path renders as
  // written.
  std::string Render(const std::vector<std::string_view>& captures) const;

 private:
  struct Piece {
    std::string literal;       // text, or the default of a path
    int capture = -1;          // >= 0: a capture's index
    FieldPath path;            // not empty: a payload path
    bool has_default = false;  // a path with "|default" (literal holds it)
  };
  static Piece Literal(std::string text);

  std::string text_;
  std::vector<Piece> pieces_;
  bool is_static_ = true;
  bool uses_payload_ = false;
};

// A text with {name} placeholders filled from a match's captures ("relay_{channel}"): the
// value_field of a route.
using CaptureText = ValueTemplate;

// A payload value as a template part (and as a device id): a string as is, a number as JSON
// writes it, a bool as "true"/"false"; false for anything else or nullptr.
bool ValueAsText(const nlohmann::json* v, std::string* out);

// Templates separated by commas, spaces around each ignored (a template cannot hold ','):
// "{.model}-{.channel}-{.id}, {.model}-{.id}". The route's `device` takes the first that
// has no missing part.
std::vector<ValueTemplate> ParseTemplateList(std::string_view list, const TopicTemplate& topic);

// "" if `text` is a usable template, else what is wrong: an unclosed '{', an empty
// placeholder, or a payload path with an empty step ("{.a..b}"). For the config's checks.
std::string CheckValueTemplate(std::string_view text);

}  // namespace ferry::agent
