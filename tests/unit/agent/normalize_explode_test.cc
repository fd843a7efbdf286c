// One message, many records: a route's `explode`, with carried fields, per-element device and
// time, and what an empty, missing or partly bad array does.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "agent/normalize/explode.h"
#include "agent/normalize/normalizer.h"

namespace ferry::agent {
namespace {

using nlohmann::json;

constexpr int64_t kReceivedMs = 1'795'256'100'000;  // 2026-11-21T10:15:00Z

struct Run {
  Outcome outcome;
  std::vector<Normalized> records;
  std::string reason;
  DeadLetterCode code = DeadLetterCode::kInvalidMessage;  // a dead letter's
};

Run Explode(const Route& route, std::string_view payload, bool take_many = true) {
  Normalizer n({route});
  Run r;
  Normalized first;
  std::vector<Normalized> more;
  DeadLetterReason why;
  r.outcome =
      n.Normalize({"gw/batch", payload, kReceivedMs}, &first, &why, take_many ? &more : nullptr);
  r.reason = why.text;
  r.code = why.code;
  if (r.outcome == Outcome::kRecord) {
    r.records.push_back(std::move(first));
    for (Normalized& m : more) r.records.push_back(std::move(m));
  }
  return r;
}

Route HeartbeatRoute() {
  Route r;
  r.topic = "gw/batch";
  r.explode.path = "states";
  r.explode.carry = {{"version", "version"}, {"sent_at", "timestamp"}};
  r.device_field = "node";
  r.time.field = "sent_at";
  return r;
}

TEST_CASE("explode makes one record per element, each with its own device") {
  Run r = Explode(HeartbeatRoute(), R"({"version":"2.1.0","timestamp":1658134132237,
      "states":[{"node":"mqtt-client","link":2,"running":3},{"node":"fx5u-client","link":1}]})");
  REQUIRE(r.outcome == Outcome::kRecord);
  REQUIRE(r.records.size() == 2);
  CHECK(r.records[0].device == "mqtt-client");
  CHECK(r.records[1].device == "fx5u-client");
  CHECK(r.records[0].data == json{{"node", "mqtt-client"},
                                  {"link", 2},
                                  {"running", 3},
                                  {"version", "2.1.0"},
                                  {"sent_at", 1658134132237}});
  CHECK(r.records[1].ts_ms == 1658134132237);
  CHECK(r.records[1].ts_from_payload);
  CHECK(r.records[1].route == 0);
}

TEST_CASE("an element's own field wins over a carried one; absent values are not carried") {
  Route route = HeartbeatRoute();
  route.explode.carry["missing"] = "no.such.path";
  Run r = Explode(route, R"({"version":"2","timestamp":5,"states":[{"node":"a","version":"1"}]})");
  REQUIRE(r.records.size() == 1);
  CHECK(r.records[0].data == json{{"node", "a"}, {"version", "1"}, {"sent_at", 5}});
}

TEST_CASE("elements that are not objects go into value_field") {
  Route route;
  route.topic = "gw/batch";
  route.explode.path = "v";
  Run r = Explode(route, R"({"v":[1.5,null,"x"]})");
  REQUIRE(r.records.size() == 3);
  CHECK(r.records[0].data == json{{"value", 1.5}});
  CHECK(r.records[1].data == json{{"value", nullptr}});
  CHECK(r.records[2].data == json{{"value", "x"}});
}

TEST_CASE("an explode path that holds no array dead-letters the message") {
  CHECK(Explode(HeartbeatRoute(), R"({"timestamp":1})").reason ==
        "validation failed: explode \"states\": missing");
  CHECK(Explode(HeartbeatRoute(), R"({"states":{"node":"a"}})").reason ==
        "validation failed: explode \"states\": not an array but object");
}

TEST_CASE("an empty array makes no record: the message is ignored") {
  CHECK(Explode(HeartbeatRoute(), R"({"states":[]})").outcome == Outcome::kIgnored);
}

TEST_CASE("one bad element dead-letters the whole message, naming the element") {
  Route route = HeartbeatRoute();
  route.data_field = "fields";
  Run r = Explode(route, R"({"states":[{"fields":{"a":1}},{"node":"b"}]})");
  CHECK(r.outcome == Outcome::kDeadLetter);
  CHECK(r.reason == "validation failed: data_field \"fields\": missing (element 1)");
}

TEST_CASE("a caller that takes one record dead-letters a message of several") {
  Run r = Explode(HeartbeatRoute(), R"({"states":[{"node":"a"},{"node":"b"}]})", false);
  CHECK(r.outcome == Outcome::kDeadLetter);
  CHECK(r.reason == "explode: this caller takes one record per message");
  CHECK(Explode(HeartbeatRoute(), R"({"states":[{"node":"a"}]})", false).outcome ==
        Outcome::kRecord);
}

TEST_CASE("a carried path into the exploded array finds nothing") {
  Route route;
  route.topic = "gw/batch";
  route.explode.path = "a";
  route.explode.carry = {{"first", "a.0"}};
  Run r = Explode(route, R"({"a":[{"x":1}]})");
  REQUIRE(r.records.size() == 1);
  CHECK(r.records[0].data == json{{"x", 1}});
}

TEST_CASE("explode spec errors name the entry") {
  CHECK(CheckExplode({"readings", {{"gw", "gateway.id"}}}) == "");
  CHECK(CheckExplode({"a..b", {}}).starts_with("path must be a dotted path"));
  CHECK(CheckExplode({"a", {{"x", ".y"}}}).starts_with("carry \"x\": must be a dotted path"));
  CHECK(CheckExplode({"", {{"x", "y"}}}) == "carry needs a path to explode");
}

}  // namespace
}  // namespace ferry::agent
