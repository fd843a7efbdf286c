// Sparkplug B: the decoder (real payloads, every data type family, hostile protobuf), the
// records a message makes, and the BIRTH definitions across a restart of the queue.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "agent/normalize/normalizer.h"
#include "agent/sparkplug/sparkplug_payload.h"
#include "agent/sparkplug/sparkplug_topic.h"
#include "support/temp_dir.h"
#include "support/test_queue.h"

namespace ferry::agent {
namespace {

using nlohmann::json;

constexpr int64_t kReceivedMs = 1'795'256'100'000;  // 2026-11-21T10:15:00Z

std::string Unhex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  }
  return out;
}

// A minimal protobuf writer for hand-made payloads.
std::string Varint(uint64_t v) {
  std::string out;
  while (v >= 0x80) {
    out += static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  return out + static_cast<char>(v);
}
std::string Field(int number, uint64_t v) { return Varint(uint64_t(number) << 3) + Varint(v); }
std::string Bytes(int number, const std::string& b) {
  return Varint((uint64_t(number) << 3) | 2) + Varint(b.size()) + b;
}

// Test vectors of benthos-umh (united-manufacturing-hub/benthos-umh,
// sparkplug_plugin/test_vectors.go: NBIRTH_V1, NDATA_V1, NDEATH_V1), made by the Go protobuf
// encoder from the official sparkplug_b.proto; here as hex
// (tests/fixtures/devices/sparkplug.ndjson).
const std::string kNBirth = Unhex(
    "08d2e283b9fa32120d0a056264536571100120085858121c0a144e6f646520436f6e74726f6c2f52656269727468"
    "1002200b7000121a0a0b54656d70657261747572651064200a6900000000008035401800");
const std::string kNData = Unhex("08d2e283b9fa32120d1064200a6900000000008036401801");
const std::string kNDeath = Unhex("08d2e283b9fa32120d0a0562645365711000200858001800");

struct Run {
  Outcome outcome;
  std::vector<Normalized> records;
  std::string reason;
  DeadLetterCode code = DeadLetterCode::kInvalidMessage;  // a dead letter's
};

Run Normalize(const Normalizer& n, std::string_view topic, std::string_view payload) {
  Run run;
  Normalized first;
  std::vector<Normalized> more;
  DeadLetterReason why;
  run.outcome = n.Normalize({topic, payload, kReceivedMs}, &first, &why, &more);
  run.reason = why.text;
  run.code = why.code;
  if (run.outcome == Outcome::kRecord) {
    run.records.push_back(std::move(first));
    for (Normalized& m : more) run.records.push_back(std::move(m));
  }
  return run;
}

TEST_CASE("sparkplug topics are parsed by their levels") {
  auto d = ParseSparkplugTopic("spBv1.0/plant1/DDATA/edge1/press1");
  REQUIRE(d);
  CHECK(d->group == "plant1");
  CHECK(d->node == "edge1");
  CHECK(d->device == "press1");
  CHECK(d->kind == SparkplugKind::kData);
  CHECK(ParseSparkplugTopic("spBv1.0/g/NCMD/n")->kind == SparkplugKind::kCommand);
  CHECK_FALSE(ParseSparkplugTopic("spBv1.0/g/NDATA/n/d"));  // a node message with a device
  CHECK_FALSE(ParseSparkplugTopic("spBv1.0/g/DDATA/n"));    // a device message without one
  CHECK_FALSE(ParseSparkplugTopic("spBv1.0/g/XDATA/n"));
  CHECK_FALSE(ParseSparkplugTopic("spBv1.0//NDATA/n"));
  CHECK(IsSparkplugTopic("spBv1.0/g/NDATA/n"));
  CHECK_FALSE(IsSparkplugTopic("spBv1.0/STATE/host"));  // JSON in Sparkplug 3.0
  CHECK_FALSE(IsSparkplugTopic("spAv1.0/g/NDATA/n"));
}

TEST_CASE("a real NBIRTH defines the alias a real NDATA uses; NDEATH is a state record") {
  Normalizer n({});
  Run birth = Normalize(n, "spBv1.0/factory/NBIRTH/edge1", kNBirth);
  REQUIRE(birth.outcome == Outcome::kRecord);
  REQUIRE(birth.records.size() == 1);
  const Normalized& b = birth.records[0];
  CHECK(b.device == "factory/edge1");
  CHECK(b.data == json::parse(R"({"bdSeq":88,"Node Control/Rebirth":false,"Temperature":21.5,
                                 "_seq":0,"_state":"online"})"));
  CHECK(b.labels.at("sparkplug_group") == "factory");
  CHECK(b.labels.at("sparkplug_node") == "edge1");
  CHECK(b.labels.at("sparkplug_type") == "NBIRTH");
  CHECK(b.ts_from_payload);
  CHECK(b.ts_ms == 1'750'855'643'474);  // 2025-06-25T12:47:23.474Z

  Run data = Normalize(n, "spBv1.0/factory/NDATA/edge1", kNData);
  REQUIRE(data.outcome == Outcome::kRecord);
  CHECK(data.records[0].data == json::parse(R"({"Temperature":22.5,"_seq":1})"));

  Run death = Normalize(n, "spBv1.0/factory/NDEATH/edge1", kNDeath);
  REQUIRE(death.outcome == Outcome::kRecord);
  CHECK(death.records[0].data == json::parse(R"({"bdSeq":0,"_seq":0,"_state":"offline"})"));
}

TEST_CASE("a DATA whose alias no BIRTH defined is dead-lettered, and resolves after the BIRTH") {
  Normalizer n({});
  Run data = Normalize(n, "spBv1.0/factory/NDATA/edge1", kNData);
  CHECK(data.outcome == Outcome::kDeadLetter);
  CHECK(data.reason == "sparkplug: unknown alias 100 in factory/edge1 (no BIRTH defined it)");
  REQUIRE(Normalize(n, "spBv1.0/factory/NBIRTH/edge1", kNBirth).outcome == Outcome::kRecord);
  CHECK(Normalize(n, "spBv1.0/factory/NDATA/edge1", kNData).outcome == Outcome::kRecord);
  // Aliases are per node and device: the same alias of another node is still unknown.
  CHECK(Normalize(n, "spBv1.0/factory/NDATA/edge2", kNData).outcome == Outcome::kDeadLetter);
}

TEST_CASE("values are typed by the datatype the BIRTH gave, also when DATA leaves it out") {
  Normalizer n({});
  // DBIRTH: Int8 "level" alias 1 = -1 (int_value 0xFFFFFFFF), Int64 "count" alias 2.
  std::string m1 = Bytes(1, "level") + Field(2, 1) + Field(4, kSpInt8) + Field(10, 0xFFFFFFFFu);
  std::string m2 =
      Bytes(1, "count") + Field(2, 2) + Field(4, kSpInt64) + Field(11, static_cast<uint64_t>(-5));
  std::string birth = Field(1, 1'795'256'000'000) + Bytes(2, m1) + Bytes(2, m2) + Field(3, 0);
  Run b = Normalize(n, "spBv1.0/g/DBIRTH/n/d", birth);
  REQUIRE(b.outcome == Outcome::kRecord);
  CHECK(b.records[0].data["level"] == -1);
  CHECK(b.records[0].data["count"] == -5);
  // DDATA by alias only, no datatype: the BIRTH's types apply.
  std::string d1 = Field(2, 1) + Field(10, 0xFEu);
  std::string d2 = Field(2, 2) + Field(11, static_cast<uint64_t>(-7));
  Run d = Normalize(n, "spBv1.0/g/DDATA/n/d",
                    Field(1, 1'795'256'001'000) + Bytes(2, d1) + Bytes(2, d2) + Field(3, 1));
  REQUIRE(d.outcome == Outcome::kRecord);
  CHECK(d.records[0].device == "g/n/d");
  CHECK(d.records[0].data == json::parse(R"({"level":-2,"count":-7,"_seq":1})"));
}

TEST_CASE("each metric timestamp makes its own record") {
  Normalizer n({});
  std::string a = Bytes(1, "a") + Field(3, 1'795'256'000'000) + Field(4, kSpBoolean) + Field(14, 1);
  std::string b =
      Bytes(1, "b") + Field(3, 1'795'256'001'000) + Field(4, kSpString) + Bytes(15, "on");
  Run r = Normalize(n, "spBv1.0/g/NDATA/n", Bytes(2, a) + Bytes(2, b) + Field(3, 9));
  REQUIRE(r.outcome == Outcome::kRecord);
  REQUIRE(r.records.size() == 2);
  CHECK(r.records[0].ts_ms == 1'795'256'000'000);
  CHECK(r.records[0].data == json::parse(R"({"a":true,"_seq":9})"));
  CHECK(r.records[1].ts_ms == 1'795'256'001'000);
  CHECK(r.records[1].data == json::parse(R"({"b":"on","_seq":9})"));
}

TEST_CASE("datasets, templates, arrays and bytes become JSON") {
  std::string row = Bytes(4, Bytes(1, Field(1, 7)) + Bytes(1, Bytes(6, "x")));
  std::string ds =
      Field(1, 2) + Bytes(2, "n") + Bytes(2, "s") + Field(3, kSpInt32) + Field(3, kSpString) + row;
  std::string inner = Bytes(1, "speed") + Field(4, kSpDouble) + Varint((13 << 3) | 1) +
                      std::string("\0\0\0\0\0\0\x24\x40", 8);  // 10.0
  std::string tmpl = Bytes(4, "Motor") + Bytes(2, inner);
  std::string arr = std::string("\x01\x00\xff\xff", 4);  // Int16Array [1, -1]
  std::string payload = Bytes(2, Bytes(1, "table") + Field(4, kSpDataSet) + Bytes(17, ds)) +
                        Bytes(2, Bytes(1, "motor") + Field(4, kSpTemplate) + Bytes(18, tmpl)) +
                        Bytes(2, Bytes(1, "arr") + Field(4, 23) + Bytes(16, arr)) +
                        Bytes(2, Bytes(1, "raw") + Field(4, kSpBytes) + Bytes(16, "hi")) +
                        Bytes(2, Bytes(1, "none") + Field(4, kSpDouble) + Field(7, 1));
  SparkplugPayload p;
  std::string reason;
  REQUIRE(DecodeSparkplug(payload, &p, &reason));
  REQUIRE(p.metrics.size() == 5);
  CHECK(p.metrics[0].value == json::parse(R"({"columns":["n","s"],"rows":[[7,"x"]]})"));
  CHECK(p.metrics[1].value == json::parse(R"({"template_ref":"Motor","metrics":{"speed":10.0}})"));
  CHECK(p.metrics[2].value == json::parse("[1,-1]"));
  CHECK(p.metrics[3].value == "aGk=");
  CHECK(p.metrics[4].value.is_null());
}

TEST_CASE("hostile protobuf is refused with a reason, never a crash") {
  SparkplugPayload p;
  std::string reason;
  // Every truncation of a real payload: decoded or refused.
  for (size_t len = 0; len < kNBirth.size(); ++len) {
    bool ok = DecodeSparkplug(std::string_view(kNBirth).substr(0, len), &p, &reason);
    if (!ok) CHECK(reason == "sparkplug: invalid protobuf");
  }
  // A length far past the end.
  CHECK_FALSE(DecodeSparkplug(Varint((2 << 3) | 2) + Varint(0xFFFFFFFFull) + "ab", &p, &reason));
  CHECK(reason == "sparkplug: invalid protobuf");
  // The metrics field with a wrong wire type (varint).
  CHECK_FALSE(DecodeSparkplug(Field(2, 5), &p, &reason));
  // Templates nested 5000 deep, and property sets too: refused before decoding.
  std::string metric = Bytes(1, "m");
  for (int i = 0; i < 5000; ++i) metric = Bytes(18, Bytes(2, metric));
  CHECK_FALSE(DecodeSparkplug(Bytes(2, metric), &p, &reason));
  CHECK(reason == "sparkplug: nested deeper than 16 levels");
  std::string set;
  for (int i = 0; i < 5000; ++i) set = Bytes(2, Bytes(9, set));
  CHECK_FALSE(DecodeSparkplug(Bytes(2, Bytes(9, set)), &p, &reason));
  CHECK(reason == "sparkplug: nested deeper than 16 levels");
  // Nesting within the bound decodes.
  std::string ok = Bytes(1, "m") + Field(4, kSpInt32) + Field(10, 3);
  for (int i = 0; i < 5; ++i) ok = Bytes(1, "t") + Bytes(18, Bytes(2, ok));
  CHECK(DecodeSparkplug(Bytes(2, ok), &p, &reason));
  // A metric with neither name nor alias.
  Normalizer n({});
  Run r = Normalize(n, "spBv1.0/g/NDATA/n", Bytes(2, Field(10, 1)));
  CHECK(r.outcome == Outcome::kDeadLetter);
  CHECK(r.reason == "sparkplug: a metric has neither a name nor an alias");
  // A topic outside the Sparkplug shape, under a route that says "sparkplug".
  Route route;
  route.topic = "plc/#";
  route.payload = PayloadMode::kSparkplug;
  Normalizer forced({route});
  CHECK(Normalize(forced, "plc/x", kNData).reason ==
        "sparkplug: the topic is not spBv1.0/<group>/<type>/<node>[/<device>]");
}

TEST_CASE("BIRTH definitions are kept with the queue and resolve DATA after a restart") {
  testing::TempDir dir;
  platform::FakeClock clock;
  std::vector<storage::SparkplugMetricRow> learnt;
  {
    Normalizer n({});
    REQUIRE(Normalize(n, "spBv1.0/factory/NBIRTH/edge1", kNBirth).outcome == Outcome::kRecord);
    learnt = n.sparkplug_state().TakePending();
    CHECK(learnt.size() == 3);
    CHECK(n.sparkplug_state().TakePending().empty());
    // A rebirth with the same definitions writes nothing new.
    REQUIRE(Normalize(n, "spBv1.0/factory/NBIRTH/edge1", kNBirth).outcome == Outcome::kRecord);
    CHECK(n.sparkplug_state().TakePending().empty());
    auto queue = testing::OpenTestQueue(dir.File("q.db"), clock);
    storage::AppendRequest req;
    req.sparkplug_metrics = learnt;
    REQUIRE(queue->Append(req).ok());
  }
  auto queue = testing::OpenTestQueue(dir.File("q.db"), clock);
  auto rows = queue->LoadSparkplugMetrics();
  REQUIRE(rows.ok());
  CHECK(rows->size() == 3);
  auto state = std::make_shared<SparkplugState>();
  state->Load(*rows);
  Normalizer n({});
  n.set_sparkplug_state(state);
  Run data = Normalize(n, "spBv1.0/factory/NDATA/edge1", kNData);
  REQUIRE(data.outcome == Outcome::kRecord);
  CHECK(data.records[0].data == json::parse(R"({"Temperature":22.5,"_seq":1})"));
}

}  // namespace
}  // namespace ferry::agent
