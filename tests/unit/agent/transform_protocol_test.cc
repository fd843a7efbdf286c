// The NDJSON protocol of transforms (agent/transform/protocol.h).
#include "agent/transform/protocol.h"

#include <doctest/doctest.h>

namespace ferry::agent {
namespace {

using nlohmann::json;

Normalized Rules() {
  Normalized n;
  n.device = "plug1";
  n.ts_ms = 1'796'580'000'123;
  n.ts_from_payload = true;
  n.labels = {{"site", "a"}};
  n.data = {{"power", 12}};
  return n;
}

TEST_CASE("a transform request carries the message and the rules' records") {
  std::vector<Normalized> records{Rules()};
  std::string out;
  AppendTransformRequest({17, "tele/plug1/SENSOR", "{\"Power\":12}", 1'796'580'000'456, records},
                         out);
  REQUIRE(out.back() == '\n');
  json j = json::parse(out);
  CHECK(j["id"] == 17);
  CHECK(j["topic"] == "tele/plug1/SENSOR");
  CHECK(j["payload"] == "{\"Power\":12}");
  CHECK(!j.contains("payload_base64"));
  CHECK(j["received_at"] == "2026-12-06T18:00:00.456Z");
  REQUIRE(j["records"].size() == 1);
  CHECK(j["records"][0] == json::parse(R"({"device":"plug1","ts":"2026-12-06T18:00:00.123Z",
      "ts_source":"payload","labels":{"site":"a"},"data":{"power":12}})"));
}

TEST_CASE("a payload that is not UTF-8 goes as base64") {
  std::string out;
  AppendTransformRequest({1, "t", std::string("\xff\x00\x01", 3), 0, {}}, out);
  json j = json::parse(out);
  CHECK(j["payload_base64"] == "/wAB");
  CHECK(!j.contains("payload"));
  CHECK(j["records"].empty());
}

TEST_CASE("a reply's records keep the rules' device, ts and labels they leave out") {
  Normalized defaults = Rules();
  uint64_t id = 0;
  json reply;
  std::string error;
  REQUIRE(ParseReplyLine(
      R"({"id":17,"records":[{"data":{"w":1}},{"device":"d2","ts":1796580000999,"data":{}}]})", &id,
      &reply, &error));
  CHECK(id == 17);
  std::vector<Normalized> records;
  REQUIRE(RecordsOfReply(reply, &defaults, 5, &records, &error));
  REQUIRE(records.size() == 2);
  CHECK(records[0].device == "plug1");
  CHECK(records[0].ts_ms == defaults.ts_ms);
  CHECK(records[0].labels == defaults.labels);
  CHECK(records[0].data == json{{"w", 1}});
  CHECK(records[1].device == "d2");
  CHECK(records[1].ts_ms == 1'796'580'000'999);
  CHECK(records[1].ts_from_payload);
}

TEST_CASE("without rules' records, a reply record's ts defaults to the receive time") {
  json reply = json::parse(R"({"id":1,"records":[{"data":{}}]})");
  std::vector<Normalized> records;
  std::string error;
  REQUIRE(RecordsOfReply(reply, nullptr, 1234, &records, &error));
  CHECK(records[0].ts_ms == 1234);
  CHECK(!records[0].ts_from_payload);
  CHECK(records[0].device.empty());
}

TEST_CASE("an error reply and malformed replies say why") {
  std::vector<Normalized> records;
  std::string error;
  CHECK(!RecordsOfReply(json::parse(R"({"id":1,"error":"bad frame"})"), nullptr, 0, &records,
                        &error));
  CHECK(error == "bad frame");
  CHECK(!RecordsOfReply(json::parse(R"({"id":1})"), nullptr, 0, &records, &error));
  CHECK(error.starts_with("bad reply: "));
  CHECK(!RecordsOfReply(json::parse(R"({"id":1,"records":[{"data":[1]}]})"), nullptr, 0, &records,
                        &error));
  CHECK(error == "bad reply: a record's data must be an object (record 0)");
  CHECK(!RecordsOfReply(json::parse(R"({"id":1,"records":[{"ts":"soon","data":{}}]})"), nullptr, 0,
                        &records, &error));
  CHECK(error.find("is not a time") != std::string::npos);
  uint64_t id = 0;
  json reply;
  CHECK(!ParseReplyLine("not json", &id, &reply, &error));
  CHECK(error.starts_with("reply is not a JSON object"));
  CHECK(!ParseReplyLine(R"({"id":-1,"records":[]})", &id, &reply, &error));
  CHECK(!ParseReplyLine(R"({"records":[]})", &id, &reply, &error));
}

}  // namespace
}  // namespace ferry::agent
