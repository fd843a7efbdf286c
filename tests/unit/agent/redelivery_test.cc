#include "agent/mqtt/redelivery.h"

#include <doctest/doctest.h>

using ferry::agent::RedeliveryFilter;

TEST_CASE("a stored message sent again after a reconnect is recognized, then the phase ends") {
  RedeliveryFilter f;
  uint64_t a = RedeliveryFilter::Hash("t/a", "{\"v\":1}");
  uint64_t b = RedeliveryFilter::Hash("t/a", "{\"v\":2}");
  f.Remember(7, a);
  f.Remember(8, b);
  CHECK(!f.IsRedelivery(7, a));  // not armed: no connection was made since
  f.Arm();
  CHECK(f.IsRedelivery(7, a));
  CHECK(f.IsRedelivery(8, b));
  CHECK(!f.IsRedelivery(9, a));  // something new: redeliveries are over
  CHECK(!f.IsRedelivery(8, b));  // even a repeat of a known pair is now a new message
}

TEST_CASE("same packet id with other content is a new message") {
  RedeliveryFilter f;
  f.Remember(7, RedeliveryFilter::Hash("t/a", "1"));
  f.Arm();
  CHECK(!f.IsRedelivery(7, RedeliveryFilter::Hash("t/a", "2")));
  CHECK(!f.IsRedelivery(7, RedeliveryFilter::Hash("t/b", "1")));
}

TEST_CASE("pairs survive a restart through their packed form, newest groups first") {
  std::string older, newer;
  RedeliveryFilter::Pack(65535, 0x0123456789abcdefULL, older);
  RedeliveryFilter::Pack(1, 42, newer);
  RedeliveryFilter f;
  f.Load({newer, older});
  f.Arm();
  CHECK(f.IsRedelivery(65535, 0x0123456789abcdefULL));
  CHECK(f.IsRedelivery(1, 42));
}

TEST_CASE("the filter forgets the oldest pairs beyond its capacity") {
  RedeliveryFilter f;
  for (size_t i = 0; i <= RedeliveryFilter::kCapacity; ++i) f.Remember(static_cast<uint16_t>(i), i);
  f.Arm();
  CHECK(!f.IsRedelivery(0, 0));
  f.Arm();
  CHECK(f.IsRedelivery(1, 1));
}

TEST_CASE("the filter holds two groups of the configured size, at least kCapacity pairs") {
  CHECK(RedeliveryFilter::CapacityFor(1024) == RedeliveryFilter::kCapacity);
  CHECK(RedeliveryFilter::CapacityFor(10'000) == 20'000);
  // Two groups of 10,000 QoS 1 messages stored, none acknowledged: the broker resends all of
  // them, the oldest first, and every one is recognized (packet ids wrap at 65,535).
  RedeliveryFilter f(RedeliveryFilter::CapacityFor(10'000));
  for (uint64_t i = 0; i < 20'000; ++i) f.Remember(static_cast<uint16_t>(i % 65'535 + 1), i);
  f.Arm();
  bool all = true;
  for (uint64_t i = 0; i < 20'000; ++i) {
    all = all && f.IsRedelivery(static_cast<uint16_t>(i % 65'535 + 1), i);
  }
  CHECK(all);
  CHECK(!f.IsRedelivery(1, 20'000));  // the first new message ends the redelivery phase
  CHECK(!f.armed());
}

TEST_CASE("a pair remembered twice is still known after the older copy is forgotten") {
  RedeliveryFilter f(2);
  f.Remember(7, 70);
  f.Remember(7, 70);
  f.Remember(8, 80);  // forgets the first (7, 70)
  f.Arm();
  CHECK(f.IsRedelivery(7, 70));
  CHECK(f.IsRedelivery(8, 80));
}

TEST_CASE("an empty filter is never armed") {
  RedeliveryFilter f;
  f.Arm();
  CHECK(!f.armed());
}
