// ${VAR} substitution in the config (issue 14) and errors that say what they got (item 10).
#include <doctest/doctest.h>

#include <cstdlib>
#include <string>

#include "agent/config/config.h"

using namespace ferry::agent;

namespace {

std::string ConfigText(const std::string& gateway, const std::string& port,
                       const std::string& extra = "") {
  return R"({"gateway": {"id": )" + gateway + R"(},
  "mqtt": {"port": )" +
         port + R"(, "subscriptions": [{"topic": "a/#"}]},
  "upstream": {"url": "http://127.0.0.1:8080/v1/batches"})" +
         extra + "}";
}

}  // namespace

// Issue 14, item 10: "/mqtt/port: expected an integer" did not say what it got.
TEST_CASE("regression: a value of the wrong type is shown in the error") {
  auto c = ParseConfig(ConfigText("\"gw\"", "\"1883\""));
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().message() == "/mqtt/port: expected an integer, got the string \"1883\"");
  c = ParseConfig(ConfigText("\"gw\"", "1883.5"));
  CHECK(c.status().message() == "/mqtt/port: expected an integer, got 1883.5");
  c = ParseConfig(ConfigText("[1]", "1883"));
  CHECK(c.status().message() == "/gateway/id: expected a string, got a list");
}

TEST_CASE("${VAR} and ${VAR:-default} take values from the environment") {
  setenv("FERRY_TEST_GW", "gw-0042", 1);
  setenv("FERRY_TEST_PORT", "1884", 1);
  unsetenv("FERRY_TEST_UNSET");
  auto c = ParseConfig(ConfigText("\"${FERRY_TEST_GW}\"", "\"${FERRY_TEST_PORT}\"",
                                  R"(, "status": {"listen": "127.0.0.1:${FERRY_TEST_UNSET:-7071}"},
                                  "log": {"level": "${FERRY_TEST_UNSET:-debug}"})"));
  REQUIRE_MESSAGE(c.ok(), c.status().ToString());
  CHECK(c->gateway.id == "gw-0042");
  CHECK(c->mqtt.port == 1884);
  CHECK(c->mqtt.client_id == "ferry-gw-0042");
  CHECK(c->status.listen == "127.0.0.1:7071");
  CHECK(c->log.level == ferry::platform::LogLevel::kDebug);
  // In objects of strings too, and "$${" is a literal "${".
  c = ParseConfig(ConfigText("\"gw\"", "1883",
                             R"(, "routes": [{"topic": "a/{device}",
                                 "labels": {"site": "${FERRY_TEST_GW}", "raw": "$${x}"}}])"));
  REQUIRE_MESSAGE(c.ok(), c.status().ToString());
  CHECK(c->routes.at(0).labels.at("site") == "gw-0042");
  CHECK(c->routes.at(0).labels.at("raw") == "${x}");
}

TEST_CASE("a missing variable is an error naming the key and the variable") {
  unsetenv("FERRY_TEST_UNSET");
  auto c = ParseConfig(ConfigText("\"${FERRY_TEST_UNSET}\"", "1883"));
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().message() ==
        "/gateway/id: environment variable FERRY_TEST_UNSET is not set (\"${FERRY_TEST_UNSET}\"; "
        "\"${FERRY_TEST_UNSET:-default}\" gives a default)");
  c = ParseConfig(ConfigText("\"gw\"", "\"${1X}\""));
  CHECK(c.status().message() == "/mqtt/port: \"${1X}\" does not name an environment variable");
  c = ParseConfig(ConfigText("\"gw-${FERRY_TEST_GW\"", "1883"));
  CHECK(c.status().message().find("/gateway/id: unterminated") == 0);
  // A value that is not an integer after expansion says what it became.
  setenv("FERRY_TEST_PORT", "mqtt", 1);
  c = ParseConfig(ConfigText("\"gw\"", "\"${FERRY_TEST_PORT}\""));
  CHECK(c.status().message() == "/mqtt/port: expected an integer, got the string \"mqtt\"");
}
