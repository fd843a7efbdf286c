"""SIGKILL ferry while 20,000 QoS 1 messages stream in, restart it on the same queue: every
message reaches the landing zone exactly once (the broker keeps what ferry had not acknowledged
in its persistent session; the queue keeps what it had)."""

import time

import harness

PUBLISHERS = 4
PER_PUBLISHER = 5000
TOTAL = PUBLISHERS * PER_PUBLISHER
RATE = 400  # per publisher: 1,600 msg/s, about 12.5 s of traffic


def test(s: harness.Session) -> None:
    broker = s.broker()
    landing = s.landing()
    ferry = s.ferry(broker, landing, subscriptions=["zigbee2mqtt/+"],
                    overrides={harness.ROUTES_KEY: [{"topic": "zigbee2mqtt/{device}"}]})

    pub = harness.start_publish(s, broker, "zigbee2mqtt/dev{p}", count=PER_PUBLISHER,
                                publishers=PUBLISHERS, qos=1, rate=RATE)
    harness.wait_for(lambda: landing.count() >= 2000, 60, "2,000 records at the landing zone",
                     interval=0.2)
    at_kill = landing.count()
    ferry.kill()
    print(f"killed ferry (SIGKILL) with {at_kill} records at the landing zone, "
          f"publisher still running: {pub.running()}")
    time.sleep(1.0)  # messages go on arriving at the broker, for the offline session
    ferry.start()
    print(f"restarted ferry on {ferry.storage_path}; landing has {landing.count()} records")

    res = pub.wait(timeout=120)
    print(f"ferry-pub: {res}")
    assert res.published == TOTAL and res.acked == TOTAL, f"not all acknowledged: {res}"

    records = landing.wait_records(TOTAL, timeout=90, settle=3, ferry=ferry)
    batches = landing.batches()
    print(f"landing: {len(records)} records in {len(batches)} files")
    expected = {(p, i) for p in range(1, PUBLISHERS + 1) for i in range(1, PER_PUBLISHER + 1)}
    harness.check_exactly_once(records, expected)
    epochs = {harness.check_record_envelope(r, ferry.gateway)[0] for r in records}
    assert len(epochs) == 1, f"the restart on the same queue changed the epoch: {epochs}"
    harness.check_batches_in_order(batches)
    assert len(records) == TOTAL, f"landing holds {len(records)} records, expected {TOTAL}"
    ferry.check_alive()


if __name__ == "__main__":
    harness.main(test)
