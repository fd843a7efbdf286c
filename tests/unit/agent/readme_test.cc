// The README's option table is generated from the config declaration; this keeps them equal.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

#include "agent/config/config.h"

TEST_CASE("the README's option table is the one the config declaration generates") {
  std::ifstream in(std::string(FERRY_SOURCE_DIR) + "/README.md");
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  std::string readme = ss.str();
  const std::string begin = "<!-- config-reference:begin -->\n";
  const std::string end = "<!-- config-reference:end -->";
  size_t a = readme.find(begin), b = readme.find(end);
  REQUIRE(a != std::string::npos);
  REQUIRE(b != std::string::npos);
  std::string table = readme.substr(a + begin.size(), b - a - begin.size());
  INFO("README.md is out of date: run `make readme`");
  CHECK(table == ferry::agent::ConfigReferenceMarkdown());
}
