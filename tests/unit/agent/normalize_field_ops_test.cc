// Field operations: casts, sentinels, keep/drop/rename, scale and offset, flatten, and the
// order they run in.
#include "agent/normalize/field_ops.h"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace ferry::agent {
namespace {

using nlohmann::json;

std::string Cast(const json& v, const char* type) {
  return CastValue(v, *ParseCastType(type)).dump();
}

TEST_CASE("cast int: numbers round, numeric strings parse, the rest is null") {
  CHECK(Cast(42, "int") == "42");
  CHECK(Cast(37.5, "int") == "38");
  CHECK(Cast(-37.5, "int") == "-38");
  CHECK(Cast(37.4, "int") == "37");
  CHECK(Cast("100.00", "int") == "100");
  CHECK(Cast(" 7 ", "int") == "7");
  CHECK(Cast("9007199254740993", "int") == "9007199254740993");  // exact, not via double
  CHECK(Cast(true, "int") == "1");
  CHECK(Cast(false, "int") == "0");
  CHECK(Cast(json::parse("18446744073709551615"), "int") == "18446744073709551615");
  CHECK(Cast(1e300, "int") == "null");
  CHECK(Cast("ON", "int") == "null");
  CHECK(Cast("", "int") == "null");
  CHECK(Cast("nan", "int") == "null");
  CHECK(Cast(nullptr, "int") == "null");
  CHECK(Cast(json::object(), "int") == "null");
}

TEST_CASE("cast float: numbers and numeric strings, bools as 1.0 and 0.0") {
  CHECK(Cast(42, "float") == "42.0");
  CHECK(Cast("100.00", "float") == "100.0");
  CHECK(Cast("37.00", "float") == "37.0");
  CHECK(Cast("-0.85", "float") == "-0.85");
  CHECK(Cast("1e3", "float") == "1000.0");
  CHECK(Cast("+5", "float") == "5.0");
  CHECK(Cast(true, "float") == "1.0");
  CHECK(Cast("21,5", "float") == "null");
  CHECK(Cast("nan", "float") == "null");
  CHECK(Cast("inf", "float") == "null");
  CHECK(Cast("0x1F", "float") == "null");
  CHECK(Cast("unavailable", "float") == "null");
  CHECK(Cast(json::array(), "float") == "null");
}

TEST_CASE("cast bool: true/false, on/off, yes/no, 1/0 in any case") {
  for (const char* yes : {"true", "TRUE", "True", "on", "ON", "On", "yes", "YES", "1", " on "}) {
    CAPTURE(yes);
    CHECK(Cast(yes, "bool") == "true");
  }
  for (const char* no : {"false", "FALSE", "off", "OFF", "no", "No", "0"}) {
    CAPTURE(no);
    CHECK(Cast(no, "bool") == "false");
  }
  CHECK(Cast(true, "bool") == "true");
  CHECK(Cast(1, "bool") == "true");
  CHECK(Cast(0, "bool") == "false");
  CHECK(Cast(0.0, "bool") == "false");
  CHECK(Cast(2, "bool") == "null");
  CHECK(Cast("open", "bool") == "null");
  CHECK(Cast("", "bool") == "null");
  CHECK(Cast(nullptr, "bool") == "null");
}

TEST_CASE("cast string: strings kept, numbers and bools as JSON writes them") {
  CHECK(Cast("x", "string") == "\"x\"");
  CHECK(Cast(21.5, "string") == "\"21.5\"");
  CHECK(Cast(7, "string") == "\"7\"");
  CHECK(Cast(false, "string") == "\"false\"");
  CHECK(Cast(nullptr, "string") == "null");
  CHECK(Cast(json::object(), "string") == "null");
  CHECK_FALSE(ParseCastType("double"));
}

TEST_CASE("factors are decimals or fractions") {
  CHECK(ParseFactor("0.001") == 0.001);
  CHECK(ParseFactor("-273.15") == -273.15);
  CHECK(ParseFactor("1e-3") == 0.001);
  CHECK(ParseFactor("1/60") == 1.0 / 60);
  CHECK(ParseRatio("1/60") == std::pair(1.0, 60.0));
  for (const char* bad : {"", "x", "1/0", "1/", "/2", "1//2", "nan", "inf", "1e400", "0x10"}) {
    CAPTURE(bad);
    CHECK_FALSE(ParseFactor(bad));
  }
}

json Apply(const FieldOpsSpec& spec, json data) {
  CHECK(CheckFieldOps(spec) == "");
  FieldOps(spec).Apply(&data);
  return data;
}

TEST_CASE("null_values turn sentinels into null at a path or everywhere") {
  FieldOpsSpec spec;
  spec.null_values = {{"TempC_DS", "327.67"}, {"update.latest", "-1"}, {"mode", "unknown, n/a"}};
  CHECK(Apply(spec, {{"TempC_DS", 327.67},
                     {"TempC_SHT", 327.67},
                     {"update", {{"latest", -1}}},
                     {"mode", "n/a"}}) == json{{"TempC_DS", nullptr},
                                               {"TempC_SHT", 327.67},
                                               {"update", {{"latest", nullptr}}},
                                               {"mode", nullptr}});
  CHECK(Apply(spec, {{"TempC_DS", "327.67"}}) == json{{"TempC_DS", nullptr}});
  CHECK(Apply(spec, {{"TempC_DS", 327.6}}) == json{{"TempC_DS", 327.6}});
  FieldOpsSpec everywhere;
  everywhere.null_values = {{"*", "-1, unavailable"}};
  CHECK(
      Apply(everywhere, {{"a", -1}, {"b", {{"c", -1.0}, {"d", {-1, 2}}}}, {"e", "unavailable"}}) ==
      json{{"a", nullptr}, {"b", {{"c", nullptr}, {"d", {nullptr, 2}}}}, {"e", nullptr}});
}

TEST_CASE("keep, drop and rename move and remove values by path") {
  FieldOpsSpec keep;
  keep.keep = "a.b, c, missing";
  CHECK(Apply(keep, {{"a", {{"b", 1}, {"x", 2}}}, {"c", 3}, {"d", 4}}) ==
        json{{"a", {{"b", 1}}}, {"c", 3}});
  FieldOpsSpec drop;
  drop.drop = "a.b,d,missing,list.0";
  CHECK(Apply(drop, {{"a", {{"b", 1}, {"x", 2}}}, {"d", 4}, {"list", {1, 2}}}) ==
        json{{"a", {{"x", 2}}}, {"list", {2}}});
  FieldOpsSpec rename;
  rename.rename = {{"ENERGY.Total", "energy_total"},
                   {"x", "y.z"},
                   {"missing", "m"},
                   {"s", "scalar.sub"},
                   {"scalar", "scalar2"}};
  CHECK(Apply(rename, {{"ENERGY", {{"Total", 0.734}}}, {"x", 1}, {"s", 2}, {"scalar", 3}}) ==
        json{{"ENERGY", json::object()},
             {"energy_total", 0.734},
             {"y", {{"z", 1}}},
             {"s", 2},
             {"scalar2", 3}});
}

TEST_CASE("scale and offset apply to numbers only, scale first, fractions divide") {
  FieldOpsSpec spec;
  spec.scale = {{"energy", "1/60"}, {"voltage", "0.001"}, {"text", "2"}};
  spec.offset = {{"temp", "-273.15"}, {"voltage", "1"}};
  json out = Apply(spec, {{"energy", 50}, {"voltage", 3045}, {"temp", 300}, {"text", "5"}});
  CHECK(out["energy"].get<double>() == 50.0 / 60.0);
  CHECK(out["voltage"].get<double>() == 3045 * 0.001 + 1);
  CHECK(out["temp"].get<double>() == 300 - 273.15);
  CHECK(out["text"] == "5");
  CHECK(Apply(spec, {{"energy", nullptr}}) == json{{"energy", nullptr}});
}

TEST_CASE("flatten joins nested object keys and keeps arrays and empty objects") {
  json data = {{"BME280", {{"Temperature", 21.4}, {"Deep", {{"x", 1}}}}},
               {"list", {{{"a", 1}}}},
               {"empty", json::object()},
               {"top", 1}};
  Flatten(&data, "_");
  CHECK(data == json{{"BME280_Temperature", 21.4},
                     {"BME280_Deep_x", 1},
                     {"list", {{{"a", 1}}}},
                     {"empty", json::object()},
                     {"top", 1}});
  json flat = {{"a", 1}};
  Flatten(&flat, ".");
  CHECK(flat == json{{"a", 1}});
  // A clash: "a_b" from {"a":{"b":2}} and the top-level "a_b": the flattened value wins.
  json clash = {{"a", {{"b", 2}}}, {"a_b", 1}};
  Flatten(&clash, "_");
  CHECK(clash == json{{"a_b", 2}});
  json deep = {{"x", {{"y", {{"z", {{"w", 1}}}}}}}};
  Flatten(&deep, "");
  CHECK(deep == json{{"xyzw", 1}});
}

// Flatten as it was before it moved map nodes: each leaf copied under its new name.
void OldFlattenInto(json&& value, std::string& prefix, std::string_view separator, json* out) {
  size_t keep = prefix.size();
  for (auto& [key, child] : value.items()) {
    prefix.append(separator).append(key);
    if (child.is_object() && !child.empty()) {
      OldFlattenInto(std::move(child), prefix, separator, out);
    } else {
      (*out)[prefix] = std::move(child);
    }
    prefix.resize(keep);
  }
}

void OldFlatten(json* data, std::string_view separator) {
  if (!data->is_object()) return;
  std::vector<std::string> nested;
  for (const auto& [key, value] : data->items()) {
    if (value.is_object() && !value.empty()) nested.push_back(key);
  }
  std::string prefix;
  for (std::string& key : nested) {
    auto it = data->find(key);
    json child = std::move(*it);
    data->erase(it);
    prefix = std::move(key);
    OldFlattenInto(std::move(child), prefix, separator, data);
  }
}

json RandomNested(std::mt19937& rng, int depth) {
  static const char* const kKeys[] = {"a", "b", "a_b", "b_a", "a_b_a", "", "_", "long_name_x"};
  json o = json::object();
  for (int n = static_cast<int>(rng() % 4); n > 0; --n) {
    std::string key = kKeys[rng() % 8];
    o[key] =
        depth < 3 && rng() % 2 ? RandomNested(rng, depth + 1) : json(static_cast<int>(rng() % 100));
  }
  return o;
}

TEST_CASE("flatten gives what copying each leaf gave, name clashes included") {
  std::mt19937 rng(15);
  for (int i = 0; i < 20000; ++i) {
    json data = RandomNested(rng, 0);
    json want = data;
    OldFlatten(&want, "_");
    CAPTURE(data.dump());
    Flatten(&data, "_");
    REQUIRE(data == want);
  }
}

TEST_CASE("the operations run in their documented order") {
  FieldOpsSpec spec;
  spec.null_values = {{"raw.bat", "-1"}};
  spec.keep = "raw";
  spec.drop = "raw.junk";
  spec.rename = {{"raw.bat", "battery"}};
  spec.cast = {{"battery", "float"}, {"raw.state", "bool"}};
  spec.scale = {{"raw.mv", "0.001"}};
  spec.flatten = "_";
  CHECK(Apply(spec,
              {{"raw", {{"bat", -1}, {"junk", 1}, {"state", "ON"}, {"mv", 3000}}}, {"other", 1}}) ==
        json{{"battery", nullptr}, {"raw_state", true}, {"raw_mv", 3.0}});
}

TEST_CASE("field operation specs that do not compile are reported naming the entry") {
  FieldOpsSpec spec;
  spec.cast = {{"battery", "double"}};
  CHECK(CheckFieldOps(spec) == "\"battery\": \"double\" is not one of int, float, bool, string");
  spec = {};
  spec.scale = {{"e", "1/0"}};
  CHECK(CheckFieldOps(spec).starts_with("\"e\": \"1/0\" is not a number"));
  spec = {};
  spec.keep = "a,,b..c";
  CHECK(CheckFieldOps(spec) ==
        "must be a dotted path like \"params.ts\" without empty steps, "
        "not \"b..c\"");
  spec = {};
  spec.rename = {{"a", ".b"}};
  CHECK(CheckFieldOps(spec).starts_with("\"a\": must be a dotted path"));
  spec = {};
  spec.null_values = {{"*", "x"}, {"a.", "y"}};
  CHECK(CheckFieldOps(spec).starts_with("must be a dotted path"));
}

}  // namespace
}  // namespace ferry::agent
