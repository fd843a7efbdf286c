// The transforms of a config (top-level `transforms`, a route's `transform`).
#include <doctest/doctest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "agent/config/config.h"
#include "agent/transform/pin.h"
#include "support/temp_dir.h"

namespace ferry::agent {
namespace {

using nlohmann::json;

json Base() {
  return json::parse(R"({
    "gateway": {"id": "gw"}, "storage": {"path": "/tmp/q.db"},
    "mqtt": {"subscriptions": [{"topic": "#"}]}, "upstream": {"url": "http://127.0.0.1:9/x"}
  })");
}

std::string Errors(const json& config) {
  auto parsed = ParseConfig(config.dump());
  return parsed.ok() ? "" : parsed.status().message();
}

TEST_CASE("transforms are read by name with their limits, and routes name them") {
  json c = Base();
  c["transforms"]["dec"] = {{"command", {"python3", "/x/dec.py"}},
                            {"sandbox", "none"},
                            {"timeout", "250ms"},
                            {"memory", "32MiB"},
                            {"max_output", "64KiB"},
                            {"restart_backoff", {{"initial", "2s"}, {"max", "10s"}}}};
  c["routes"] = {{{"topic", "a/{device}"}, {"transform", "dec"}}};
  auto parsed = ParseConfig(c.dump());
  REQUIRE_MESSAGE(parsed.ok(), parsed.status().message());
  const TransformConfig& t = parsed->transforms.at("dec");
  CHECK(t.name == "dec");
  CHECK(t.command == std::vector<std::string>{"python3", "/x/dec.py"});
  CHECK(t.sandbox == platform::Isolation::kNone);
  CHECK(t.timeout_ms == 250);
  CHECK(t.memory == 32u << 20);
  CHECK(t.max_output == 64u << 10);
  CHECK(t.restart_initial_ms == 2000);
  CHECK(t.restart_max_ms == 10000);
  CHECK(t.max_in_flight == 256);
  CHECK(parsed->routes[0].transform == "dec");
  CHECK(PinnedFile(t) == "/x/dec.py");
}

TEST_CASE("a route naming an unknown transform, an empty command and a bad pin are errors") {
  json c = Base();
  c["transforms"]["dec"] = {{"command", json::array()}, {"sandbox", "none"}, {"sha256", "abc"}};
  c["routes"] = {{{"topic", "a/{device}"}, {"transform", "nope"}}};
  std::string e = Errors(c);
  CHECK(e.find("/routes/0/transform: no transform \"nope\" in /transforms") != std::string::npos);
  CHECK(e.find("/transforms/dec/command: must be between 1 and 64 entries") != std::string::npos);
  CHECK(e.find("/transforms/dec/sha256: must be 64 lower-case hex digits") != std::string::npos);
  c["transforms"]["dec"] = {{"command", "python3 x.py"}, {"sandbox", "none"}};
  CHECK(Errors(c).find("/transforms/dec/command: expected a list of strings") != std::string::npos);
}

TEST_CASE("a pinned script whose SHA-256 differs is a config error naming both hashes") {
  testing::TempDir dir;
  std::string script = dir.File("t.py");
  std::ofstream(script) << "print('hi')\n";
  auto digest = Sha256OfFile(script);
  REQUIRE(digest.ok());
  json c = Base();
  c["transforms"]["t"] = {
      {"command", {"python3", script}}, {"sandbox", "none"}, {"sha256", *digest}};
  CHECK(Errors(c) == "");
  std::ofstream(script) << "print('changed')\n";
  std::string e = Errors(c);
  CHECK(e.find("/transforms/t/sha256: " + script + " has SHA-256 ") != std::string::npos);
  CHECK(e.find("not the pinned " + *digest) != std::string::npos);
  c["transforms"]["t"]["file"] = dir.File("missing.py");
  CHECK(Errors(c).find("/transforms/t/sha256: reading " + dir.File("missing.py")) !=
        std::string::npos);
}

TEST_CASE("the SHA-256 of a file is sha256sum's") {
  testing::TempDir dir;
  std::ofstream(dir.File("abc")) << "abc";
  auto digest = Sha256OfFile(dir.File("abc"));
  REQUIRE(digest.ok());
  CHECK(*digest == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace ferry::agent
