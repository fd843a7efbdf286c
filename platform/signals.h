// Process signals handled synchronously: SIGTERM/SIGINT (stop) and SIGHUP (reload) are blocked
// in every thread and collected by one waiting thread, so no handler runs in a random thread.
#pragma once

namespace ferry::platform {

enum class SignalEvent { kNone, kStop, kReload };

// Blocks SIGTERM, SIGINT and SIGHUP for the calling thread and every thread it starts later,
// and ignores SIGPIPE. Call first thing in main, before any thread starts.
void BlockProcessSignals();

// Waits up to `timeout_ms` for one of the blocked signals. kNone on timeout.
SignalEvent WaitForSignal(int timeout_ms);

}  // namespace ferry::platform
