// The running agent: opens the queue, starts the intake, forwarder and status threads, and
// stops them in order. Only this file and main choose concrete implementations.
#pragma once

#include "agent/config/config.h"

namespace ferry::agent {

// Runs until SIGTERM or SIGINT. Returns the process exit code: 0 after a clean shutdown, 1 when
// the agent could not start (queue, status address). Call platform::BlockProcessSignals() first.
int RunAgent(const Config& config, const std::string& config_path);

}  // namespace ferry::agent
