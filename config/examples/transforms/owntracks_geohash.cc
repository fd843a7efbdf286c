// Ferry transform (C++, nlohmann/json): OwnTracks location and transition messages become
// records with the event time from the phone's clock (tst), the position as a geohash (so the
// landing zone can group positions by area without floating-point joins), and two corrections
// the rules cannot make: some Android builds report the battery in millivolts instead of
// percent (batt 4150), and a velocity of 999 km/h is the app's "unknown". Other message types
// (waypoints, cards, lwt) pass through with the rules' records.
//
// Protocol (docs/transforms.md): one JSON request per line on stdin, one reply per line on
// stdout, flushed.
//
// Build: c++ -std=c++17 -O2 owntracks_geohash.cc -o owntracks-geohash (nlohmann-json3-dev).
#include <cmath>
#include <ctime>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

using nlohmann::json;

namespace {

// The standard geohash: interleaved longitude/latitude bisections, base 32.
std::string Geohash(double lat, double lon, int precision) {
  static const char kBase32[] = "0123456789bcdefghjkmnpqrstuvwxyz";
  double lat_range[2] = {-90, 90}, lon_range[2] = {-180, 180};
  std::string hash;
  int bits = 0, value = 0;
  bool even = true;
  while (static_cast<int>(hash.size()) < precision) {
    double* range = even ? lon_range : lat_range;
    double v = even ? lon : lat;
    double mid = (range[0] + range[1]) / 2;
    value <<= 1;
    if (v >= mid) {
      value |= 1;
      range[0] = mid;
    } else {
      range[1] = mid;
    }
    even = !even;
    if (++bits == 5) {
      hash += kBase32[value];
      bits = value = 0;
    }
  }
  return hash;
}

std::string IsoTime(int64_t seconds) {
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// "owntracks/<user>/<device>[/event]" -> "<user>/<device>".
std::string DeviceOf(const std::string& topic) {
  size_t a = topic.find('/'), b = topic.find('/', a + 1);
  if (a == std::string::npos || b == std::string::npos) return topic;
  size_t c = topic.find('/', b + 1);
  return topic.substr(a + 1, c == std::string::npos ? std::string::npos : c - a - 1);
}

json Record(const std::string& topic, const json& m) {
  double lat = m.at("lat").get<double>(), lon = m.at("lon").get<double>();
  if (std::abs(lat) > 90 || std::abs(lon) > 180) throw std::runtime_error("position out of range");
  json data = {{"lat", lat}, {"lon", lon}, {"geohash", Geohash(lat, lon, 8)}};
  for (const char* key : {"acc", "alt", "conn", "event", "desc", "tid"})
    if (m.contains(key)) data[key] = m[key];
  if (m.contains("batt")) {
    data[m["batt"].get<double>() > 100 ? "battery_mv" : "battery_pct"] = m["batt"];
  }
  if (m.contains("vel") && m["vel"].get<double>() != 999) data["vel_kmh"] = m["vel"];
  json record = {{"device", DeviceOf(topic)}, {"labels", {{"type", m["_type"]}}}, {"data", data}};
  if (m.contains("tst")) record["ts"] = IsoTime(m["tst"].get<int64_t>());
  return record;
}

json Handle(const json& request) {
  json reply = {{"id", request.at("id")}};
  const json& records = request.contains("records") ? request["records"] : json::array();
  if (!request.contains("payload")) return reply["records"] = records, reply;
  json m = json::parse(request["payload"].get<std::string>(), nullptr, false);
  std::string type = m.is_object() ? m.value("_type", "") : "";
  if (type != "location" && type != "transition") return reply["records"] = records, reply;
  try {
    reply["records"] = json::array({Record(request.at("topic").get<std::string>(), m)});
  } catch (const std::exception& e) {
    reply = {{"id", request.at("id")}, {"error", e.what()}};
  }
  return reply;
}

}  // namespace

int main() {
  std::ios::sync_with_stdio(false);
  std::string line;
  while (std::getline(std::cin, line)) {
    json request = json::parse(line, nullptr, false);
    if (!request.is_object() || !request.contains("id")) {
      std::cerr << "not a request: " << line.substr(0, 200) << "\n";
      continue;
    }
    std::cout << Handle(request).dump(-1, ' ', false, json::error_handler_t::replace) << "\n"
              << std::flush;
  }
  return 0;
}
