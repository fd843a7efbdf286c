"""explode through the real agent (issue 11, item 2): one MQTT message whose array holds many
readings lands as one record per element at ferry-landing, each with its own device, its own
event time and the carried fields of the enclosing message, with consecutive sequence numbers
from one group commit, and distinct record ids; a message with an empty array is ignored
(counted as dropped), never a record."""

import json

import harness

ROUTE = {
    "topic": "gw/{site}/batch",
    "payload": "json",
    "explode": {"path": "readings", "carry": {"fw": "fw", "gateway_ts": "ts"}},
    "device_field": "dev",
    "time": {"field": "t", "format": "epoch_ms"},
    "labels": {"site": "{site}"},
}
T0 = 1_795_256_000_000
BATCH = {"fw": "1.4.2", "ts": T0 + 9000,
         "readings": [{"dev": f"sensor-{i}", "t": T0 + i * 1000, "temp": 20 + i} for i in range(5)]}
EMPTY = {"fw": "1.4.2", "ts": T0, "readings": []}


def test(s: harness.Session) -> None:
    broker = s.broker()
    landing = s.landing()
    ferry = s.ferry(broker, landing, subscriptions=["gw/#"], overrides={harness.ROUTES_KEY: [ROUTE]})
    msgs = [("gw/plant7/batch", json.dumps(BATCH)), ("gw/plant7/batch", json.dumps(EMPTY))]
    pub = harness.publish(broker, replay=harness.write_replay(s.path("batch.ndjson"), msgs))
    assert pub.acked == 2, pub
    records = landing.wait_records(5, timeout=30, settle=2)
    for r in records:
        print(f"landed: seq={r['seq']} device={r.get('device')} ts={r['ts']} data={r['data']} "
              f"labels={r.get('labels')}")
    assert len(records) == 5, records
    assert [r["device"] for r in records] == [f"sensor-{i}" for i in range(5)]
    for i, r in enumerate(records):
        assert r["data"] == {"dev": f"sensor-{i}", "t": T0 + i * 1000, "temp": 20 + i,
                             "fw": "1.4.2", "gateway_ts": T0 + 9000}, r
        assert r["ts_source"] == "payload", r
        assert r["labels"]["site"] == "plant7", r
        assert r["topic"] == "gw/plant7/batch"
    seqs = [r["seq"] for r in records]
    assert seqs == list(range(seqs[0], seqs[0] + 5)), seqs
    assert len({r["id"] for r in records}) == 5
    dropped = ferry.wait_metric("ferry_records_dropped_total", lambda v: v >= 1, 10, "the empty batch")
    print(f"ferry_records_dropped_total = {dropped}")
    assert ferry.metric("ferry_dead_letters") == 0
    assert landing.count() == 5


if __name__ == "__main__":
    harness.main(test)
