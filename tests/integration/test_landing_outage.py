"""The landing zone goes away while messages flow: ferry keeps taking messages in, queues them,
counts the failed requests, and once the landing zone is back (same port, same root) delivers
the whole backlog exactly once and in sequence order."""

import harness

STREAM_PUBLISHERS = 2
STREAM_PER_PUBLISHER = 1500  # at 300 msg/s each: about 5 s
BURST = 2000                 # published while the landing zone is down
PAYLOAD = '{"temperature":21.5,"seq":{i},"pub":{p}}'


def test(s: harness.Session) -> None:
    broker = s.broker()
    landing = s.landing(port=harness.free_port())
    ferry = s.ferry(broker, landing, subscriptions=["zigbee2mqtt/+"])

    stream = harness.start_publish(s, broker, "zigbee2mqtt/dev{p}", count=STREAM_PER_PUBLISHER,
                                   publishers=STREAM_PUBLISHERS, rate=300, payload=PAYLOAD)
    harness.wait_for(lambda: landing.count() >= 300, 60, "300 records at the landing zone",
                     interval=0.1)
    rc = landing.stop()
    before = landing.count()
    print(f"landing stopped (SIGTERM, exit code {rc}) holding {before} records")

    res = stream.wait(timeout=60)
    print(f"stream: {res}")
    # Publisher number 3 keeps (pub, seq) apart from the stream's publishers 1 and 2.
    burst = harness.publish(broker, "zigbee2mqtt/dev3",
                            count=BURST, payload=PAYLOAD.replace("{p}", "3"))
    print(f"burst while the landing zone is down: {burst}")

    queued = harness.wait_for(
        lambda: harness.status_queue_records(ferry.status()) >= BURST and ferry.status(), 30,
        f"/status to show at least {BURST} queued records")
    print(f"/status: queue {queued['queue']}, upstream {queued['upstream']}")
    failed = harness.wait_for(lambda: harness.failed_upstream_requests(ferry.metrics()), 30,
                              "failed upstream requests in the metrics")
    print(f"failed upstream requests: {failed:.0f}")
    state = harness.status_upstream_state(ferry.status())
    assert state not in harness.UPSTREAM_HEALTHY_STATES, f"upstream state is {state!r} in an outage"
    assert landing.count() == before, "records arrived while the landing zone was down"

    landing.start()
    total = STREAM_PUBLISHERS * STREAM_PER_PUBLISHER + BURST
    print(f"landing restarted on port {landing.port}")
    records = landing.wait_records(total, timeout=90, ferry=ferry)
    batches = landing.batches()
    print(f"landing: {len(records)} records in {len(batches)} files")

    expected = {(p, i) for p in range(1, STREAM_PUBLISHERS + 1)
                for i in range(1, STREAM_PER_PUBLISHER + 1)}
    expected |= {(3, i) for i in range(1, BURST + 1)}
    harness.check_exactly_once(records, expected)
    seqs = harness.check_batches_in_order(batches, contiguous=True)
    assert all(x < y for x, y in zip(seqs, seqs[1:])), "seq not strictly increasing overall"
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "gaps in seq without dead letters"
    burst_seqs = [r["seq"] for r in records if r["data"]["pub"] == 3]
    assert burst_seqs == sorted(burst_seqs), "the backlog arrived out of order"
    print(f"seq {seqs[0]}..{seqs[-1]} contiguous over {len(batches)} files")

    ferry.wait_metric("ferry_queue_records", lambda v: v == 0, 30, "the queue to drain")
    ferry.wait_metric("ferry_records_delivered_total", lambda v: v >= total, 30,
                      f"ferry_records_delivered_total to reach {total}")
    state = harness.wait_for(
        lambda: (st := harness.status_upstream_state(ferry.status()))
        in harness.UPSTREAM_HEALTHY_STATES and st, 30, "upstream state to recover")
    print(f"upstream state after the backlog: {state}")


if __name__ == "__main__":
    harness.main(test)
