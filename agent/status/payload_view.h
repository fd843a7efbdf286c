// Showing a dead letter's payload (any bytes) safely on a terminal: text with control
// characters escaped, anything that is not UTF-8 as hex. Pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ferry::agent {

// True when `bytes` is well-formed UTF-8 (NUL and other control characters allowed).
bool IsUtf8Text(std::string_view bytes);

// One line: UTF-8 text with \n, \r, \t, \\, \0 and other control characters as C escapes
// (\x1b), or "hex: 00 ff ..." for bytes that are not UTF-8; cut to about `max` characters with
// "... (N bytes)" at the end. Never holds a control character.
std::string PayloadLine(std::string_view bytes, size_t max);

// The whole payload: text as PayloadLine with the line breaks kept, or a hex dump of 16 bytes
// a line (offset, hex, printable ASCII) for bytes that are not UTF-8.
std::string PayloadDump(std::string_view bytes);

// Lower-case hex of `bytes`, and back; FromHex is false for an odd length or a non-hex digit.
std::string ToHex(std::string_view bytes);
bool FromHex(std::string_view hex, std::string* bytes);

}  // namespace ferry::agent
