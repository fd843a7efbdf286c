// Device id and label templates over topic captures and payload paths (route keys `device`
// and `labels`), and the missing-part rule.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "agent/normalize/normalizer.h"
#include "agent/normalize/value_template.h"

namespace ferry::agent {
namespace {

using nlohmann::json;

constexpr int64_t kReceivedMs = 1'795'256'100'000;

std::optional<std::string> Render(std::string_view tmpl, std::string_view topic_tmpl,
                                  std::string_view topic, const json& payload) {
  auto t = TopicTemplate::Parse(topic_tmpl);
  REQUIRE(t.ok());
  std::vector<std::string_view> captures(t->capture_count());
  REQUIRE(t->Match(topic, &captures));
  return ValueTemplate(tmpl, *t).Render(captures, payload);
}

TEST_CASE("a template joins topic captures and payload values") {
  json p = {{"model", "Acurite-Tower"}, {"channel", "A"}, {"id", 2520}, {"ok", true}};
  CHECK(Render("{.model}-{.channel}-{.id}", "rtl/+", "rtl/x", p) == "Acurite-Tower-A-2520");
  CHECK(Render("{domain}.{object}", "ha/{domain}/{object}/state", "ha/sensor/t1/state", p) ==
        "sensor.t1");
  CHECK(Render("{domain}/{.id}/{.ok}", "ha/{domain}", "ha/light", p) == "light/2520/true");
  CHECK(Render("plant-7", "a", "a", p) == "plant-7");
}

TEST_CASE("a template with a missing part gives nothing, unless the part has a default") {
  json p = {{"model", "Oregon-THGR122N"}, {"id", 3}, {"nested", {{"x", 1}}}, {"n", nullptr}};
  CHECK(Render("{.model}-{.channel}-{.id}", "a", "a", p) == std::nullopt);
  CHECK(Render("{.model}-{.channel|0}-{.id}", "a", "a", p) == "Oregon-THGR122N-0-3");
  CHECK(Render("{.model}-{.channel|}-{.id}", "a", "a", p) == "Oregon-THGR122N--3");
  CHECK(Render("{.nested}", "a", "a", p) == std::nullopt);  // an object is not a part
  CHECK(Render("{.n}", "a", "a", p) == std::nullopt);       // nor is null
  CHECK(Render("{.nested.x}", "a", "a", p) == "1");
}

TEST_CASE("a {name} the topic template does not capture stays as written") {
  CHECK(Render("{room}-{.id}", "a/{device}", "a/b", json{{"id", 1}}) == "{room}-1");
}

TEST_CASE("template errors name the placeholder") {
  CHECK(CheckValueTemplate("{.model}-{.id}") == "");
  CHECK(CheckValueTemplate("{room}") == "");
  CHECK(CheckValueTemplate("{.model") == "'{' at byte 0 is not closed by '}'");
  CHECK(CheckValueTemplate("a{}") == "empty placeholder \"{}\"");
  CHECK(CheckValueTemplate("{.a..b}").starts_with("placeholder \"{.a..b}\": payload path must be"));
  CHECK(CheckValueTemplate("{.}").starts_with("placeholder \"{.}\": payload path must be"));
}

TEST_CASE("the device template wins over device_field and the capture when complete") {
  Route r;
  r.topic = "rtl_433/{host}/events";
  r.device = "{.model}-{.channel}-{.id}";
  r.device_field = "id";
  Normalizer n({r});
  Normalized out;
  DeadLetterReason reason;
  REQUIRE(n.Normalize({"rtl_433/pi/events", R"({"model":"Acurite-Tower","channel":"A","id":2520})",
                       kReceivedMs},
                      &out, &reason) == Outcome::kRecord);
  CHECK(out.device == "Acurite-Tower-A-2520");
  // No channel: the template is missing a part, and device_field gives the id.
  REQUIRE(n.Normalize({"rtl_433/pi/events", R"({"model":"Fineoffset-WH2","id":71})", kReceivedMs},
                      &out, &reason) == Outcome::kRecord);
  CHECK(out.device == "71");
}

TEST_CASE("labels from payload paths; a label with a missing part is left out") {
  Route r;
  r.topic = "neuron/{app}";
  r.labels = {{"node", "{.node}"}, {"group", "{.group}"}, {"app", "{app}"}, {"site", "hall"}};
  Normalizer n({r});
  Normalized out;
  DeadLetterReason reason;
  REQUIRE(n.Normalize({"neuron/north", R"({"node":"modbus","timestamp":1})", kReceivedMs}, &out,
                      &reason) == Outcome::kRecord);
  CHECK(out.labels ==
        std::map<std::string, std::string>{{"node", "modbus"}, {"app", "north"}, {"site", "hall"}});
}

}  // namespace
}  // namespace ferry::agent
