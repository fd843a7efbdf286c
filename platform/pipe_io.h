// Non-blocking pipe I/O for talking to a co-process (agent/transform): waiting on several
// descriptors at once, reading what is there, writing what fits. The descriptors are the
// caller's (O_NONBLOCK, as platform::Spawn makes them); nothing here closes them.
// SIGPIPE must be ignored (platform::InstallSignalHandlers does), so a write to a pipe whose
// reader is gone fails with kIoError instead of killing the process.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "platform/status.h"

namespace ferry::platform {

struct PollItem {
  int fd = -1;  // skipped when negative
  bool want_read = false;
  bool want_write = false;
  bool readable = false;  // out: data or end of file can be read
  bool writable = false;  // out
  bool hangup = false;    // out: the other end is closed (or an error is pending)
};

// Waits up to `timeout_ms` (>= 0) for any item to become ready and fills the out fields.
// Returns OK with nothing ready on timeout or EINTR; kIoError if poll itself fails.
Status PollFds(std::span<PollItem> items, int timeout_ms);

// Appends up to `max` bytes read from `fd` to *out and returns their number: 0 at end of
// file. kUnavailable when nothing can be read now; kIoError for any other failure.
Result<size_t> ReadSome(int fd, size_t max, std::string* out);

// Writes as much of `data` as the pipe takes now and returns how much (0 when it is full).
// kIoError when the reader is gone (EPIPE) or the write fails otherwise.
Result<size_t> WriteSome(int fd, std::string_view data);

}  // namespace ferry::platform
