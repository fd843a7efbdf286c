// CompileRoute and Normalizer::Create: what can still fail when a route is compiled is an error
// naming the key, never a silent default (issue 10, finding 12).
#include <doctest/doctest.h>

#include <vector>

#include "agent/normalize/normalizer.h"
#include "agent/normalize/route_rule.h"

using namespace ferry;
using namespace ferry::agent;

// Before the fix, an invalid template compiled into a rule that matched nothing and an unknown
// time zone into none: the route silently did less than its config said.
TEST_CASE("regression issue 10 #12: a route that does not compile is an error, not a default") {
  Route bad_topic;
  bad_topic.topic = "a/{device";
  platform::Result<RouteRule> t = CompileRoute(bad_topic);
  REQUIRE_FALSE(t.ok());
  CHECK(t.status().code() == platform::Code::kInvalidArgument);
  CHECK(t.status().message().starts_with("topic: "));

  Route bad_zone;
  bad_zone.topic = "a/{device}";
  bad_zone.time.timezone = "Mars/Olympus_Mons";
  platform::Result<RouteRule> z = CompileRoute(bad_zone);
  REQUIRE_FALSE(z.ok());
  CHECK(z.status().message().starts_with("time/timezone: "));

  Route good;
  good.topic = "a/{device}";
  good.time.timezone = "Europe/Berlin";
  good.payload = PayloadMode::kText;
  good.value_type = ValueType::kInt;
  platform::Result<RouteRule> g = CompileRoute(good);
  REQUIRE_MESSAGE(g.ok(), g.status().message());
  CHECK(g->payload == PayloadMode::kText);
  CHECK(g->value_type == CastType::kInt);
  CHECK(g->time.zone.name() == "Europe/Berlin");
}

TEST_CASE("Normalizer::Create names the route that does not compile") {
  Route ok;
  ok.topic = "a/#";
  Route bad;
  bad.topic = "b/{x";
  platform::Result<Normalizer> n = Normalizer::Create({ok, bad});
  REQUIRE_FALSE(n.ok());
  CHECK(n.status().message().starts_with("/routes/1/topic: "));
  platform::Result<Normalizer> fine = Normalizer::Create({ok});
  CHECK(fine.ok());
}
