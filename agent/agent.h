// The running agent: opens the queue, runs the pipeline (intake and forwarder threads) and the
// status server, reloads the config on SIGHUP or POST /reload, and stops in order on SIGTERM.
// Only this file and main choose concrete implementations.
//
// Reload: the new file is read and validated first; an invalid one is logged, shown in /status
// and changes nothing. A valid one replaces the pipeline: intake stops after committing and
// acknowledging what it read, the forwarder finishes its request, and both start again under
// the new settings (the MQTT session resumes; the queue and its batches are kept, so nothing is
// lost or sent twice). Settings of the queue file and the status server need a restart:
// storage.path, storage.sync, storage.compression_level, status.listen, status.token and
// gateway.id keep their old values until then, with a warning.
#pragma once

#include <string>
#include <vector>

#include "agent/config/config.h"

namespace ferry::agent {

// Runs until SIGTERM or SIGINT. Returns the process exit code: 0 after a clean shutdown, 1 when
// the agent could not start (queue, status address), 2 for a config it cannot use. Call
// platform::BlockProcessSignals() first.
int RunAgent(const Config& config, const std::string& config_path);

// The restart-only settings of `old_config` copied into `fresh`; returns the keys that differed.
std::vector<std::string> KeepRestartOnlySettings(const Config& old_config, Config* fresh);

}  // namespace ferry::agent
