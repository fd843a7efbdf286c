"""ferry's s3:// upstream against s3rver (the S3 REST API on disk): every batch is
one object <prefix>/gateway=G/dt=D/<key>.ndjson.zst (dt: the first record's received_at) with
its metadata, and every record lands exactly once through the faults an object store brings:
503 SlowDown answers, PUTs whose answer is lost after the object was written (a proxy drops
it), the store down for a while, and kill -9 of the agent while its answers are being lost."""

import harness
import s3harness
from s3_fault_proxy import S3FaultProxy

PUBS = 3
STEP = 150  # messages per publisher in each phase
PAYLOAD = '{"temperature":21.5,"seq":{i},"pub":{p}}'
PREFIX = "fleet/v1"


def test(s: harness.Session) -> None:
    s3 = s3harness.store(s)
    proxy = S3FaultProxy(s3.port)
    broker = s.broker()
    ferry = s3harness.s3_ferry(s, broker, s3, endpoint=proxy.endpoint, prefix=PREFIX,
                               overrides={"upstream": {"batch": {"max_records": 60}}})
    total = 0

    proxy.slowdown = 3
    harness.publish(broker, "zigbee2mqtt/dev{p}", count=STEP, publishers=PUBS, payload=PAYLOAD)
    total += PUBS * STEP
    s3harness.wait_landed(s3, PREFIX, total)
    assert proxy.slowed == 3, f"only {proxy.slowed} SlowDown answers were given"
    print(f"503 SlowDown x3: {total} records landed")

    proxy.lose = 2
    harness.publish(broker, "zigbee2mqtt/dev{p}", count=STEP, publishers=PUBS,
                    payload=PAYLOAD.replace('"pub":{p}', '"pub":{p}0'))
    total += PUBS * STEP
    s3harness.wait_landed(s3, PREFIX, total)
    assert proxy.lost == 2, f"only {proxy.lost} answers were lost"
    print(f"2 lost PUT answers: {total} records landed")

    failed = harness.failed_upstream_requests(ferry.metrics())
    s3.stop()
    harness.publish(broker, "zigbee2mqtt/dev{p}", count=STEP, publishers=PUBS,
                    payload=PAYLOAD.replace('"pub":{p}', '"pub":{p}00'))
    total += PUBS * STEP
    harness.wait_for(lambda: harness.failed_upstream_requests(ferry.metrics()) >= failed + 2, 30,
                     "failed uploads while the store is down")
    status = harness.wait_for(
        lambda: st if harness.status_upstream_state(st := ferry.status())
        not in harness.UPSTREAM_HEALTHY_STATES else None, 30, "the upstream to show a failure")
    print(f"store down: upstream {status['upstream']}, last_error {status['last_error']}")
    s3.start()
    s3harness.wait_landed(s3, PREFIX, total)
    print(f"store back: {total} records landed")

    # kill -9 while the answers of its PUTs are lost: the objects are written, ferry never
    # hears of it, and after the restart it sends the same batches under the same keys.
    proxy.lose = 10_000
    harness.publish(broker, "zigbee2mqtt/dev{p}", count=STEP, publishers=PUBS,
                    payload=PAYLOAD.replace('"pub":{p}', '"pub":{p}000'))
    total += PUBS * STEP
    harness.wait_for(lambda: proxy.lost >= 5, 30, "PUTs stored with their answers lost")
    ferry.kill()
    print(f"ferry killed (-9) after {proxy.lost} lost answers")
    proxy.lose = 0
    ferry.start()
    records = s3harness.wait_landed(s3, PREFIX, total)
    ferry.wait_metric("ferry_queue_records", lambda v: v == 0, 30, "the queue to drain")
    records = s3.records(PREFIX)

    expected = set()
    for scale in (1, 10, 100, 1000):
        expected |= {(p * scale, i) for p in range(1, PUBS + 1) for i in range(1, STEP + 1)}
    s3harness.check_exactly_once(records, expected)
    batches = s3.batches(PREFIX)
    harness.check_batches_in_order(batches)
    print(f"{len(records)} records exactly once in {len(batches)} objects; "
          f"{proxy.puts} PUTs, {proxy.slowed} slowed, {proxy.lost} answers lost")


if __name__ == "__main__":
    harness.main(test)
