#include "agent/status/payload_view.h"

#include <cstdio>

#include "agent/normalize/utf8.h"

namespace ferry::agent {

namespace {

// Escapes one byte of UTF-8 text; multi-byte sequences pass through. `keep_newlines` leaves
// '\n' as it is (PayloadDump).
void AppendEscaped(unsigned char c, bool keep_newlines, std::string& out) {
  switch (c) {
    case '\n':
      out += keep_newlines ? "\n" : "\\n";
      return;
    case '\r':
      out += "\\r";
      return;
    case '\t':
      out += "\\t";
      return;
    case '\\':
      out += "\\\\";
      return;
    case '\0':
      out += "\\0";
      return;
    default:
      break;
  }
  if (c < 0x20 || c == 0x7f) {
    char buf[8];
    snprintf(buf, sizeof buf, "\\x%02x", c);
    out += buf;
    return;
  }
  out += static_cast<char>(c);
}

// C1 control characters (U+0080..U+009F, UTF-8 C2 80..C2 9F) move terminals too.
bool IsC1(std::string_view s, size_t i) {
  return static_cast<unsigned char>(s[i]) == 0xc2 && i + 1 < s.size() &&
         static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
         static_cast<unsigned char>(s[i + 1]) <= 0x9f;
}

std::string EscapeText(std::string_view s, size_t max, bool keep_newlines) {
  std::string out;
  size_t i = 0;
  for (; i < s.size() && out.size() < max; ++i) {
    if (IsC1(s, i)) {
      char buf[16];
      snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned char>(s[i + 1]));
      out += buf;
      ++i;
      continue;
    }
    AppendEscaped(static_cast<unsigned char>(s[i]), keep_newlines, out);
  }
  // Never end inside a multi-byte sequence.
  while (i < s.size() && (static_cast<unsigned char>(s[i]) & 0xc0) == 0x80) {
    out += s[i++];
  }
  if (i < s.size()) out += "... (" + std::to_string(s.size()) + " bytes)";
  return out;
}

}  // namespace

bool IsUtf8Text(std::string_view bytes) { return !FindInvalidUtf8(bytes).has_value(); }

std::string ToHex(std::string_view bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

bool FromHex(std::string_view hex, std::string* bytes) {
  if (hex.size() % 2 != 0) return false;
  auto digit = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  bytes->clear();
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = digit(hex[i]), lo = digit(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    *bytes += static_cast<char>(hi * 16 + lo);
  }
  return true;
}

std::string PayloadLine(std::string_view bytes, size_t max) {
  if (IsUtf8Text(bytes)) return EscapeText(bytes, max, false);
  std::string out = "hex:";
  size_t shown = std::min(bytes.size(), max / 3);
  for (size_t i = 0; i < shown; ++i) out += " " + ToHex(bytes.substr(i, 1));
  if (shown < bytes.size()) out += " ... (" + std::to_string(bytes.size()) + " bytes)";
  return out;
}

std::string PayloadDump(std::string_view bytes) {
  if (IsUtf8Text(bytes)) return EscapeText(bytes, bytes.size() * 6 + 1, true);
  std::string out;
  for (size_t at = 0; at < bytes.size(); at += 16) {
    char buf[24];
    snprintf(buf, sizeof buf, "%08zx ", at);
    out += buf;
    std::string_view row = bytes.substr(at, 16);
    for (size_t i = 0; i < 16; ++i) {
      out += i < row.size() ? " " + ToHex(row.substr(i, 1)) : "   ";
      if (i == 7) out += ' ';
    }
    out += "  |";
    for (unsigned char c : row) out += c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '.';
    out += "|\n";
  }
  return out;
}

}  // namespace ferry::agent
