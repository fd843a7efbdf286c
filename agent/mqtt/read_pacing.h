// Fewer wake-ups when busy. At tens of thousands of messages a second the intake thread
// drains the socket, polls again, and is woken by the broker's next writes: every round pays
// its poll, its reads and its wake-up however few messages it finds. After a round that read
// many packets the intake loop waits a moment before it polls again, so the next round finds
// more (QoS 0 at about 100k msg/s on the benchmark VM: wake-ups per message halved, intake's
// CPU per message down by a quarter to a third; tests/bench/RESULTS.md). At a gateway's usual
// rates a round reads one packet and nothing changes. Nothing depends on the pause: the socket
// holds what arrives meanwhile, and QoS 1 messages stay unacknowledged.
#pragma once

#include <cstdint>

namespace ferry::agent {

struct ReadPacing {
  // A round that read this many packets or more counts as busy.
  static constexpr int kBusyRoundPackets = 8;
  // The pause after a busy round: about 20 messages at 100k msg/s, a few KiB of socket buffer.
  static constexpr int64_t kPauseMicros = 200;

  // The pause before the next poll after a round that read `packets`, in microseconds (0: poll
  // at once). None while something waits to be written (PUBACKs the broker has not taken) or
  // while input is already buffered, which poll(2) would not report.
  static constexpr int64_t PauseMicros(int packets, bool write_waiting, bool input_buffered) {
    if (write_waiting || input_buffered) return 0;
    return packets >= kBusyRoundPackets ? kPauseMicros : 0;
  }
};

}  // namespace ferry::agent
