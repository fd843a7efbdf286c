#include "agent/normalize/binary_fields.h"

#include "agent/normalize/field_ops.h"

namespace ferry::agent {
namespace {

using nlohmann::json;

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::vector<std::string_view> Words(std::string_view s) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t start = s.find_first_not_of(' ', pos);
    if (start == std::string_view::npos) break;
    size_t end = std::min(s.find(' ', start), s.size());
    out.push_back(s.substr(start, end - start));
    pos = end;
  }
  return out;
}

// "u16be" and the like into the field; false if it is not a type.
bool ParseType(std::string_view t, size_t* size, bool* is_signed, bool* big_endian) {
  if (t.size() < 2 || (t[0] != 'u' && t[0] != 's')) return false;
  *is_signed = t[0] == 's';
  t.remove_prefix(1);
  if (t == "8") {
    *size = 1;
    *big_endian = true;
    return true;
  }
  if (t.size() != 4) return false;
  std::string_view bits = t.substr(0, 2), order = t.substr(2);
  if (bits == "16") {
    *size = 2;
  } else if (bits == "24") {
    *size = 3;
  } else if (bits == "32") {
    *size = 4;
  } else {
    return false;
  }
  if (order != "be" && order != "le") return false;
  *big_endian = order == "be";
  return true;
}

bool ParseOffset(std::string_view t, size_t* offset) {
  if (t.empty() || t.size() > 6) return false;
  *offset = 0;
  for (char c : t) {
    if (c < '0' || c > '9') return false;
    *offset = *offset * 10 + static_cast<size_t>(c - '0');
  }
  return true;
}

}  // namespace

std::optional<std::string> DecodeBase64(std::string_view text) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = Base64Value(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

std::optional<std::string> DecodeHex(std::string_view text) {
  if (text.size() % 2 != 0) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 2);
  for (size_t i = 0; i < text.size(); i += 2) {
    int hi = HexValue(text[i]), lo = HexValue(text[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

std::string CheckBytes(const BytesSpec& spec) {
  if (spec.path.empty()) return spec.fields.empty() ? "" : "fields need a path";
  if (std::string e = CheckPathText(spec.path); !e.empty()) return "path " + e;
  for (const auto& [name, layout] : spec.fields) {
    std::vector<std::string_view> w = Words(layout);
    size_t size = 0, offset = 0;
    bool is_signed = false, big_endian = true;
    std::string at = "fields \"" + name + "\": ";
    if (name.empty()) return "fields: a field needs a name";
    if (w.size() < 2 || w.size() > 3 || !ParseType(w[0], &size, &is_signed, &big_endian)) {
      return at +
             "must be \"<type> <offset> [<scale>]\" with a type u8, s8, u16be, u16le, "
             "s16be, s16le, u24be, u24le, s24be, s24le, u32be, u32le, s32be or s32le";
    }
    if (!ParseOffset(w[1], &offset)) return at + "the offset must be a byte number from 0";
    if (w.size() == 3 && !ParseRatio(w[2])) {
      return at + "the scale must be a decimal or a fraction like \"1/1000\"";
    }
  }
  return "";
}

BinaryFields::BinaryFields(const BytesSpec& spec) {
  if (spec.path.empty() || !CheckBytes(spec).empty()) return;
  path_ = FieldPath(spec.path);
  if (size_t dot = spec.path.rfind('.'); dot != std::string::npos) {
    parent_ = FieldPath(std::string_view(spec.path).substr(0, dot));
  }
  hex_ = spec.encoding == BytesEncoding::kHex;
  for (const auto& [name, layout] : spec.fields) {
    std::vector<std::string_view> w = Words(layout);
    Field f;
    f.name = name;
    ParseType(w[0], &f.size, &f.is_signed, &f.big_endian);
    ParseOffset(w[1], &f.offset);
    if (w.size() == 3) f.scale = ParseRatio(w[2]);
    fields_.push_back(std::move(f));
  }
}

bool BinaryFields::Apply(json* payload, std::string* reason) const {
  if (path_.empty()) return true;
  const json* v = path_.Find(*payload);
  if (v == nullptr || !v->is_string()) return true;
  const std::string& text = v->get_ref<const std::string&>();
  std::optional<std::string> bytes = hex_ ? DecodeHex(text) : DecodeBase64(text);
  std::string at = "validation failed: bytes \"" + path_.text() + "\": ";
  if (!bytes) {
    *reason = at + (hex_ ? "not hex" : "not base64");
    return false;
  }
  json fields = json::object();
  for (const Field& f : fields_) {
    if (f.offset + f.size > bytes->size()) {
      *reason = at + std::to_string(bytes->size()) + " bytes, field \"" + f.name + "\" needs " +
                std::to_string(f.offset + f.size);
      return false;
    }
    uint64_t u = 0;
    for (size_t i = 0; i < f.size; ++i) {
      size_t at_byte = f.big_endian ? f.offset + i : f.offset + f.size - 1 - i;
      u = (u << 8) | static_cast<unsigned char>((*bytes)[at_byte]);
    }
    int64_t value = static_cast<int64_t>(u);
    if (f.is_signed && (u >> (8 * f.size - 1)) != 0) value -= int64_t{1} << (8 * f.size);
    if (f.scale) {
      fields[f.name] = static_cast<double>(value) * f.scale->first / f.scale->second;
    } else {
      fields[f.name] = value;
    }
  }
  json* holder = parent_.empty() ? payload : parent_.Find(*payload);
  if (holder == nullptr || !holder->is_object()) return true;
  for (auto& [name, value] : fields.items()) (*holder)[name] = std::move(value);
  return true;
}

}  // namespace ferry::agent
