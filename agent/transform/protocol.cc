#include "agent/transform/protocol.h"

#include "agent/normalize/event_time.h"
#include "agent/normalize/utf8.h"
#include "agent/record/record.h"
#include "platform/clock.h"

namespace ferry::agent {

using nlohmann::json;

namespace {

void AppendBase64(std::string_view in, std::string& out) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int shift : {18, 12, 6, 0}) out += kAlphabet[(v >> shift) & 63];
  }
  if (i + 1 == in.size()) {
    uint32_t v = uint8_t(in[i]) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
}

void AppendRecord(const Normalized& r, std::string& out) {
  out += '{';
  if (!r.device.empty()) {
    out += "\"device\":";
    AppendJsonString(r.device, out);
    out += ',';
  }
  out += "\"ts\":\"";
  out += platform::FormatRfc3339Millis(r.ts_ms);
  out += r.ts_from_payload ? "\",\"ts_source\":\"payload\"" : "\",\"ts_source\":\"received\"";
  out += ",\"labels\":{";
  bool first = true;
  for (const auto& [name, value] : r.labels) {
    if (!first) out += ',';
    first = false;
    AppendJsonString(name, out);
    out += ':';
    AppendJsonString(value, out);
  }
  out += "},\"data\":";
  out += r.data.is_null() ? "{}" : r.data.dump(-1, ' ', false, json::error_handler_t::replace);
  out += '}';
}

bool ReadLabels(const json& labels, std::map<std::string, std::string>* out, std::string* error) {
  if (!labels.is_object()) {
    *error = "bad reply: labels must be an object";
    return false;
  }
  out->clear();
  for (const auto& [name, value] : labels.items()) {
    (*out)[name] = value.is_string() ? value.get<std::string>()
                                     : value.dump(-1, ' ', false, json::error_handler_t::replace);
  }
  return true;
}

bool ReadRecord(const json& rec, const Normalized* defaults, int64_t received_ms, Normalized* out,
                std::string* error) {
  if (!rec.is_object()) return *error = "bad reply: a record must be an object", false;
  if (defaults != nullptr) {
    out->device = defaults->device;
    out->ts_ms = defaults->ts_ms;
    out->ts_from_payload = defaults->ts_from_payload;
    out->labels = defaults->labels;
  } else {
    out->ts_ms = received_ms;
  }
  auto device = rec.find("device");
  if (device != rec.end() && !device->is_null()) {
    if (!device->is_string()) return *error = "bad reply: device must be a string", false;
    out->device = device->get<std::string>();
  }
  auto ts = rec.find("ts");
  if (ts != rec.end() && !ts->is_null()) {
    TimeStatus why = TimeStatus::kMissing;
    std::optional<int64_t> ms = ParseEventTimeMs(*ts, TimeSpec{}, received_ms, &why);
    if (!ms) return *error = "bad reply: ts " + ts->dump() + " is not a time", false;
    out->ts_ms = *ms;
    out->ts_from_payload = true;
  }
  auto labels = rec.find("labels");
  if (labels != rec.end() && !ReadLabels(*labels, &out->labels, error)) return false;
  auto data = rec.find("data");
  if (data == rec.end() || !data->is_object()) {
    return *error = "bad reply: a record's data must be an object", false;
  }
  out->data = *data;
  return true;
}

}  // namespace

void AppendTransformRequest(const TransformRequest& request, std::string& out) {
  out += "{\"id\":";
  out += std::to_string(request.id);
  out += ",\"topic\":";
  AppendJsonString(request.topic, out);
  if (FindInvalidUtf8(request.payload)) {
    out += ",\"payload_base64\":\"";
    AppendBase64(request.payload, out);
    out += '"';
  } else {
    out += ",\"payload\":";
    AppendJsonString(request.payload, out);
  }
  out += ",\"received_at\":\"";
  out += platform::FormatRfc3339Millis(request.received_ms);
  out += "\",\"records\":[";
  for (size_t i = 0; i < request.records.size(); ++i) {
    if (i > 0) out += ',';
    AppendRecord(request.records[i], out);
  }
  out += "]}\n";
}

bool ParseReplyLine(std::string_view line, uint64_t* id, json* reply, std::string* error) {
  *reply = json::parse(line, nullptr, false);
  if (reply->is_discarded() || !reply->is_object()) {
    std::string shown(line.substr(0, 80));
    *error = "reply is not a JSON object: " +
             json(shown).dump(-1, ' ', false, json::error_handler_t::replace);
    return false;
  }
  auto it = reply->find("id");
  if (it == reply->end() || !it->is_number_unsigned()) {
    *error = "reply without a non-negative integer id";
    return false;
  }
  *id = it->get<uint64_t>();
  return true;
}

bool RecordsOfReply(const json& reply, const Normalized* defaults, int64_t received_ms,
                    std::vector<Normalized>* records, std::string* error) {
  records->clear();
  auto failed = reply.find("error");
  if (failed != reply.end() && !failed->is_null()) {
    *error = failed->is_string() ? failed->get<std::string>()
                                 : failed->dump(-1, ' ', false, json::error_handler_t::replace);
    return false;
  }
  auto list = reply.find("records");
  if (list == reply.end() || !list->is_array()) {
    *error = "bad reply: neither \"records\" (a list) nor \"error\"";
    return false;
  }
  records->resize(list->size());
  for (size_t i = 0; i < list->size(); ++i) {
    if (!ReadRecord((*list)[i], defaults, received_ms, &(*records)[i], error)) {
      *error += " (record " + std::to_string(i) + ")";
      return false;
    }
  }
  return true;
}

}  // namespace ferry::agent
