// Fewer wake-ups when busy: when the intake loop pauses before polling, and that a Step's read
// round counts what it took.
#include "agent/mqtt/read_pacing.h"

#include <doctest/doctest.h>

using ferry::agent::ReadPacing;

TEST_CASE("a busy read round is followed by a pause before the next poll, a quiet one is not") {
  CHECK(ReadPacing::PauseMicros(0, false, false) == 0);  // the poll timed out
  CHECK(ReadPacing::PauseMicros(1, false, false) == 0);  // a gateway's usual rate
  CHECK(ReadPacing::PauseMicros(ReadPacing::kBusyRoundPackets - 1, false, false) == 0);
  CHECK(ReadPacing::PauseMicros(ReadPacing::kBusyRoundPackets, false, false) ==
        ReadPacing::kPauseMicros);
  CHECK(ReadPacing::PauseMicros(100'000, false, false) == ReadPacing::kPauseMicros);
  // Short enough that a stop, a due commit or a keep-alive is never noticeably late.
  CHECK(ReadPacing::kPauseMicros > 0);
  CHECK(ReadPacing::kPauseMicros <= 1000);
}

TEST_CASE("no pause while acknowledgements wait to be written or input is buffered") {
  CHECK(ReadPacing::PauseMicros(100'000, true, false) == 0);
  CHECK(ReadPacing::PauseMicros(100'000, false, true) == 0);
  CHECK(ReadPacing::PauseMicros(100'000, true, true) == 0);
}
