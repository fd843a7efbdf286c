// A queue for tests of the agent's parts: in `path`, without fsync, with a fixed boot id.
// `exclusive` false lets the test open the file through a second connection meanwhile.
#pragma once

#include <doctest/doctest.h>

#include <memory>
#include <string>

#include "platform/random.h"
#include "storage/queue.h"

namespace ferry::testing {

// `vfs`: a FaultVfs's name, to inject storage faults (support/fault_vfs.h).
inline std::unique_ptr<storage::Queue> OpenTestQueue(const std::string& path,
                                                     platform::Clock& clock,
                                                     const std::string& vfs = "",
                                                     bool exclusive = true) {
  storage::QueueOptions options;
  options.exclusive = exclusive;
  options.path = path;
  options.vfs = vfs;
  options.sync_full = false;
  options.boot_id = "boot";
  platform::FixedRandom random(1);
  auto queue = storage::Queue::Open(options, clock, random);
  REQUIRE_MESSAGE(queue.ok(), queue.status().ToString());
  return std::move(*queue);
}

}  // namespace ferry::testing
