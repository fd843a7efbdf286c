// `ferry normalize` and `ferry test-rules` (agent/normalize/rules_cli.h): every example config
// passes its own cases, a failing case prints a diff and exits 1, and normalize explains the
// route it chose.
#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "agent/normalize/rules_cli.h"

namespace ferry::agent {
namespace {

constexpr int64_t kNowMs = 1'795'256'100'000;

struct Output {
  int code;
  std::string out, err;
};

std::string ReadAll(std::FILE* f) {
  std::rewind(f);
  std::string text;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
  std::fclose(f);
  return text;
}

template <typename Command>
Output Run(Command command, const std::vector<std::string>& args) {
  std::FILE* out = std::tmpfile();
  std::FILE* err = std::tmpfile();
  REQUIRE(out != nullptr);
  REQUIRE(err != nullptr);
  Output o;
  o.code = command(args, kNowMs, out, err);
  o.out = ReadAll(out);
  o.err = ReadAll(err);
  return o;
}

std::string Example(const std::string& family) {
  return std::string(FERRY_SOURCE_DIR) + "/config/examples/" + family + ".json";
}

TEST_CASE("every example config passes its own cases") {
  for (const char* family : {"zigbee2mqtt", "tasmota", "shelly_gen1", "shelly_gen2", "ttn_v3",
                             "owntracks", "esphome", "telegraf", "rtl_433", "neuron", "edgex",
                             "chirpstack_v3", "sparkplug", "victron", "theengs_ble", "frigate"}) {
    CAPTURE(family);
    Output o = Run(RunTestRulesCommand, {"--config", Example(family)});
    INFO(o.out << o.err);
    CHECK(o.code == 0);
    CHECK(o.out.find(" 0 failed") != std::string::npos);
  }
}

TEST_CASE("a failing case prints a diff per difference and exits 1") {
  std::string cases = "/tmp/ferry_rules_cli_test.cases.ndjson";
  std::ofstream(cases)
      << R"({"name":"wrong id","topic":"rtl_433/pi/events","received":"2026-11-21T10:15:00Z",)"
      << R"("payload":"{\"model\":\"Acurite-Tower\",\"channel\":\"A\",\"id\":7,\"temperature_C\":21.5}",)"
      << R"("expect":{"record":{"device":"Acurite-Tower-B-7","data":{"temperature_C":21.0,"humidity":40}}}})"
      << "\n"
      << R"({"name":"ok","topic":"rtl_433/pi/events","payload":"{\"model\":\"X\",\"id\":1}",)"
      << R"("expect":{"record":{"device":"X-1"}}})"
      << "\n"
      << R"({"name":"not json","topic":"rtl_433/pi/events","payload":"{",)"
      << R"("expect":{"record":{}}})"
      << "\n";
  Output o = Run(RunTestRulesCommand, {"--config", Example("rtl_433"), "--cases", cases});
  CHECK(o.code == 1);
  CHECK(
      o.out ==
      "FAIL " + cases +
          ":1 wrong id (topic rtl_433/pi/events)\n"
          "  device: expected \"Acurite-Tower-B-7\", got \"Acurite-Tower-A-7\"\n"
          "  data.humidity: expected 40, missing\n"
          "  data.temperature_C: expected 21.0, got 21.5\n"
          "FAIL " +
          cases +
          ":3 not json (topic rtl_433/pi/events)\n"
          "  outcome: expected 1 record(s), got dead letter: invalid JSON at byte 2: syntax error "
          "while parsing object key - unexpected end of input; expected string literal\n"
          "1 passed, 2 failed\n");
}

TEST_CASE("a cases file that is not cases is an error, exit 2") {
  std::string cases = "/tmp/ferry_rules_cli_test_bad.cases.ndjson";
  std::ofstream(cases) << "{\"topic\":\"a\"}\n";
  Output o = Run(RunTestRulesCommand, {"--config", Example("rtl_433"), "--cases", cases});
  CHECK(o.code == 2);
  CHECK(o.err.find(":1: a case is") != std::string::npos);
  CHECK(Run(RunTestRulesCommand, {"--config", "/nonexistent.json"}).code == 2);
}

TEST_CASE("normalize prints why earlier routes did not apply, then the records") {
  Output o = Run(RunNormalizeCommand,
                 {"--config", Example("neuron"), "--topic", "/neuron/mqtt/heartbeat", "--received",
                  "2026-11-21T10:15:00Z", "--payload",
                  R"({"timestamp":1658134132237,"states":[{"node":"a"},{"node":"b"}]})"});
  CHECK(o.code == 0);
  CHECK(
      o.out ==
      "route 0 (topic \"+/neuron/+/read/#\"): topic does not match\n"
      "route 1 (topic \"+/neuron/+/write/#\"): topic does not match\n"
      "route 2 (topic \"/neuron/{app}/heartbeat\") applies\n"
      R"({"device":"a","ts":"2022-07-18T08:48:52.237Z","ts_source":"payload","labels":{"app":"mqtt","kind":"heartbeat"},"data":{"node":"a","timestamp":1658134132237}})"
      "\n"
      R"({"device":"b","ts":"2022-07-18T08:48:52.237Z","ts_source":"payload","labels":{"app":"mqtt","kind":"heartbeat"},"data":{"node":"b","timestamp":1658134132237}})"
      "\n");
}

TEST_CASE("normalize prints the dead-letter reason and exits 1; --hex gives raw bytes") {
  Output o = Run(RunNormalizeCommand,
                 {"--config", Example("rtl_433"), "--topic", "rtl_433/pi/events", "--hex", "c328"});
  CHECK(o.code == 1);
  CHECK(o.out.ends_with("dead letter: payload is not valid UTF-8 (byte 0)\n"));
  CHECK(Run(RunNormalizeCommand, {"--config", Example("rtl_433"), "--topic", "t", "--hex", "c"})
            .code == 2);
  CHECK(Run(RunNormalizeCommand, {"--config", Example("rtl_433"), "--topic", "t"}).code == 2);
}

}  // namespace
}  // namespace ferry::agent
