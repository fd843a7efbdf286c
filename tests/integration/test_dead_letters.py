"""Messages that cannot become records (invalid JSON, empty, not UTF-8) go to the dead-letter
store with a reason and are counted; the next valid message is processed normally and ferry
keeps running."""

import json

import harness

BAD = [
    ("zigbee2mqtt/bad_json", '{"a":'),
    ("zigbee2mqtt/bad_empty", ""),
    ("zigbee2mqtt/bad_utf8", b"\xff\xfeA"),
]
GOOD = ("zigbee2mqtt/good", '{"temperature":20.5,"battery":88}')


def test(s: harness.Session) -> None:
    broker = s.broker()
    landing = s.landing()
    ferry = s.ferry(broker, landing, subscriptions=["zigbee2mqtt/+"],
                    overrides={harness.ROUTES_KEY: [{"topic": "zigbee2mqtt/{device}"}]})

    replay = harness.write_replay(s.path("messages.ndjson"), BAD + [GOOD])
    res = harness.publish(broker, replay=replay, qos=1)
    print(f"ferry-pub: {res}")
    assert res.acked == 4, f"broker acknowledged {res.acked} of 4"

    records = landing.wait_records(1, timeout=30, settle=2)
    print(f"landing: {[(r['topic'], r['data']) for r in records]}")
    assert len(records) == 1, f"expected only the valid message at the landing zone: {records}"
    assert records[0]["topic"] == GOOD[0] and records[0]["data"] == json.loads(GOOD[1])
    assert records[0].get("device") == "good", records[0]

    dead = ferry.wait_metric("ferry_records_dead_lettered_total", lambda v: v >= 3, 20,
                             "3 dead-lettered records")
    metrics = ferry.metrics()
    reasons = {labels.get("reason"): value
               for labels, value in metrics.samples("ferry_records_dead_lettered_total")}
    print(f"ferry_records_dead_lettered_total by reason: {reasons}")
    assert dead == 3, f"ferry_records_dead_lettered_total sums to {dead}, expected 3"
    assert all(reason for reason in reasons), f"a dead-letter series has no reason: {reasons}"
    gauge = ferry.wait_metric("ferry_dead_letters", lambda v: v == 3, 10, "ferry_dead_letters 3")
    print(f"ferry_dead_letters = {gauge:.0f}")
    print(f"received {metrics.sum('ferry_records_received_total'):.0f}, "
          f"stored {metrics.sum('ferry_records_stored_total'):.0f}, "
          f"delivered {metrics.sum('ferry_records_delivered_total'):.0f}")

    ferry.check_alive()
    code, body = ferry.get("/healthz")
    assert code == 200, f"/healthz answered {code} {body} after the dead letters"


if __name__ == "__main__":
    harness.main(test)
