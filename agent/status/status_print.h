// `ferry status`: a person's view of a running agent's /status, once, live (--watch) or as the
// JSON itself (--json).
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace ferry::agent {

// Formats the /status JSON as a few aligned lines; tolerates missing keys. Durations read
// "3h 12m", sizes "1.5 MiB"; the message counts reconcile: received = stored + dead-lettered
// + ignored (+ any still in intake's hands). With `previous` (an earlier /status) and the
// seconds between them, rates per second are shown too (--watch).
std::string FormatStatusForPerson(const nlohmann::json& status,
                                  const nlohmann::json* previous = nullptr,
                                  double seconds_between = 0);

// "23s", "4m 05s", "3h 12m", "2d 4h".
std::string HumanDuration(double seconds);
// "512 B", "1.5 KiB", "64.0 MiB".
std::string HumanBytes(double bytes);

struct StatusArgs {
  std::string url;     // the status server, any form StatusBaseUrl() takes
  bool json = false;   // print /status as it is
  bool watch = false;  // refresh in place until interrupted
  int interval_ms = 2000;
};

// Fetches /status and prints it to stdout (errors to stderr). Returns the exit code: 0, or 1
// when the agent cannot be reached (--watch keeps trying, and says so, until interrupted).
int RunStatus(const StatusArgs& args);

}  // namespace ferry::agent
