#include "agent/record/record.h"

#include <charconv>
#include <cstdint>
#include <cstring>

#include "agent/normalize/utf8.h"
#include "agent/record/json_write.h"
#include "platform/log.h"

namespace ferry::agent {
namespace {

using Labels = std::map<std::string, std::string>;

constexpr std::string_view kReplacementChar = "\xEF\xBF\xBD";  // U+FFFD

bool NeedsEscape(unsigned char c) { return c < 0x20 || c == '"' || c == '\\' || c >= 0x80; }

// Whether any of the 8 bytes of `w` needs a look (NeedsEscape), in a few operations for all 8:
// the "has a byte less than" and "has a zero byte" word tricks, which say exactly whether, not
// where (so byte order does not matter). `& ~w` stands for `& ~quote` and `& ~backslash`: only
// the high bits are kept, and '"' and '\\' have theirs clear.
bool AnyNeedsEscape(uint64_t w) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  uint64_t quote = w ^ (kOnes * '"');
  uint64_t backslash = w ^ (kOnes * '\\');
  uint64_t found = ((w - kOnes * 0x20) | (quote - kOnes) | (backslash - kOnes)) & ~w;
  return ((found | w) & kHigh) != 0;
}

// The end of the run from `i` of bytes copied as they are.
size_t PlainRunEnd(std::string_view s, size_t i) {
  while (i + 8 <= s.size()) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, sizeof w);
    if (AnyNeedsEscape(w)) break;
    i += 8;
  }
  while (i < s.size() && !NeedsEscape(static_cast<unsigned char>(s[i]))) ++i;
  return i;
}

void AppendEscapedChar(unsigned char c, std::string& out) {
  switch (c) {
    case '"':
      out += "\\\"";
      return;
    case '\\':
      out += "\\\\";
      return;
    case '\b':
      out += "\\b";
      return;
    case '\f':
      out += "\\f";
      return;
    case '\n':
      out += "\\n";
      return;
    case '\r':
      out += "\\r";
      return;
    case '\t':
      out += "\\t";
      return;
    default: {
      static constexpr char kHex[] = "0123456789abcdef";
      char buf[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
      out.append(buf, sizeof buf);
    }
  }
}

// The contents of a JSON string literal, without the quotes.
void AppendJsonStringBody(std::string_view s, std::string& out) {
  size_t i = 0;
  while (i < s.size()) {
    size_t run = PlainRunEnd(s, i);
    out.append(s.data() + i, run - i);
    i = run;
    if (i == s.size()) break;
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      AppendEscapedChar(c, out);
      ++i;
      continue;
    }
    Utf8Step step = DecodeUtf8Step(s.substr(i));
    if (step.valid) {
      out.append(s.data() + i, step.length);
    } else {
      out += kReplacementChar;
    }
    i += step.length;
  }
}

void AppendUint(uint64_t v, std::string& out) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

void AppendLabel(const std::string& key, const std::string& value, bool* first, std::string& out) {
  if (!*first) out += ',';
  *first = false;
  AppendJsonString(key, out);
  out += ':';
  AppendJsonString(value, out);
}

// Both maps are sorted by key: one merge pass, the route's value winning on a shared key.
void AppendLabels(const Labels* gateway, const Labels* route, std::string& out) {
  static const Labels kNone;
  const Labels& g = gateway != nullptr ? *gateway : kNone;
  const Labels& r = route != nullptr ? *route : kNone;
  out += '{';
  bool first = true;
  auto gi = g.begin();
  auto ri = r.begin();
  while (gi != g.end() || ri != r.end()) {
    if (ri == r.end() || (gi != g.end() && gi->first < ri->first)) {
      AppendLabel(gi->first, gi->second, &first, out);
      ++gi;
      continue;
    }
    if (gi != g.end() && gi->first == ri->first) ++gi;
    AppendLabel(ri->first, ri->second, &first, out);
    ++ri;
  }
  out += '}';
}

}  // namespace

void AppendJsonString(std::string_view s, std::string& out) {
  out += '"';
  AppendJsonStringBody(s, out);
  out += '"';
}

std::string RecordId(std::string_view gateway, std::string_view epoch, uint64_t seq) {
  std::string id;
  id.reserve(gateway.size() + epoch.size() + 22);
  id.append(gateway).append(1, '.').append(epoch).append(1, '.');
  AppendUint(seq, id);
  return id;
}

void AppendRecordHead(std::string_view gateway, std::string_view epoch, uint64_t seq,
                      std::string& out) {
  out += "{\"id\":\"";
  AppendJsonStringBody(gateway, out);
  out += '.';
  AppendJsonStringBody(epoch, out);
  out += '.';
  AppendUint(seq, out);
  out += "\",\"seq\":";
  AppendUint(seq, out);
  out += ',';
}

void AppendRecordBody(const RecordEnvelope& rec, std::string& out) {
  out += "\"gateway\":";
  AppendJsonString(rec.gateway, out);
  out += ",\"source\":";
  AppendJsonString(rec.source, out);
  out += ",\"topic\":";
  AppendJsonString(rec.topic, out);
  if (!rec.device.empty()) {
    out += ",\"device\":";
    AppendJsonString(rec.device, out);
  }
  out += ",\"ts\":\"";
  platform::AppendRfc3339Millis(rec.ts_ms, out);
  out += rec.ts_from_payload ? "\",\"ts_source\":\"payload" : "\",\"ts_source\":\"received";
  out += "\",\"received_at\":\"";
  platform::AppendRfc3339Millis(rec.received_ms, out);
  out += "\",\"labels\":";
  AppendLabels(rec.gateway_labels, rec.route_labels, out);
  out += ",\"data\":";
  if (rec.data == nullptr || rec.data->is_null()) {
    out += "{}";
  } else {
    AppendJson(*rec.data, out);
  }
  if (!rec.transform.empty()) {
    out += ",\"transform\":{\"name\":";
    AppendJsonString(rec.transform, out);
    if (!rec.transform_sha256.empty()) {
      out += ",\"sha256\":";
      AppendJsonString(rec.transform_sha256, out);
    }
    out += '}';
  }
  out += "}\n";
}

void AppendRecordLine(const RecordEnvelope& rec, std::string& out) {
  AppendRecordHead(rec.gateway, rec.epoch, rec.seq, out);
  AppendRecordBody(rec, out);
}

}  // namespace ferry::agent
