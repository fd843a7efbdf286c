"""ferry-landing --store s3://bucket/prefix in front of s3rver (the S3 REST API on disk): ferry's batches land as objects <prefix>/gateway=G/dt=D/<key>.ndjson.zst with their
metadata, exactly once, also while the store is down for a while (ferry-landing answers 503 and
ferry retries); a repeated key is found with a HEAD and answered {"duplicate":true}; DuckDB
reads the objects with hive_partitioning and counts records per device and day; a batch over
1 MiB compressed lands whole."""

import base64
import json
import os
import subprocess
import urllib.request

import harness
import s3harness

PUBLISHERS = 3
FIRST = 600   # per publisher, before the outage
OUTAGE = 400  # per publisher, while s3rver is down
PAYLOAD = '{"temperature":21.5,"seq":{i},"pub":{p}}'


def post_again(landing: s3harness.S3Landing, batch: harness.Batch) -> str:
    """POSTs an already landed object's bytes under its key again; returns the answer."""
    req = urllib.request.Request(landing.batches_url, data=batch.path.read_bytes(), method="POST")
    for name, value in (("Content-Type", "application/x-ndjson"), ("Content-Encoding", "zstd"),
                        ("Idempotency-Key", batch.key), ("Ferry-Gateway", batch.gateway),
                        ("Ferry-Records", str(len(batch.records))), ("Ferry-Schema", "1")):
        req.add_header(name, value)
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.status == 200, resp.status
        return resp.read().decode()


def test(s: harness.Session) -> None:
    s3 = s3harness.store(s)
    landing = s3harness.S3Landing(s, s3, prefix="lake/v1")
    broker = s.broker()
    ferry = s.ferry(broker, landing, subscriptions=["zigbee2mqtt/+"],
                    overrides={harness.ROUTES_KEY: [{"topic": "zigbee2mqtt/{device}"}]})

    first = harness.publish(broker, "zigbee2mqtt/dev{p}", count=FIRST, publishers=PUBLISHERS,
                            payload=PAYLOAD)
    print(f"published: {first}")
    harness.wait_for(lambda: len(s3.records("lake/v1")) >= FIRST * PUBLISHERS, 60,
                     "the first records in the bucket", interval=0.25)

    batches = s3.batches("lake/v1")
    answer = post_again(landing, batches[0])
    assert answer == '{"duplicate":true}', f"a repeated key was answered {answer}"
    assert len(s3.batches("lake/v1")) == len(batches), "a repeated key was stored again"

    s3.stop()
    print("the store stopped")
    second = harness.start_publish(s, broker, "zigbee2mqtt/dev{p}", count=OUTAGE,
                                   publishers=PUBLISHERS,
                                   payload='{"temperature":22,"seq":{i},"pub":{p},"late":1}')
    second.wait(timeout=60)
    failed = harness.wait_for(lambda: harness.failed_upstream_requests(ferry.metrics()), 30,
                              "failed upstream requests while the store is down")
    log = landing.log.read_text()
    assert "retrying with backoff" in log, f"the landing's log does not say why: {log[-2000:]}"
    print(f"failed upstream requests while the store was down: {failed:.0f}")
    s3.start()
    print("the store restarted")

    total = PUBLISHERS * (FIRST + OUTAGE)
    records = harness.wait_for(
        lambda: r if len(r := s3.records("lake/v1")) >= total else None, 90,
        f"{total} records in the bucket", interval=0.5)
    ferry.wait_metric("ferry_queue_records", lambda v: v == 0, 30, "the queue to drain")
    records = s3.records("lake/v1")
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids)) == total, f"{len(ids)} records, {len(set(ids))} distinct"
    keys = {(r["data"]["pub"], r["data"]["seq"], "late" in r["data"]) for r in records}
    expected = {(p, i, False) for p in range(1, PUBLISHERS + 1) for i in range(1, FIRST + 1)}
    expected |= {(p, i, True) for p in range(1, PUBLISHERS + 1) for i in range(1, OUTAGE + 1)}
    assert keys == expected, f"missing {len(expected - keys)}, unexpected {len(keys - expected)}"
    harness.check_batches_in_order(s3.batches("lake/v1"))
    print(f"{total} records exactly once in {len(s3.batches('lake/v1'))} objects")

    rows = s3harness.duckdb_query(
        "SELECT device, CAST(dt AS VARCHAR) AS dt, count(*) AS n FROM read_json("
        f"'{s3.duckdb_glob('lake/v1')}', format = 'newline_delimited', "
        "compression = 'zstd', hive_partitioning = true) GROUP BY ALL ORDER BY ALL")
    counted: dict[tuple[str, str], int] = {}
    for r in records:
        day = r["received_at"][:10]
        counted[(r["device"], day)] = counted.get((r["device"], day), 0) + 1
    got = {(row["device"], row["dt"]): int(row["n"]) for row in rows}
    print(f"DuckDB, records per device and day: {got}")
    assert got == counted, f"DuckDB counted {got}, the objects hold {counted}"

    big_batch(s, s3)


def big_batch(s: harness.Session, s3) -> None:
    """A batch over 1 MiB compressed, which libcurl PUTs with "Expect: 100-continue" (a header
    it adds unsigned; signed headers it does not send break SigV4 at stores that verify it)."""
    big = s3harness.S3Landing(s, s3, prefix="big", name="landing-big")
    n = 4000
    lines = [json.dumps({"id": f"gw-big.e1.{i}", "seq": i, "gateway": "gw-big", "source": "mqtt",
                         "topic": "t", "ts": "2026-12-06T10:00:00.000Z", "ts_source": "received",
                         "received_at": "2026-12-06T10:00:00.000Z", "labels": {},
                         "data": {"blob": base64.b64encode(os.urandom(600)).decode()}})
             for i in range(1, n + 1)]
    raw = ("\n".join(lines) + "\n").encode()
    body = subprocess.run([harness.ZSTD_BIN, "-q", "-c"], input=raw, capture_output=True,
                          check=True).stdout
    assert len(body) > 2 << 20, f"only {len(body)} bytes compressed"
    req = urllib.request.Request(big.batches_url, data=body, method="POST")
    for name, value in (("Content-Type", "application/x-ndjson"), ("Content-Encoding", "zstd"),
                        ("Idempotency-Key", f"gw-big.e1.1-{n}"), ("Ferry-Gateway", "gw-big"),
                        ("Ferry-Records", str(n)), ("Ferry-Schema", "1")):
        req.add_header(name, value)
    with urllib.request.urlopen(req, timeout=60) as resp:
        answer = resp.read().decode()
    assert json.loads(answer).get("stored") is True, f"the big batch was answered {answer}"
    files = [p for k, p in s3.object_files().items() if k.startswith("big/")]
    assert len(files) == 1 and files[0].read_bytes() == body, f"big/ holds {files}"
    assert len(harness.read_ndjson_zst(files[0])) == n
    print(f"a batch of {len(body)} bytes compressed ({n} records) landed whole")


if __name__ == "__main__":
    harness.main(test)
