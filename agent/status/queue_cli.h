// `ferry queue peek`: the oldest records a running agent holds in its queue, through its status
// server (GET /queue/peek?limit=N).
#pragma once

#include <string>

namespace ferry::agent {

struct QueuePeekArgs {
  std::string url;  // the status server, "http://127.0.0.1:7070" (any URL StatusBaseUrl takes)
  int limit = 10;   // records to show, 1 to 1000
};

// Prints a header line ("N records queued, the oldest M:"), then the records' NDJSON lines as
// they will be sent, one per line, and "more: ..." with the
// command that shows more when not all were shown. Returns the exit code: 0, or 1 when the
// agent cannot be reached or answers with an error.
int PeekQueue(const QueuePeekArgs& args, std::string* out);

}  // namespace ferry::agent
