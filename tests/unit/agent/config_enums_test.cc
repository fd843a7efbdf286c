// Settings with a fixed set of values are parsed once into enums (agent/config/config.h).
#include <doctest/doctest.h>

#include <set>
#include <string>

#include "agent/config/config.h"
#include "agent/config/config_schema.h"

using namespace ferry;
using agent::FullPolicy;
using agent::SyncMode;

namespace {

platform::Result<agent::Config> Parse(const std::string& storage, const std::string& log = "{}") {
  return agent::ParseConfig(R"({"gateway":{"id":"g"},"mqtt":{"subscriptions":[{"topic":"#"}]},)"
                            R"("upstream":{"url":"http://h/"},"storage":)" +
                            storage + R"(,"log":)" + log + "}");
}

// Every name the declaration allows for `path` maps to a distinct value of its enum.
template <typename E, typename Target = agent::Config>
void CheckDeclarationMatchesTable(const std::string& path) {
  CAPTURE(path);
  const agent::schema::KeyInfo* info = nullptr;
  for (const auto& key : agent::schema::KeysOf<Target>()) {
    if (key.info.path == path) info = &key.info;
  }
  REQUIRE(info != nullptr);
  std::set<E> values;
  for (const std::string& name : info->allowed) {
    bool found = false;
    for (const auto& n : agent::NamesOf(E{})) {
      if (n.name == name) values.insert(n.value), found = true;
    }
    CHECK_MESSAGE(found, name);
  }
  CHECK(values.size() == info->allowed.size());
  CHECK(info->allowed.size() == agent::NamesOf(E{}).size());
}

}  // namespace

// Finding 12 of issue 10: storage.full_policy, storage.sync and log.format were strings compared
// where they were used ("drop_oldest"), so a value that slipped past the check would silently
// mean the default.
TEST_CASE("regression issue 10 #12: enum settings are parsed once, into their types") {
  auto c = Parse(R"({"sync":"normal","full_policy":"drop_oldest"})", R"({"format":"json"})");
  REQUIRE_MESSAGE(c.ok(), c.status().message());
  CHECK(c->storage.sync == SyncMode::kNormal);
  CHECK(c->storage.full_policy == FullPolicy::kDropOldest);
  CHECK(c->log.format == platform::LogFormat::kJson);
  auto d = Parse("{}");
  REQUIRE(d.ok());
  CHECK(d->storage.sync == SyncMode::kFull);
  CHECK(d->storage.full_policy == FullPolicy::kBlock);
  CHECK(d->log.format == platform::LogFormat::kText);
  CHECK(agent::NameOf(FullPolicy::kDropOldest) == "drop_oldest");
}

TEST_CASE("a wrong enum value is a config error naming its key, never a default") {
  auto c = Parse(R"({"full_policy":"drop_newest"})");
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().message().starts_with(
      "/storage/full_policy: expected one of \"block\", \"drop_oldest\""));
  auto s = Parse(R"({"sync":"FULL"})");
  REQUIRE_FALSE(s.ok());
  CHECK(s.status().message().starts_with("/storage/sync: "));
}

TEST_CASE("the declaration's allowed values and the enums' tables are the same") {
  CheckDeclarationMatchesTable<SyncMode>("/storage/sync");
  CheckDeclarationMatchesTable<FullPolicy>("/storage/full_policy");
  CheckDeclarationMatchesTable<platform::LogFormat>("/log/format");
  CheckDeclarationMatchesTable<platform::LogLevel>("/log/level");
  CheckDeclarationMatchesTable<FullPolicy>("/storage/dead_letters/full_policy");
  CheckDeclarationMatchesTable<agent::PayloadShape, agent::Route>("/payload_shape");
  CheckDeclarationMatchesTable<agent::PayloadMode, agent::Route>("/payload");
  CheckDeclarationMatchesTable<agent::EmptyPayload, agent::Route>("/empty_payload");
  CheckDeclarationMatchesTable<agent::ValueType, agent::Route>("/value_type");
  CheckDeclarationMatchesTable<agent::TimeFormat, agent::Route>("/time/format");
  CheckDeclarationMatchesTable<agent::PairsValueType, agent::Route>("/pairs/value_type");
  CheckDeclarationMatchesTable<agent::BytesEncoding, agent::Route>("/bytes/encoding");
}

// The rest of finding 12: storage.dead_letters.full_policy was a string compared with "block",
// log.level a string parsed again wherever it was applied, and the route options strings that
// CompileRoute re-parsed with a silent fallback to the default.
TEST_CASE("regression issue 10 #12: dead-letter policy, log level and route options are typed") {
  auto c = Parse(R"({"dead_letters":{"full_policy":"block"}})", R"({"level":"warn"})");
  REQUIRE_MESSAGE(c.ok(), c.status().message());
  CHECK(c->storage.dead_letters_full_policy == FullPolicy::kBlock);
  CHECK(c->log.level == platform::LogLevel::kWarn);
  auto d = Parse("{}");
  REQUIRE(d.ok());
  CHECK(d->storage.dead_letters_full_policy == FullPolicy::kDropOldest);
  CHECK(d->log.level == platform::LogLevel::kInfo);
  auto r = agent::ParseConfig(
      R"({"gateway":{"id":"g"},"mqtt":{"subscriptions":[{"topic":"#"}]},)"
      R"("upstream":{"url":"http://h/"},"routes":[{"topic":"a/{device}","payload":"text",)"
      R"("payload_shape":"scalar","empty_payload":"null","value_type":"float",)"
      R"("time":{"format":"epoch_ms"}}]})");
  REQUIRE_MESSAGE(r.ok(), r.status().message());
  const agent::Route& route = r->routes.at(0);
  CHECK(route.payload == agent::PayloadMode::kText);
  CHECK(route.payload_shape == agent::PayloadShape::kScalar);
  CHECK(route.empty_payload == agent::EmptyPayload::kNull);
  CHECK(route.value_type == agent::ValueType::kFloat);
  CHECK(route.time.format == agent::TimeFormat::kEpochMs);
}

TEST_CASE("a wrong dead-letter policy, log level or value_type is a config error") {
  auto c = Parse(R"({"dead_letters":{"full_policy":"drop_newest"}})");
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().message().starts_with("/storage/dead_letters/full_policy: expected one of"));
  auto l = Parse("{}", R"({"level":"verbose"})");
  REQUIRE_FALSE(l.ok());
  CHECK(l.status().message().starts_with("/log/level: expected one of"));
  auto v = agent::ParseConfig(
      R"({"gateway":{"id":"g"},"mqtt":{"subscriptions":[{"topic":"#"}]},)"
      R"("upstream":{"url":"http://h/"},"routes":[{"topic":"a","value_type":"double"}]})");
  REQUIRE_FALSE(v.ok());
  CHECK(v.status().message().starts_with("/routes/0/value_type: expected one of \"auto\""));
}

// The last of finding 12: bytes.encoding and pairs.value_type were strings the normalizer
// compared with "hex", "text" and the cast names when it compiled a route; a value that slipped
// past the check would silently have meant base64, or values left as they are.
TEST_CASE("regression issue 10 #12: bytes.encoding and pairs.value_type are parsed into enums") {
  auto Route = [](const std::string& route) {
    return agent::ParseConfig(R"({"gateway":{"id":"g"},"mqtt":{"subscriptions":[{"topic":"#"}]},)"
                              R"("upstream":{"url":"http://h/"},"routes":[)" +
                              route + "]}");
  };
  auto c = Route(R"({"topic":"a","bytes":{"path":"d","encoding":"hex","fields":{"t":"u8 0"}},)"
                 R"("pairs":{"path":"p","value_type":"text"}})");
  REQUIRE_MESSAGE(c.ok(), c.status().message());
  CHECK(c->routes.at(0).bytes.encoding == agent::BytesEncoding::kHex);
  CHECK(c->routes.at(0).pairs.value_type == agent::PairsValueType::kText);
  auto d = Route(R"({"topic":"a"})");
  REQUIRE(d.ok());
  CHECK(d->routes.at(0).bytes.encoding == agent::BytesEncoding::kBase64);
  CHECK(d->routes.at(0).pairs.value_type == agent::PairsValueType::kAuto);

  // A wrong value names the key, the allowed values and what was written.
  auto e = Route(R"({"topic":"a","bytes":{"path":"d","encoding":"HEX"}})");
  REQUIRE_FALSE(e.ok());
  CHECK(e.status().message().find(
            "/routes/0/bytes/encoding: expected one of \"base64\", \"hex\"; got \"HEX\"") !=
        std::string::npos);
  auto v = Route(R"({"topic":"a","pairs":{"path":"p","value_type":"double"}})");
  REQUIRE_FALSE(v.ok());
  CHECK(v.status().message().find(
            "/routes/0/pairs/value_type: expected one of \"auto\", \"text\", \"int\", "
            "\"float\", \"bool\", \"string\"; got \"double\"") != std::string::npos);
  auto n = Route(R"({"topic":"a","pairs":{"path":"p","value_type":1}})");
  REQUIRE_FALSE(n.ok());
  CHECK(n.status().message().find("/routes/0/pairs/value_type: expected one of \"auto\"") !=
        std::string::npos);
  CHECK(n.status().message().find("; got 1") != std::string::npos);
}
