// Topic templates: the first {name} spans levels, the levels after it match from the right;
// {name} placeholders in value fields and labels.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "agent/normalize/topic_template.h"
#include "agent/normalize/value_template.h"

namespace ferry::agent {
namespace {

using Caps = std::vector<std::string_view>;

// The captures of a match, or {"no match"}.
Caps Captures(std::string_view tmpl, std::string_view topic) {
  auto t = TopicTemplate::Parse(tmpl);
  REQUIRE(t.ok());
  Caps caps;
  if (!t->Match(topic, &caps)) return {"no match"};
  return caps;
}

TEST_CASE("the first capture takes every level the rest of the template does not need") {
  CHECK(Captures("zigbee2mqtt/{device}", "zigbee2mqtt/kitchen/floor_light") ==
        Caps{"kitchen/floor_light"});
  CHECK(Captures("zigbee2mqtt/{device}", "zigbee2mqtt/kitchen_sensor") == Caps{"kitchen_sensor"});
  CHECK(Captures("+/tele/{device}/SENSOR", "piegn/tele/elektronik/control0/SENSOR") ==
        Caps{"elektronik/control0"});
  CHECK(Captures("tele/{device}/SENSOR", "tele/a/b/c/SENSOR") == Caps{"a/b/c"});
  CHECK(Captures("shellies/{device}/relay/+", "shellies/shellies/shellyem3/relay/0") ==
        Caps{"shellies/shellyem3"});
  CHECK(Captures("shellies/{device}/relay/+", "shellies/shelly1/relay/0") == Caps{"shelly1"});
  CHECK(Captures("{device}/events/rpc", "shellies/plus1pm/events/rpc") == Caps{"shellies/plus1pm"});
}

TEST_CASE("later captures take one level each, matched from the right") {
  CHECK(Captures("v3/{app}/devices/{device}/up", "v3/app1@ttn/devices/dev1/up") ==
        Caps{"app1@ttn", "dev1"});
  CHECK(Captures("+/{device}/{attribute}", "zigbee2mqtt/kitchen/floor_light/state") ==
        Caps{"kitchen/floor_light", "state"});
  CHECK(Captures("shellies/{device}/emeter/{channel}/{quantity}",
                 "shellies/shellies/shellyem3/emeter/1/voltage") ==
        Caps{"shellies/shellyem3", "1", "voltage"});
  CHECK(Captures("owntracks/{user}/{device}", "owntracks/alice/phone") == Caps{"alice", "phone"});
}

TEST_CASE("a spanning capture needs at least one level and the anchors on both sides") {
  CHECK(Captures("zigbee2mqtt/{device}", "zigbee2mqtt") == Caps{"no match"});
  CHECK(Captures("tele/{device}/SENSOR", "tele/SENSOR") == Caps{"no match"});
  CHECK(Captures("tele/{device}/SENSOR", "tele/a/b/STATE") == Caps{"no match"});
  CHECK(Captures("tele/{device}/SENSOR", "stat/a/SENSOR") == Caps{"no match"});
  CHECK(Captures("shellies/{device}/relay/+", "shellies/shelly1/relay/0/energy") ==
        Caps{"no match"});
  CHECK(Captures("{device}/tele/+", "tele/tasmota/SENSOR") == Caps{"no match"});
  // Empty levels are levels.
  CHECK(Captures("shellies/{device}/relay/+", "shellies//relay/0") == Caps{""});
  CHECK(Captures("{device}/x", "/x") == Caps{""});
  CHECK(Captures("{device}/x", "a//x") == Caps{"a/"});
  CHECK(Captures("{a}/{b}", "//") == Caps{"/", ""});
}

TEST_CASE("with '#' every capture takes one level") {
  CHECK(Captures("v3/{app}/devices/{device}/#", "v3/app/devices/dev/location/solved") ==
        Caps{"app", "dev"});
  CHECK(Captures("{device}/#", "a/b/c") == Caps{"a"});
  CHECK(Captures("{device}/#", "a") == Caps{"a"});
}

TEST_CASE("a spanning template does not match $ topics from its first level") {
  CHECK(Captures("{device}/state", "$SYS/state") == Caps{"no match"});
  CHECK(Captures("$SYS/{what}", "$SYS/broker/uptime") == Caps{"broker/uptime"});
}

TEST_CASE("1000 levels match without recursion or per-level allocation") {
  std::string many = "a";
  for (int i = 0; i < 999; ++i) many += "/a";
  Caps caps = Captures("{device}/a", many);
  REQUIRE(caps.size() == 1);
  CHECK(caps[0].size() == many.size() - 2);
  CHECK(Captures("a/+", many) == Caps{"no match"});
}

TEST_CASE("capture texts fill in {name}s the template captures and keep the rest") {
  auto t = TopicTemplate::Parse("shellies/{device}/relay/{channel}");
  REQUIRE(t.ok());
  Caps caps;
  REQUIRE(t->Match("shellies/shelly1/relay/0", &caps));
  CHECK(CaptureText("relay_{channel}", *t).Render(caps) == "relay_0");
  CHECK(CaptureText("{device}:{channel}", *t).Render(caps) == "shelly1:0");
  CHECK(CaptureText("{other}_{channel}", *t).Render(caps) == "{other}_0");
  CHECK(CaptureText("plain", *t).Render(caps) == "plain");
  CHECK_FALSE(CaptureText("plain", *t).has_captures());
  CHECK(CaptureText("{channel", *t).Render(caps) == "{channel");
  CHECK(CaptureText("}{channel}{", *t).Render(caps) == "}0{");
  CHECK(CaptureText("", *t).Render(caps) == "");
}

}  // namespace
}  // namespace ferry::agent
