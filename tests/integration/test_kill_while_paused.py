"""kill -9 while intake is paused at the quota, with a group held for its commit interval.

Regression test for issue 10, finding 1: when the queue reached storage.max_size while a group
of QoS 1 messages waited for its commit (up to storage.commit_interval), the pause sent
DISCONNECT through libmosquitto's write queue, and the held group's PUBACKs went out first.
The broker then forgot those messages; a crash during the pause lost them for good. The
acknowledgement gate (agent/mqtt/ack_gate.h) now commits the held group before the goodbye,
or, when the full queue refuses it, leaves without writing anything.

Messages arrive at 150 msg/s with a 3 s commit interval, so a group is always held when the
quota check pauses intake. Ferry is killed the moment it pauses, then restarted with the
landing zone up: every message the broker took from the publisher must land, once.
"""

import base64
import json
import random
import time

import harness

MESSAGES = 2500  # about 2.8 MB of payload against a 2 MiB quota
RATE = 150


def write_messages(s: harness.Session, topic: str):
    rng = random.Random("kill-while-paused")
    lines = []
    for i in range(1, MESSAGES + 1):
        blob = base64.b64encode(rng.randbytes(750)).decode()
        lines.append((topic, json.dumps({"pub": 1, "seq": i, "blob": blob})))
    return harness.write_replay(s.path("messages.ndjson"), lines)


def test(s: harness.Session) -> None:
    broker = s.broker()
    landing = s.landing(port=harness.free_port())
    landing.stop()
    ferry = s.ferry(broker, landing, subscriptions=["paused/+"],
                    overrides={"storage": {"max_size": "2MiB", "commit_interval": "3s"}})
    pub = harness.start_publish(s, broker, rate=RATE,
                                replay=write_messages(s, "paused/dev1"))
    harness.wait_for(lambda: ferry.get("/readyz")[0] == 503, 90,
                     "/readyz 503 (intake paused at the quota)", interval=0.02)
    st = ferry.status()
    ferry.kill_group()
    print(f"killed the moment intake paused: {st['queue']['records']} records queued, "
          f"{st['counters']['records_received']} received")
    res = pub.wait(timeout=120)
    print(f"ferry-pub: {res}")
    assert res.acked == MESSAGES, f"the broker did not take every message: {res}"

    landing.start()
    ferry.start()
    records = landing.wait_records(MESSAGES, timeout=90, ferry=ferry)
    seqs = [r["data"]["seq"] for r in records]
    missing = sorted(set(range(1, MESSAGES + 1)) - set(seqs))
    print(f"landed {len(records)} records, {len(set(seqs))} distinct messages; missing "
          f"{missing[:20]}{' ...' if len(missing) > 20 else ''}")
    harness.check_exactly_once(records, {(1, i) for i in range(1, MESSAGES + 1)})
    ferry.check_alive()


if __name__ == "__main__":
    harness.main(test)
