"""Issue 10, finding 5 (dead letters can wedge intake), end to end: with
storage.dead_letters.full_policy "block", a store full of dead letters pauses intake and
/readyz and /status say so and what to do; `ferry dead-letters purge` empties it and intake
resumes with what the broker kept meanwhile. With the default drop_oldest, a flood of bad
messages drops the oldest dead letters (counted) and good messages keep flowing."""

import json

import harness

BAD = '{"not json' + "x" * 4000  # invalid JSON: a dead letter of about 4 KiB
GOOD = '{"temperature":21.5}'


def flood(s: harness.Session, broker: harness.Broker, name: str, n: int) -> None:
    replay = harness.write_replay(s.path(name), [(f"zigbee2mqtt/bad{i}", BAD) for i in range(n)])
    res = harness.publish(broker, replay=replay, qos=1)
    assert res.acked == n, f"broker acknowledged {res.acked} of {n}"


def good(s: harness.Session, broker: harness.Broker, name: str) -> None:
    replay = harness.write_replay(s.path(name), [("zigbee2mqtt/good", GOOD)])
    assert harness.publish(broker, replay=replay, qos=1).acked == 1


def test_block(s: harness.Session, broker: harness.Broker, landing: harness.Landing) -> None:
    ferry = s.ferry(broker, landing, name="ferry-block", overrides={
        "storage": {"max_size": "1MiB",
                    "dead_letters": {"max_size": "64KiB", "full_policy": "block"}}})
    flood(s, broker, "bad-block.ndjson", 40)  # 160 KiB of dead letters against 64 KiB

    def paused():
        code, body = ferry.get("/readyz")
        return body if code == 503 and "dead letters fill" in body else None
    why = harness.wait_for(paused, 30, "/readyz to say the dead letters fill their store")
    print(f"/readyz: 503 {why.strip()}")
    assert "purge" in why, why
    store = ferry.status()["dead_letter_store"]
    print(f"/status dead_letter_store: {store}")
    assert store["full"] is True and store["policy"] == "block", store
    assert store["bytes"] >= store["max_bytes"] == 64 * 1024, store

    good(s, broker, "good-block.ndjson")  # kept by the broker while intake is paused
    run = harness.run_ferry("dead-letters", "purge", "--all", "--url", ferry.base_url)
    print(f"ferry dead-letters purge --all: {run.returncode} {run.stdout.strip()}")
    assert run.returncode == 0 and run.stdout.startswith("purged "), run
    ferry.wait_ready(30)
    records = landing.wait_records(1, timeout=30)
    assert [r["topic"] for r in records] == ["zigbee2mqtt/good"], records
    purged = ferry.metric("ferry_dead_letters_purged_total")
    assert purged >= 1 and ferry.metric("ferry_dead_letters") <= 40 - purged, purged
    ferry.stop()


def test_drop_oldest(s: harness.Session, broker: harness.Broker,
                     landing: harness.Landing) -> None:
    ferry = s.ferry(broker, landing, name="ferry-drop", gateway="gw-drop", overrides={
        "storage": {"max_size": "1MiB", "dead_letters": {"max_size": "64KiB"}}})
    flood(s, broker, "bad-drop.ndjson", 300)  # 1.2 MiB of dead letters: more than the quota
    good(s, broker, "good-drop.ndjson")
    records = landing.wait_records(2, timeout=30)  # the first test's record and this one
    assert sum(r["gateway"] == "gw-drop" for r in records) == 1, records
    dropped = ferry.wait_metric("ferry_records_dropped_total", lambda v: v > 0, 10,
                                "dead letters dropped at their bound",
                                reason="dead_letter_quota")
    status = ferry.status()
    print(f"dropped {dropped:.0f}; /status dead_letter_store: {status['dead_letter_store']}")
    assert status["dead_letters"] + dropped == 300, (status["dead_letters"], dropped)
    assert ferry.get("/readyz")[0] == 200


def test(s: harness.Session) -> None:
    broker = s.broker()
    landing = s.landing()
    test_block(s, broker, landing)
    test_drop_oldest(s, broker, landing)


if __name__ == "__main__":
    harness.main(test)
