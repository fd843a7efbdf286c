"""Sparkplug B through the real agent (issue 11, item 6): protobuf payloads on spBv1.0 topics
are decoded by the default rule. A DDATA naming its metrics only by alias, sent before any
BIRTH, is dead-lettered ("sparkplug: unknown alias"); NBIRTH and DBIRTH define the aliases and
datatypes; DDATA by alias lands typed; the agent restarts (the definitions are read back from
the queue) and another DDATA by alias lands; DDEATH lands as a state record; replaying the
early DDATA once the BIRTH was seen lands it too."""

import struct

import harness


def varint(v: int) -> bytes:
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def field(n: int, v: int) -> bytes:
    return varint(n << 3) + varint(v)


def blob(n: int, b: bytes) -> bytes:
    return varint((n << 3) | 2) + varint(len(b)) + b


def double(n: int, v: float) -> bytes:
    return varint((n << 3) | 1) + struct.pack("<d", v)


def payload(ts: int, seq: int, metrics: list[bytes]) -> bytes:
    return field(1, ts) + b"".join(blob(2, m) for m in metrics) + field(3, seq)


TS = 1_795_256_000_000  # 2026-11-21T10:13:20Z
INT32, DOUBLE, UINT64 = 3, 10, 8
NBIRTH = payload(TS, 0, [blob(1, b"bdSeq") + field(4, UINT64) + field(11, 0)])
DBIRTH = payload(TS + 1, 1, [
    blob(1, b"temp") + field(2, 1) + field(4, DOUBLE) + double(13, 20.5),
    blob(1, b"delta") + field(2, 2) + field(4, INT32) + field(10, 0),
])
# By alias only, without datatypes, as Sparkplug edge nodes send DATA.
DDATA_EARLY = payload(TS + 2, 2, [field(2, 1) + double(13, 19.0)])
DDATA_1 = payload(TS + 3, 2, [field(2, 1) + double(13, 21.5), field(2, 2) + field(10, 0xFFFFFFFD)])
DDATA_2 = payload(TS + 4, 3, [field(2, 1) + double(13, 22.0), field(2, 2) + field(10, 4)])
DDEATH = payload(TS + 5, 4, [])
G = "spBv1.0/plant1"


def test(s: harness.Session) -> None:
    broker = s.broker()
    landing = s.landing()
    ferry = s.ferry(broker, landing, subscriptions=["spBv1.0/#"])

    pub = harness.publish(broker, replay=harness.write_replay(
        s.path("early.ndjson"), [(f"{G}/DDATA/edge1/press1", DDATA_EARLY)]))
    assert pub.acked == 1, pub
    ferry.wait_metric("ferry_dead_letters", lambda v: v == 1, 20, "the early DDATA dead-lettered")
    code, body = ferry.get("/dead-letters?limit=10")
    print(f"dead letters: {body.strip()[:300]}")
    assert "sparkplug: unknown alias 1 in plant1/edge1/press1" in body, body

    msgs = [(f"{G}/NBIRTH/edge1", NBIRTH), (f"{G}/DBIRTH/edge1/press1", DBIRTH),
            (f"{G}/DDATA/edge1/press1", DDATA_1)]
    pub = harness.publish(broker, replay=harness.write_replay(s.path("birth.ndjson"), msgs))
    assert pub.acked == 3, pub
    landing.wait_records(3, timeout=30, settle=0.5)

    print("---- restart: the aliases come back from the queue")
    ferry.restart()
    ferry.wait_ready(30)
    msgs = [(f"{G}/DDATA/edge1/press1", DDATA_2), (f"{G}/DDEATH/edge1/press1", DDEATH)]
    pub = harness.publish(broker, replay=harness.write_replay(s.path("after.ndjson"), msgs))
    assert pub.acked == 2, pub
    landing.wait_records(5, timeout=30, settle=0.5)

    run = ferry.run_cli("dead-letters", "replay", "--all", "--url", ferry.base_url)
    print(f"ferry dead-letters replay --all (exit {run.returncode}): {run.stdout.strip()}")
    assert run.returncode == 0, run.stderr
    records = landing.wait_records(6, timeout=30, settle=1.5)
    for r in records:
        print(f"landed: {r['topic']} device={r.get('device')} ts={r['ts']} data={r['data']} "
              f"labels={r.get('labels')}")
    by_seq = {(r["labels"]["sparkplug_type"], r["data"].get("_seq")): r for r in records}
    assert len(records) == 6, records
    assert by_seq[("NBIRTH", 0)]["device"] == "plant1/edge1"
    assert by_seq[("NBIRTH", 0)]["data"] == {"bdSeq": 0, "_seq": 0, "_state": "online"}
    assert by_seq[("DBIRTH", 1)]["data"] == {"temp": 20.5, "delta": 0, "_seq": 1, "_state": "online"}
    data_1 = [r for r in records if r["data"].get("temp") == 21.5]
    assert len(data_1) == 1 and data_1[0]["data"] == {"temp": 21.5, "delta": -3, "_seq": 2}, data_1
    assert data_1[0]["device"] == "plant1/edge1/press1"
    assert data_1[0]["ts"] == "2026-11-21T10:13:20.003Z", data_1[0]
    assert by_seq[("DDATA", 3)]["data"] == {"temp": 22.0, "delta": 4, "_seq": 3}
    assert by_seq[("DDEATH", 4)]["data"] == {"_seq": 4, "_state": "offline"}
    replayed = [r for r in records if r["data"].get("temp") == 19.0]
    assert len(replayed) == 1 and replayed[0]["data"] == {"temp": 19.0, "_seq": 2}, replayed
    assert ferry.metric("ferry_dead_letters") == 0
    labels = by_seq[("DDATA", 3)]["labels"]
    assert labels["sparkplug_group"] == "plant1" and labels["sparkplug_node"] == "edge1", labels


if __name__ == "__main__":
    harness.main(test)
