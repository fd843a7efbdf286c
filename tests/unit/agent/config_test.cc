#include "agent/config/config.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/config/config_schema.h"
#include "platform/file.h"

namespace ferry::agent {
namespace {

using nlohmann::json;

// The contract's example, verbatim: the core keys.
constexpr const char* kCoreConfig = R"({
  "gateway": { "id": "gw-0042", "labels": { "site": "plant-7" } },
  "storage": { "path": "/var/lib/ferry/queue.db", "max_size": "256MiB" },
  "mqtt": {
    "host": "127.0.0.1", "port": 1883, "client_id": "ferry-gw-0042",
    "subscriptions": [ { "topic": "zigbee2mqtt/+", "qos": 1 } ]
  },
  "upstream": { "url": "http://127.0.0.1:8080/v1/batches" },
  "status": { "listen": "127.0.0.1:7070" }
})";

json CoreJson() { return json::parse(kCoreConfig); }

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1) {
    out.push_back(text.substr(start, end - start));
  }
  out.push_back(text.substr(start));
  return out;
}

// The error lines of parsing the core config with `value` put at `pointer`.
std::vector<std::string> ErrorsWith(const std::string& pointer, const json& value) {
  json doc = CoreJson();
  doc[json::json_pointer(pointer)] = value;
  auto result = ParseConfig(doc.dump());
  if (result.ok()) return {};
  CHECK(result.status().code() == platform::Code::kInvalidArgument);
  return Lines(result.status().message());
}

std::string WriteTemp(const std::string& name, const std::string& text) {
  std::string path = "/tmp/ferry_config_test_" + name;
  std::ofstream(path) << text;
  return path;
}

TEST_CASE("a file with only the contract's core keys is complete and the rest are defaults") {
  auto result = ParseConfig(kCoreConfig);
  REQUIRE_MESSAGE(result.ok(), result.status().message());
  const Config& c = *result;
  const Config d;
  CHECK(c.gateway.id == "gw-0042");
  CHECK(c.gateway.labels == std::map<std::string, std::string>{{"site", "plant-7"}});
  CHECK(c.storage.path == "/var/lib/ferry/queue.db");
  CHECK(c.storage.max_size == 256ull << 20);
  CHECK(c.mqtt.host == "127.0.0.1");
  CHECK(c.mqtt.port == 1883);
  CHECK(c.mqtt.client_id == "ferry-gw-0042");
  REQUIRE(c.mqtt.subscriptions.size() == 1);
  CHECK(c.mqtt.subscriptions[0].topic == "zigbee2mqtt/+");
  CHECK(c.mqtt.subscriptions[0].qos == 1);
  CHECK(c.upstream.url == "http://127.0.0.1:8080/v1/batches");
  CHECK(c.status.listen == "127.0.0.1:7070");
  // Not in the file: the declared defaults, which must agree with config.h.
  CHECK(c.storage.sync == d.storage.sync);
  CHECK(c.storage.commit_max_records == d.storage.commit_max_records);
  CHECK(c.storage.compression_level == d.storage.compression_level);
  CHECK(c.mqtt.keepalive_ms == d.mqtt.keepalive_ms);
  CHECK(c.mqtt.username.empty());
  CHECK(c.mqtt.password.empty());
  CHECK(c.mqtt.reconnect_min_ms == d.mqtt.reconnect_min_ms);
  CHECK(c.mqtt.reconnect_max_ms == d.mqtt.reconnect_max_ms);
  CHECK(c.mqtt.max_payload == d.mqtt.max_payload);
  CHECK(c.upstream.token.empty());
  CHECK(c.upstream.timeout_ms == d.upstream.timeout_ms);
  CHECK(c.upstream.batch_max_records == d.upstream.batch_max_records);
  CHECK(c.upstream.batch_max_bytes == d.upstream.batch_max_bytes);
  CHECK(c.upstream.batch_linger_ms == d.upstream.batch_linger_ms);
  CHECK(c.upstream.compression_level == d.upstream.compression_level);
  CHECK(c.upstream.backoff_initial_ms == d.upstream.backoff_initial_ms);
  CHECK(c.upstream.backoff_max_ms == d.upstream.backoff_max_ms);
  CHECK(c.log.level == d.log.level);
  CHECK(c.log.format == d.log.format);
  CHECK(c.routes.empty());
}

TEST_CASE("declared defaults equal the initial values in config.h") {
  auto result = ParseConfig(
      R"({"gateway": {"id": "g"}, "mqtt": {"subscriptions": [{"topic": "#"}]},
          "upstream": {"url": "http://h/"}})");
  REQUIRE_MESSAGE(result.ok(), result.status().message());
  Config expected;
  expected.gateway.id = "g";
  expected.mqtt.client_id = "ferry-g";
  expected.mqtt.subscriptions = {Subscription{"#", 1}};
  expected.upstream.url = "http://h/";
  // Compare through a JSON rendering so that a forgotten field shows up.
  auto render = [](const Config& c) {
    return json{
        {"storage",
         {c.storage.path, c.storage.max_size, c.storage.sync, c.storage.commit_max_records,
          c.storage.compression_level}},
        {"mqtt",
         {c.mqtt.host, c.mqtt.port, c.mqtt.client_id, c.mqtt.keepalive_ms, c.mqtt.username,
          c.mqtt.password, c.mqtt.reconnect_min_ms, c.mqtt.reconnect_max_ms, c.mqtt.max_payload}},
        {"upstream",
         {c.upstream.url, c.upstream.token, c.upstream.timeout_ms, c.upstream.batch_max_records,
          c.upstream.batch_max_bytes, c.upstream.batch_linger_ms, c.upstream.compression_level,
          c.upstream.backoff_initial_ms, c.upstream.backoff_max_ms}},
        {"status", c.status.listen},
        {"log", {c.log.level, c.log.format}},
        {"labels", c.gateway.labels}};
  };
  CHECK(render(*result).dump() == render(expected).dump());
}

TEST_CASE("mqtt.client_id defaults to ferry-<gateway.id> and an explicit one is kept") {
  json doc = CoreJson();
  doc["mqtt"].erase("client_id");
  doc["gateway"]["id"] = "edge_7";
  auto derived = ParseConfig(doc.dump());
  REQUIRE(derived.ok());
  CHECK(derived->mqtt.client_id == "ferry-edge_7");
  doc["mqtt"]["client_id"] = "custom";
  auto kept = ParseConfig(doc.dump());
  REQUIRE(kept.ok());
  CHECK(kept->mqtt.client_id == "custom");
}

TEST_CASE("the example configs in config/ load") {
#ifdef FERRY_SOURCE_DIR
  for (const char* name : {"ferry.json", "minimal.json"}) {
    CAPTURE(name);
    auto result = LoadConfig(std::string(FERRY_SOURCE_DIR) + "/config/" + name);
    CHECK_MESSAGE(result.ok(), result.status().message());
  }
  auto ferry = LoadConfig(std::string(FERRY_SOURCE_DIR) + "/config/ferry.json");
  REQUIRE(ferry.ok());
  REQUIRE(ferry->routes.size() == 1);
  CHECK(ferry->routes[0].topic == "zigbee2mqtt/{device}");
  CHECK(ferry->routes[0].time.field == "last_seen");
#endif
}

TEST_CASE("routes are read in order with their defaults") {
  json doc = CoreJson();
  doc["routes"] = json::parse(R"([
    {"topic": "zigbee2mqtt/bridge/#", "ignore": true},
    {"topic": "shellies/{device}/sensor/+", "payload": "text", "value_field": "reading",
     "device_field": "src", "time": {"field": "params.ts", "format": "epoch_s"},
     "labels": {"vendor": "shelly"}}
  ])");
  auto result = ParseConfig(doc.dump());
  REQUIRE_MESSAGE(result.ok(), result.status().message());
  REQUIRE(result->routes.size() == 2);
  const Route& first = result->routes[0];
  CHECK(first.ignore);
  CHECK(first.payload == PayloadMode::kAuto);
  CHECK(first.value_field == "value");
  CHECK(first.device_field.empty());
  CHECK(first.time.field.empty());
  CHECK(first.time.format == TimeFormat::kAuto);
  const Route& second = result->routes[1];
  CHECK_FALSE(second.ignore);
  CHECK(second.topic == "shellies/{device}/sensor/+");
  CHECK(second.payload == PayloadMode::kText);
  CHECK(second.value_field == "reading");
  CHECK(second.device_field == "src");
  CHECK(second.time.field == "params.ts");
  CHECK(second.time.format == TimeFormat::kEpochS);
  CHECK(second.labels.at("vendor") == "shelly");
}

TEST_CASE("batch max_records out of range gives the contract's exact message") {
  for (int bad : {0, 1'000'001}) {
    CHECK(ErrorsWith("/upstream/batch/max_records", bad) ==
          std::vector<std::string>{"/upstream/batch/max_records: must be between 1 and 1000000"});
  }
}

TEST_CASE("each bad value's error names its key path and what is allowed") {
  struct Case {
    const char* pointer;
    json value;
    const char* error;
  };
  const std::vector<Case> cases = {
      {"/gateway/id", "", "/gateway/id: must be between 1 and 64 characters"},
      {"/gateway/id", std::string(65, 'a'), "/gateway/id: must be between 1 and 64 characters"},
      {"/gateway/id", "gw 1", "/gateway/id: may hold only letters A-Z a-z, digits, '_' and '-'"},
      {"/gateway/id", 42, "/gateway/id: expected a string"},
      {"/gateway/labels", json{{"a", 1}},
       "/gateway/labels: expected an object of strings; \"a\" is not"},
      {"/storage/path", "", "/storage/path: must not be empty"},
      {"/storage/max_size", "lots", "/storage/max_size: expected a size like \"64MiB\""},
      {"/storage/max_size", -5, "/storage/max_size: expected a size like \"64MiB\""},
      {"/storage/max_size", "1KiB", "/storage/max_size: must be at least 1MiB"},
      {"/storage/sync", "fast", "/storage/sync: expected one of \"full\", \"normal\""},
      {"/storage/commit_max_records", 100'001,
       "/storage/commit_max_records: must be between 1 and 100000"},
      {"/storage/compression_level", 0, "/storage/compression_level: must be between 1 and 19"},
      {"/mqtt/host", "", "/mqtt/host: must not be empty"},
      {"/mqtt/port", 70'000, "/mqtt/port: must be between 1 and 65535"},
      {"/mqtt/port", "1883", "/mqtt/port: expected an integer"},
      {"/mqtt/port", 1883.5, "/mqtt/port: expected an integer"},
      {"/mqtt/port", 18446744073709551615ull, "/mqtt/port: must be between 1 and 65535"},
      {"/mqtt/client_id", "", "/mqtt/client_id: must be between 1 and 256 characters"},
      {"/mqtt/keepalive", "1s", "/mqtt/keepalive: must be between 5s and 1h"},
      {"/mqtt/keepalive", 30, "/mqtt/keepalive: expected a duration like \"30s\""},
      {"/mqtt/subscriptions", json::array(), "/mqtt/subscriptions: must not be empty"},
      {"/mqtt/subscriptions", "x/y", "/mqtt/subscriptions: expected a list"},
      {"/mqtt/subscriptions/0", "x/y", "/mqtt/subscriptions/0: expected an object"},
      {"/mqtt/subscriptions/0/qos", 2, "/mqtt/subscriptions/0/qos: must be between 0 and 1"},
      {"/mqtt/subscriptions/0/topic", "", "/mqtt/subscriptions/0/topic: must not be empty"},
      {"/mqtt/subscriptions/0/topic", "a/#/b",
       "/mqtt/subscriptions/0/topic: '#' may only be the last topic level"},
      {"/mqtt/subscriptions/0/topic", "a/b+",
       "/mqtt/subscriptions/0/topic: '+' and '#' must fill a whole topic level"},
      {"/mqtt/max_payload", "512MiB", "/mqtt/max_payload: must be between 1 and 256MiB"},
      {"/mqtt/reconnect_max", "100ms",
       "/mqtt/reconnect_max: must be at least /mqtt/reconnect_min (500ms)"},
      {"/upstream/url", "ftp://host/x", "/upstream/url: must be an http:// or https:// URL"},
      {"/upstream/url", "http://", "/upstream/url: must be an http:// or https:// URL"},
      {"/upstream/url", "127.0.0.1:8080", "/upstream/url: must be an http:// or https:// URL"},
      {"/upstream/timeout", "-1s", "/upstream/timeout: expected a duration like \"30s\""},
      {"/upstream/batch/max_bytes", "512MiB",
       "/upstream/batch/max_bytes: must be between 1KiB and 256MiB"},
      {"/upstream/batch/linger", "2h", "/upstream/batch/linger: must be between 0s and 1h"},
      {"/upstream/compression_level", 20, "/upstream/compression_level: must be between 0 and 19"},
      {"/upstream/backoff/max", "500ms",
       "/upstream/backoff/max: must be at least /upstream/backoff/initial (1s)"},
      {"/upstream/batch", 5, "/upstream/batch: expected an object"},
      {"/status/listen", "7070", "/status/listen: must be HOST:PORT"},
      {"/status/listen", "127.0.0.1:65536", "/status/listen: must be HOST:PORT"},
      {"/log/level", "verbose", "/log/level: expected one of \"debug\", \"info\", \"warn\""},
      {"/log/format", true, "/log/format: expected one of \"text\", \"json\""},
      {"/routes", "x", "/routes: expected a list"},
      {"/routes/0", json{{"ignore", true}}, "/routes/0/topic: required"},
      {"/routes/0", json{{"topic", "a/#/b"}}, "/routes/0/topic: "},
      {"/routes/0", json{{"topic", "a"}, {"ignore", "yes"}},
       "/routes/0/ignore: expected true or false"},
      {"/routes/0", json{{"topic", "a"}, {"payload", "xml"}},
       "/routes/0/payload: expected one of \"auto\", \"json\", \"text\""},
      {"/routes/0", json{{"topic", "a"}, {"time", {{"format", "epoch_min"}}}},
       "/routes/0/time/format: expected one of \"auto\", \"rfc3339\""},
      {"/routes/0", json{{"topic", "a"}, {"device_field", "a..b"}},
       "/routes/0/device_field: must be a dotted path"},
      {"/routes/0", json{{"topic", "a"}, {"time", "ts"}}, "/routes/0/time: expected an object"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.pointer);
    CAPTURE(c.value.dump());
    std::vector<std::string> errors = ErrorsWith(c.pointer, c.value);
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].starts_with(c.error));
  }
}

TEST_CASE("missing required keys are all reported") {
  auto result = ParseConfig("{}");
  REQUIRE_FALSE(result.ok());
  CHECK(Lines(result.status().message()) ==
        std::vector<std::string>{"/gateway/id: required", "/mqtt/subscriptions: required",
                                 "/upstream/url: required"});
}

TEST_CASE("unknown keys are errors naming their path") {
  json doc = CoreJson();
  doc["upstream"]["batchx"] = 1;
  doc["upstream"]["batch"]["max_recordz"] = 5;
  doc["colour"] = "blue";
  doc["mqtt"]["subscriptions"][0]["retain"] = true;
  doc["routes"] = json::array({{{"topic", "a/b"}, {"time", {{"zone", "UTC"}}}}});
  doc["gateway"]["a/b"] = 1;
  auto result = ParseConfig(doc.dump());
  REQUIRE_FALSE(result.ok());
  std::vector<std::string> errors = Lines(result.status().message());
  std::sort(errors.begin(), errors.end());
  CHECK(errors == std::vector<std::string>{
                      "/colour: unknown key",
                      "/gateway/a~1b: unknown key",
                      "/mqtt/subscriptions/0/retain: unknown key",
                      "/routes/0/time/zone: unknown key",
                      "/upstream/batch/max_recordz: unknown key",
                      "/upstream/batchx: unknown key",
                  });
}

TEST_CASE("a member name repeated in one object is an error naming its path") {
  auto result = ParseConfig(R"({
    "gateway": {"id": "a", "id": "b"},
    "mqtt": {"subscriptions": [{"topic": "x"}, {"topic": "y", "qos": 0, "qos": 1}]},
    "upstream": {"url": "http://h/", "batch": {"linger": "1s"}},
    "upstream": {"url": "http://h/"}
  })");
  REQUIRE_FALSE(result.ok());
  CHECK(Lines(result.status().message()) ==
        std::vector<std::string>{"/gateway/id: duplicate key",
                                 "/mqtt/subscriptions/1/qos: duplicate key",
                                 "/upstream: duplicate key"});
}

TEST_CASE("every declared key has a setter and a line of help") {
  auto check = [](const auto& keys) {
    for (const auto& key : keys) {
      CAPTURE(key.info.path);
      CHECK((key.set != nullptr));
      CHECK_FALSE(key.info.help.empty());
      CHECK(key.info.path.starts_with("/"));
      CHECK((key.info.type != schema::KeyType::kEnum || !key.info.allowed.empty()));
    }
  };
  check(schema::KeysOf<Config>());
  check(schema::KeysOf<Subscription>());
  check(schema::KeysOf<Route>());
}

TEST_CASE("every problem is reported, one line each, each starting with its path") {
  json doc = CoreJson();
  doc["mqtt"]["port"] = 0;
  doc["log"] = {{"level", "loud"}};
  doc["upstream"]["batchx"] = 1;
  auto result = ParseConfig(doc.dump());
  REQUIRE_FALSE(result.ok());
  std::vector<std::string> errors = Lines(result.status().message());
  CHECK(errors.size() == 3);
  for (const auto& line : errors) CHECK(line.starts_with("/"));
}

TEST_CASE("comments are allowed") {
  std::string text = std::string("// leading comment\n/* block\n comment */\n") + kCoreConfig;
  text.insert(text.find("\"storage\""), "/* inline */ // to end of line\n");
  auto result = ParseConfig(text);
  CHECK_MESSAGE(result.ok(), result.status().message());
}

TEST_CASE("a syntax error gives its line and column") {
  struct Case {
    const char* text;
    const char* prefix;
  };
  const std::vector<Case> cases = {
      {"{\n  \"gateway\": {\"id\": \"x\"},\n  \"mqtt\": }\n", "line 3, column 11: syntax error"},
      {"// comment\n{\n  \"a\": 1,\n}\n", "line 4, column 1: syntax error"},
      {"{\"a\": 1} trailing", "line 1, column 12: syntax error"},
      {"{\"a\": 1", "line 1, column 8: syntax error"},
      {"", "line 1, column 1: syntax error"},
  };
  for (const Case& c : cases) {
    std::string text = c.text;
    CAPTURE(text);
    auto result = ParseConfig(text);
    REQUIRE_FALSE(result.ok());
    CHECK(result.status().code() == platform::Code::kInvalidArgument);
    CHECK_MESSAGE(result.status().message().starts_with(c.prefix), result.status().message());
  }
}

TEST_CASE("a top level that is not an object is an error") {
  auto result = ParseConfig("[1, 2]");
  REQUIRE_FALSE(result.ok());
  CHECK(result.status().message() == "top level: expected a JSON object");
}

TEST_CASE("LoadConfig prefixes every error line with the file path") {
  std::string path = WriteTemp("bad.json", R"({"gateway": {"id": "g"}, "bogus": 1})");
  auto result = LoadConfig(path);
  REQUIRE_FALSE(result.ok());
  CHECK(result.status().code() == platform::Code::kInvalidArgument);
  std::vector<std::string> lines = Lines(result.status().message());
  CHECK(lines.size() == 3);
  for (const auto& line : lines) CHECK(line.starts_with(path + ": /"));
  CHECK(platform::RemoveFile(path).ok());
}

TEST_CASE("LoadConfig of a missing file names the path and keeps the code") {
  auto result = LoadConfig("/nonexistent/ferry.json");
  REQUIRE_FALSE(result.ok());
  CHECK(result.status().code() == platform::Code::kNotFound);
  CHECK(result.status().message().starts_with("/nonexistent/ferry.json: "));
}

TEST_CASE("the Markdown reference lists every declared key once") {
  std::string markdown = ConfigReferenceMarkdown();
  std::vector<std::string> paths = ConfigKeyPaths();
  CHECK(paths.size() > 30);
  for (const std::string& path : paths) {
    CAPTURE(path);
    std::string cell = "| `" + path + "` |";
    CHECK(markdown.find(cell) != std::string::npos);
    CHECK(markdown.find(cell) == markdown.rfind(cell));
  }
  for (const char* path :
       {"/gateway/id", "/upstream/batch/max_records", "/mqtt/subscriptions/*/qos",
        "/routes/*/time/format", "/routes/*/labels", "/status/listen"}) {
    CAPTURE(path);
    CHECK(std::find(paths.begin(), paths.end(), path) != paths.end());
  }
  CHECK(markdown.find("| `/upstream/batch/max_records` | integer | `50000` | 1 to 1000000 |") !=
        std::string::npos);
  CHECK(markdown.find("| `/mqtt/keepalive` | duration | `30s` | 5s to 1h |") != std::string::npos);
  CHECK(markdown.find("| `/gateway/id` | string | required |") != std::string::npos);
  CHECK(markdown.find("| `/mqtt/client_id` | string | `ferry-<gateway.id>` |") !=
        std::string::npos);
  // One header, one separator, one row per key.
  CHECK(Lines(markdown).size() == paths.size() + 3);  // the text ends with '\n'
}

TEST_CASE("durations parse as a whole number and a unit") {
  const std::vector<std::pair<const char*, int64_t>> good = {
      {"0ms", 0},
      {"250ms", 250},
      {"30s", 30'000},
      {"5m", 300'000},
      {"2h", 7'200'000},
      {"7d", 604'800'000},
      {"0s", 0},
      {"007s", 7'000},
      {"9223372036854775807ms", INT64_MAX},
      {"106751991167d", 106'751'991'167LL * 86'400'000},
  };
  for (const auto& [text, ms] : good) {
    CAPTURE(text);
    int64_t out = -1;
    CHECK(ParseDuration(text, &out));
    CHECK(out == ms);
  }
}

TEST_CASE("durations reject signs, fractions, missing or unknown units and overflow") {
  for (const char* text :
       {"", "30", "s", "-5s", "+5s", "1.5s", " 5s", "5s ", "5 s", "5S", "5sec", "5us", "1w", "5ms5",
        "9223372036854775808ms", "106751991168d", "99999999999999999999s"}) {
    CAPTURE(text);
    int64_t out = 42;
    CHECK_FALSE(ParseDuration(text, &out));
    CHECK(out == 42);
  }
}

TEST_CASE("sizes parse as bytes or with binary and decimal units") {
  const std::vector<std::pair<const char*, uint64_t>> good = {
      {"0", 0},
      {"512", 512},
      {"512KiB", 512ull << 10},
      {"64MiB", 64ull << 20},
      {"1GiB", 1ull << 30},
      {"10KB", 10'000},
      {"5MB", 5'000'000},
      {"1GB", 1'000'000'000},
      {"18446744073709551615", UINT64_MAX},
      {"17179869183GiB", 17'179'869'183ull << 30},
  };
  for (const auto& [text, bytes] : good) {
    CAPTURE(text);
    uint64_t out = 1;
    CHECK(ParseSize(text, &out));
    CHECK(out == bytes);
  }
}

TEST_CASE("sizes reject garbage, signs, fractions, wrong case and overflow") {
  for (const char* text :
       {"", "KiB", "-1", "+1", "1.5MiB", "1 MiB", "1mib", "1kb", "1KIB", "1TiB", "1B", "12abc",
        "18446744073709551616", "17179869184GiB", "18446744073709552KB"}) {
    CAPTURE(text);
    uint64_t out = 42;
    CHECK_FALSE(ParseSize(text, &out));
    CHECK(out == 42);
  }
}

TEST_CASE("formatted durations and sizes use the largest exact unit and parse back") {
  CHECK(FormatDuration(0) == "0s");
  CHECK(FormatDuration(250) == "250ms");
  CHECK(FormatDuration(90'000) == "90s");
  CHECK(FormatDuration(3'600'000) == "1h");
  CHECK(FormatDuration(-1'000) == "-1s");
  CHECK(FormatDuration(INT64_MIN) == "-9223372036854775808ms");
  CHECK(FormatSize(0) == "0");
  CHECK(FormatSize(1500) == "1500");
  CHECK(FormatSize(1 << 20) == "1MiB");
  CHECK(FormatSize(5'000'000) == "5MB");
  for (int64_t ms : {int64_t{1}, int64_t{999}, int64_t{61'000}, int64_t{86'400'000}, INT64_MAX}) {
    int64_t back = -1;
    CHECK(ParseDuration(FormatDuration(ms), &back));
    CHECK(back == ms);
  }
  for (uint64_t bytes :
       {uint64_t{1}, uint64_t{1024}, uint64_t{3'000}, uint64_t{1} << 30, UINT64_MAX}) {
    uint64_t back = 0;
    CHECK(ParseSize(FormatSize(bytes), &back));
    CHECK(back == bytes);
  }
}

TEST_CASE("HOST:PORT splits names, IPv4 and bracketed IPv6 and rejects the rest") {
  std::string host;
  int port = -1;
  CHECK(SplitHostPort("127.0.0.1:7070", &host, &port));
  CHECK((host == "127.0.0.1" && port == 7070));
  CHECK(SplitHostPort("localhost:0", &host, &port));
  CHECK((host == "localhost" && port == 0));
  CHECK(SplitHostPort("[::1]:65535", &host, &port));
  CHECK((host == "::1" && port == 65535));
  for (const char* bad : {"", "7070", ":7070", "host:", "host:65536", "host:-1", "host:70x",
                          "::1:7070", "[::1]", "[::1]x:1", "a b:1", "host:123456"}) {
    CAPTURE(bad);
    CHECK_FALSE(SplitHostPort(bad, &host, &port));
  }
}

TEST_CASE("upstream URLs are split into scheme, host, port and path") {
  HttpUrl url;
  REQUIRE(ParseHttpUrl("http://127.0.0.1:8080/v1/batches", &url));
  CHECK((url.scheme == "http" && url.host == "127.0.0.1" && url.port == 8080));
  CHECK(url.path == "/v1/batches");
  REQUIRE(ParseHttpUrl("https://landing.example", &url));
  CHECK((url.scheme == "https" && url.host == "landing.example" && url.port == 443));
  CHECK(url.path == "/");
  REQUIRE(ParseHttpUrl("http://[fd00::1]/in?x=1", &url));
  CHECK((url.host == "fd00::1" && url.port == 80 && url.path == "/in?x=1"));
  REQUIRE(ParseHttpUrl("http://h?x=1", &url));
  CHECK(url.path == "/?x=1");
  for (const char* bad :
       {"", "http://", "https:///x", "ftp://h/", "HTTP://h/", "h:80/x", "http://h:0/",
        "http://h:99999/", "http://u:p@h/", "http://h/a b", "http://h/#frag", "http://:80/"}) {
    CAPTURE(bad);
    CHECK_FALSE(ParseHttpUrl(bad, &url));
  }
}

}  // namespace
}  // namespace ferry::agent
