#include "platform/signals.h"

#include <errno.h>
#include <signal.h>
#include <time.h>

namespace ferry::platform {
namespace {

sigset_t ProcessSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  return set;
}

}  // namespace

void BlockProcessSignals() {
  sigset_t set = ProcessSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

SignalEvent WaitForSignal(int timeout_ms) {
  sigset_t set = ProcessSignals();
  timespec ts{timeout_ms / 1000, static_cast<long>(timeout_ms % 1000) * 1'000'000};
  int sig = sigtimedwait(&set, nullptr, &ts);
  if (sig == SIGTERM || sig == SIGINT) return SignalEvent::kStop;
  if (sig == SIGHUP) return SignalEvent::kReload;
  return SignalEvent::kNone;
}

}  // namespace ferry::platform
