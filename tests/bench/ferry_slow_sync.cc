// ferry-slow-sync: `ferry run` with every SQLite sync made slower, for issue 15's "QoS 1 intake
// on slow flash" figure (an SD card or eMMC takes milliseconds to tens of milliseconds per
// fsync; this machine's disk does not). Bench only, never installed.
//
//   ferry-slow-sync MS FERRY_PATH run --config FILE
//
// The shape lets the harness start it as a wrapper before its ferry command line
// (harness.Ferry.start(wrapper=[...])): FERRY_PATH is skipped and the agent runs in this
// process. Storage faults come through one seam: the tests' fault-injection VFS
// (tests/support/fault_vfs.h), made SQLite's default before the queue opens, with its sync
// delay set and real fsyncs kept.
#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "agent/agent.h"
#include "agent/config/config.h"
#include "platform/signals.h"
#include "support/fault_vfs.h"

int main(int argc, char** argv) {
  if (argc != 6 || std::string(argv[3]) != "run" || std::string(argv[4]) != "--config") {
    std::fprintf(stderr, "usage: ferry-slow-sync MS FERRY_PATH run --config FILE\n");
    return 2;
  }
  int delay_ms = std::atoi(argv[1]);
  ferry::platform::BlockProcessSignals();
  auto config = ferry::agent::LoadConfig(argv[5]);
  ferry::platform::Status st =
      config.ok() ? ferry::agent::ResolveSecrets(&*config) : config.status();
  if (!st.ok()) {
    std::fprintf(stderr, "%s\n", st.message().c_str());
    return 2;
  }
  ferry::testing::FaultVfs vfs("ferry-slow-sync");
  vfs.SetRealSyncs(true);
  vfs.SetSyncDelay(std::chrono::milliseconds(delay_ms));
  sqlite3_vfs_register(sqlite3_vfs_find(vfs.name().c_str()), /*makeDflt=*/1);
  std::fprintf(stderr, "ferry-slow-sync: every SQLite sync takes %d ms more\n", delay_ms);
  return ferry::agent::RunAgent(*config, argv[5]);
}
