// Dead-letter payloads on a terminal (agent/status/payload_view.h): issue 14, item 1.
#include "agent/status/payload_view.h"

#include <doctest/doctest.h>

#include <string>

using namespace ferry::agent;
using namespace std::string_literals;

// Issue 14, item 1: `ferry dead-letters list` stopped at a payload with a NUL byte (fputs of a
// c_str()) and wrote binary payloads raw to the terminal.
TEST_CASE("regression: a payload with a NUL byte or binary bytes is shown escaped, whole") {
  std::string nul = "{\"a\":1}\0tail"s;
  CHECK(PayloadLine(nul, 120) == "{\"a\":1}\\0tail");
  std::string escape = "\x1b[2J\x07red";
  CHECK(PayloadLine(escape, 120) == "\\x1b[2J\\x07red");
  std::string binary = "\xff\xfe\x00\x01"s;
  CHECK(PayloadLine(binary, 120) == "hex: ff fe 00 01");
  for (const std::string& p : {nul, escape, binary}) {
    for (char c : PayloadLine(p, 120)) CHECK(static_cast<unsigned char>(c) >= 0x20);
  }
}

TEST_CASE("text keeps its UTF-8, escapes C1 controls, and is cut with its size") {
  CHECK(PayloadLine("temp 21.5 °C\n", 120) == "temp 21.5 °C\\n");
  CHECK(PayloadLine("a\xc2\x9b"
                    "b",
                    120) == "a\\u009bb");
  std::string long_text(300, 'x');
  std::string line = PayloadLine(long_text, 120);
  CHECK(line.size() < 150);
  CHECK(line.find("(300 bytes)") != std::string::npos);
  // Never cut inside a multi-byte character.
  std::string umlauts(200, ' ');
  for (size_t i = 0; i < 100; ++i) umlauts.replace(i * 2, 2, "\xc3\xa4");
  CHECK(IsUtf8Text(PayloadLine(umlauts, 121)));
}

TEST_CASE("the whole payload: text with its lines, binary as a hex dump") {
  CHECK(PayloadDump("a\nb\tc") == "a\nb\\tc");
  std::string dump = PayloadDump(
      "\xff"
      "ABCDEFGHIJKLMNOPQ");
  CHECK(dump ==
        "00000000  ff 41 42 43 44 45 46 47  48 49 4a 4b 4c 4d 4e 4f  |.ABCDEFGHIJKLMNO|\n"
        "00000010  50 51                                             |PQ|\n");
}

TEST_CASE("hex round trip") {
  std::string bytes = "\x00\x7f\x80\xff"s;
  std::string back;
  REQUIRE(FromHex(ToHex(bytes), &back));
  CHECK(back == bytes);
  CHECK(ToHex(bytes) == "007f80ff");
  CHECK_FALSE(FromHex("abc", &back));
  CHECK_FALSE(FromHex("zz", &back));
}
