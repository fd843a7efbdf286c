// `ferry dead-letters list|show|replay|purge`: the dead-letter store of a running agent,
// through its status server (GET /dead-letters, GET /dead-letters/ID, POST
// /dead-letters/replay, POST /dead-letters/purge). Payloads are printed safely: text with
// control characters escaped, anything that is not UTF-8 as hex (payload_view.h).
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
  bool all = false;          // replay, purge: everything
  std::vector<int64_t> ids;  // replay, purge: these; show: the first
};

// Prints two lines per dead letter (id, time, topic, reason; the payload escaped and cut to 120
// characters), how many of how many were shown, and the command for the next page. Returns
// the exit code: 0, or 1 when the agent cannot be reached.
int ListDeadLetters(const DeadLettersArgs& args, std::string* out);
// Prints one dead letter whole (payload as escaped text, or a hex dump). 0, 1 when it cannot
// be fetched (also an unknown id), 2 without an id.
int ShowDeadLetter(const DeadLettersArgs& args, std::string* out);
// Replays and prints what happened. Returns 0, 1 when it failed, 2 with neither ids nor --all.
int ReplayDeadLetters(const DeadLettersArgs& args, std::string* out);
// Deletes dead letters for good and prints how many went. 0, 1 when it failed, 2 with neither
// ids nor --all.
int PurgeDeadLetters(const DeadLettersArgs& args, std::string* out);

}  // namespace ferry::agent
