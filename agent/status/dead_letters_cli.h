// `ferry dead-letters list|replay`: the dead-letter store of a running agent, through its
// status server (GET /dead-letters, POST /dead-letters/replay).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ferry::agent {

struct DeadLettersArgs {
  std::string url;           // the status server, "http://127.0.0.1:7070"
  std::string token;         // status.token, when the server is not on loopback
  int64_t after = 0;         // list: page after this id
  int limit = 50;            // list: page size
  bool all = false;          // replay: everything
  std::vector<int64_t> ids;  // replay: these
};

// Prints one line per dead letter (id, time, reason, topic, payload cut to 120 bytes) and a
// hint for the next page. Returns the exit code: 0, or 1 when the agent cannot be reached.
int ListDeadLetters(const DeadLettersArgs& args, std::string* out);
// Replays and prints what happened. Returns 0, 1 when it failed, 2 with neither ids nor --all.
int ReplayDeadLetters(const DeadLettersArgs& args, std::string* out);

}  // namespace ferry::agent
