// ferry-landing's command line (issue 14, item 7): --version, and an unknown option named as such.
#include <doctest/doctest.h>

#include "agent/landing/options.h"

using ferry::landing::ParseOptions;

TEST_CASE("ferry-landing --version asks for the version and nothing else is checked") {
  for (const char* flag : {"--version", "-V"}) {
    auto o = ParseOptions({flag});
    REQUIRE(o.ok());
    CHECK(o->version);
    CHECK_FALSE(o->help);
  }
}

TEST_CASE("ferry-landing names an unknown option, also when no value follows it") {
  for (auto args : {std::vector<std::string>{"--bogus"},
                    std::vector<std::string>{"--listen", "h:1", "--root", "/x", "--bogus"},
                    std::vector<std::string>{"--bogus=1", "--listen", "h:1", "--root", "/x"},
                    std::vector<std::string>{"--bogus", "--listen", "h:1", "--root", "/x"}}) {
    auto o = ParseOptions(args);
    REQUIRE_FALSE(o.ok());
    CHECK(o.status().message() == "unknown option --bogus");
  }
  // A known option without its value still says so.
  auto o = ParseOptions({"--root", "/x", "--listen"});
  REQUIRE_FALSE(o.ok());
  CHECK(o.status().message() == "--listen: value missing");
}
