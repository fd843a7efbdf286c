"""10,000 QoS 1 messages from 4 publishers go through ferry to the landing zone exactly once,
with the record envelope of the landing protocol and the contract's counters."""

import datetime
import json

import harness

PUBLISHERS = 4
PER_PUBLISHER = 2500
TOTAL = PUBLISHERS * PER_PUBLISHER
PAYLOAD = ('{"temperature":21.5,"humidity":48,"linkquality":120,"battery":97,'
           '"seq":{i},"pub":{p}}')


def expected_data(pub: int, seq: int) -> dict:
    return json.loads(PAYLOAD.replace("{i}", str(seq)).replace("{p}", str(pub)))


def parse_ts(text: str) -> datetime.datetime:
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z")


def check_records(records: list[dict], gateway: str, since: datetime.datetime) -> None:
    epochs = set()
    until = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=5)
    for r in records:
        epoch, _ = harness.check_record_envelope(r, gateway)
        epochs.add(epoch)
        pub, seq = r["data"].get("pub"), r["data"].get("seq")
        assert r["topic"] == f"zigbee2mqtt/dev{pub}", f"topic: {r}"
        assert r.get("device") == f"dev{pub}", f"device not taken from the topic: {r}"
        assert r["ts_source"] == "received", f"ts_source: {r}"
        assert r["ts"] == r["received_at"], f"ts != received_at without a time rule: {r}"
        received = parse_ts(r["received_at"])
        assert since - datetime.timedelta(seconds=5) <= received <= until, f"received_at: {r}"
        assert r["data"] == expected_data(pub, seq), f"data differs from the payload: {r}"
    assert len(epochs) == 1, f"one queue, yet several epochs: {epochs}"


def test(s: harness.Session) -> None:
    broker = s.broker()
    landing = s.landing()
    ferry = s.ferry(broker, landing, subscriptions=["zigbee2mqtt/+"],
                    overrides={harness.ROUTES_KEY: [{"topic": "zigbee2mqtt/{device}"}]})
    since = datetime.datetime.now(datetime.timezone.utc)

    res = harness.publish(broker, "zigbee2mqtt/dev{p}", count=PER_PUBLISHER,
                          publishers=PUBLISHERS, qos=1, payload=PAYLOAD)
    print(f"ferry-pub: {res}")
    assert res.acked == TOTAL, f"broker acknowledged {res.acked} of {TOTAL}"

    records = landing.wait_records(TOTAL, timeout=90, ferry=ferry)
    batches = landing.batches()
    print(f"landing: {len(records)} records in {len(batches)} files")
    assert len(records) == TOTAL, f"landing holds {len(records)} records, expected {TOTAL}"

    expected = {(p, i) for p in range(1, PUBLISHERS + 1) for i in range(1, PER_PUBLISHER + 1)}
    harness.check_exactly_once(records, expected)
    check_records(records, ferry.gateway, since)
    seqs = harness.check_batches_in_order(batches)
    assert all(x < y for x, y in zip(seqs, seqs[1:])), "seq not increasing across files"
    print(f"seq {seqs[0]}..{seqs[-1]} strictly increasing over {len(batches)} files")

    for name in ("ferry_records_received_total", "ferry_records_stored_total",
                 "ferry_records_delivered_total"):
        value = ferry.wait_metric(name, lambda v: v >= TOTAL, 30, f"{name} to reach {TOTAL}")
        print(f"{name} = {value:.0f}")
        assert value == TOTAL, f"{name} is {value}, expected {TOTAL}"
    queued = ferry.wait_metric("ferry_queue_records", lambda v: v == 0, 30,
                               "the queue to be empty")
    print(f"ferry_queue_records = {queued:.0f}")
    ferry.check_alive()


if __name__ == "__main__":
    harness.main(test)
