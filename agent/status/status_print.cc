#include "agent/status/status_print.h"

#include <httplib.h>

#include <cstdio>

namespace ferry::agent {

namespace {

std::string Get(const nlohmann::json& j, const char* a, const char* b = nullptr) {
  const nlohmann::json* v = &j;
  for (const char* k : {a, b}) {
    if (!k) break;
    if (!v->is_object() || !v->contains(k)) return "-";
    v = &(*v)[k];
  }
  if (v->is_string()) return v->get<std::string>().empty() ? "-" : v->get<std::string>();
  return v->dump();
}

std::string Line(const char* label, const std::string& value) {
  char buf[64];
  snprintf(buf, sizeof buf, "%-14s", label);
  return std::string(buf) + value + "\n";
}

}  // namespace

std::string FormatStatusForPerson(const nlohmann::json& s) {
  std::string out;
  out += Line("gateway", Get(s, "gateway") + "  (ferry " + Get(s, "version") + ", up " +
                             Get(s, "uptime_seconds") + " s)");
  out += Line("mqtt", Get(s, "mqtt", "state"));
  out += Line("queue", Get(s, "queue", "records") + " records, " + Get(s, "queue", "bytes") +
                           " bytes, oldest " + Get(s, "queue", "oldest_age_seconds") + " s");
  out += Line("upstream", Get(s, "upstream", "state") +
                              (Get(s, "upstream", "next_attempt") != "-"
                                   ? ", next attempt " + Get(s, "upstream", "next_attempt")
                                   : ""));
  out += Line("dead letters", Get(s, "dead_letters"));
  out += Line("received", Get(s, "counters", "records_received"));
  out += Line("delivered", Get(s, "counters", "records_delivered"));
  out += Line("last error", Get(s, "last_error"));
  return out;
}

int PrintStatus(const std::string& url, std::string* out) {
  httplib::Client client(url);
  client.set_connection_timeout(3, 0);
  client.set_read_timeout(5, 0);
  auto res = client.Get("/status");
  if (!res) {
    *out = "cannot reach " + url + ": " + httplib::to_string(res.error()) +
           "\nIs ferry running? Its status address is status.listen in the config.\n";
    return 1;
  }
  if (res->status != 200) {
    *out = url + "/status answered " + std::to_string(res->status) + "\n";
    return 1;
  }
  auto j = nlohmann::json::parse(res->body, nullptr, false);
  if (j.is_discarded()) {
    *out = url + "/status did not answer JSON\n";
    return 1;
  }
  *out = FormatStatusForPerson(j);
  return 0;
}

}  // namespace ferry::agent
