// The service manager's notification protocol (sd_notify): READY=1, WATCHDOG=1, STOPPING=1,
// RELOADING=1 and STATUS=... as datagrams to $NOTIFY_SOCKET. Written here rather than linking
// libsystemd: it is one datagram, and the agent stays free of a dependency a gateway image may
// not carry. Thread-safe.
#pragma once

#include <cstdint>
#include <string_view>

namespace ferry::platform {

// Sends `state` ("READY=1\nSTATUS=...") when the process runs under a service manager that
// asked for notifications; a no-op otherwise. Returns false if sending failed.
bool NotifyServiceManager(std::string_view state);

// Half the watchdog interval the service manager asked for ($WATCHDOG_USEC, when meant for
// this process), in ms; 0 when there is no watchdog.
int64_t WatchdogPingIntervalMs();

}  // namespace ferry::platform
