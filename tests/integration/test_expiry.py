"""storage.max_age: with the landing zone down, records older than max_age ("3s") are dropped
by the housekeeping (every 10 s) and counted as ferry_records_dropped_total{reason="expired"};
the queue ends empty, none of them is ever delivered, and new messages are delivered normally
once the landing zone is back."""

import time

import harness

OLD = 100
NEW = 20
MAX_AGE = 3.0
HOUSEKEEPING = 10.0


def test(s: harness.Session) -> None:
    s.pin_binaries()  # restarts keep using the binaries this run started with
    broker = s.broker()
    landing = s.landing(port=harness.free_port())
    landing.stop()
    ferry = s.ferry(broker, landing, overrides={"storage": {"max_age": f"{int(MAX_AGE)}s"}})

    res = harness.publish(broker, "zigbee2mqtt/dev1", count=OLD,
                          payload='{"temperature":20,"seq":{i},"pub":1}')
    assert res.acked == OLD, res
    published = time.monotonic()
    harness.wait_for(lambda: ferry.status()["queue"]["records"] == OLD, 10, f"{OLD} queued")
    time.sleep(max(0.0, published + MAX_AGE - 0.8 - time.monotonic()))
    early = ferry.metric("ferry_records_dropped_total", reason="expired")
    age = ferry.metric("ferry_queue_oldest_age_seconds")
    print(f"{time.monotonic() - published:.1f} s after publishing: expired {early:.0f}, "
          f"oldest age {age:.1f} s")
    assert early == 0, "records expired before storage.max_age"

    expired = ferry.wait_metric("ferry_records_dropped_total", lambda v: v >= OLD,
                                MAX_AGE + HOUSEKEEPING + 8, f"{OLD} records expired",
                                reason="expired")
    took = time.monotonic() - published
    time.sleep(0.5)
    m = ferry.metrics()
    st = ferry.status()
    print(f"expired {expired:.0f} records {took:.1f} s after publishing (max_age {MAX_AGE:g} s, "
          f"housekeeping every {HOUSEKEEPING:g} s); queue {st['queue']['records']} records, "
          f"ferry_queue_records {m['ferry_queue_records']:.0f}, oldest age "
          f"{m['ferry_queue_oldest_age_seconds']:.1f} s, dropped by reason "
          f"{dict((l['reason'], v) for l, v in m.samples('ferry_records_dropped_total'))}")
    assert m.sum("ferry_records_dropped_total", reason="expired") == OLD
    assert m.sum("ferry_records_dropped_total") == OLD, "drops for other reasons"
    assert st["queue"]["records"] == 0 and m["ferry_queue_records"] == 0
    assert m["ferry_queue_oldest_age_seconds"] == 0
    assert took <= MAX_AGE + HOUSEKEEPING + 3

    landing.start()
    res = harness.publish(broker, "zigbee2mqtt/dev2", count=NEW,
                          payload='{"temperature":21,"seq":{i},"pub":2}')
    assert res.acked == NEW, res
    records = landing.wait_records(NEW, timeout=30, settle=2, ferry=ferry)
    print(f"after the landing came back: {len(records)} records landed "
          f"({sum(r['data']['pub'] == 1 for r in records)} of the expired ones)")
    harness.check_exactly_once(records, {(2, i) for i in range(1, NEW + 1)})
    assert ferry.metric("ferry_records_dropped_total", reason="expired") == OLD


if __name__ == "__main__":
    harness.main(test)
