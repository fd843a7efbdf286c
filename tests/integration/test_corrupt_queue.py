"""A damaged queue file never keeps ferry from starting. For each damage (a truncated file, a
garbage header, an unknown schema version = PRAGMA user_version 99) a queue with records in it is
made by a first run (landing zone down), damaged while ferry is stopped, and ferry started again:
it starts, logs at error level, moves the file aside (/status queue.quarantined names the moved
file, which exists; ferry_queue_quarantined_total is 1), starts a new queue with a new epoch, and
new messages flow to the landing zone."""

import os
import random
import sqlite3
from pathlib import Path

import harness

QUEUED = 500


def truncate(path: Path) -> str:
    size = path.stat().st_size
    keep = size // 3 + 123  # not on a page boundary either
    with open(path, "r+b") as f:
        f.truncate(keep)
    return f"truncated from {size} to {keep} bytes"


def garbage_header(path: Path) -> str:
    with open(path, "r+b") as f:
        f.write(random.Random(7).randbytes(100))
    return "first 100 bytes overwritten with random bytes"


def schema_99(path: Path) -> str:
    con = sqlite3.connect(path)
    try:
        before = con.execute("PRAGMA user_version").fetchone()[0]
        con.execute("PRAGMA user_version = 99")
        con.commit()
    finally:
        con.close()
    return f"PRAGMA user_version {before} -> 99"


CASES = [("truncated", truncate), ("garbage", garbage_header), ("schema99", schema_99)]


def one_case(s: harness.Session, broker, landing, name: str, damage) -> None:
    print(f"---- {name}")
    landing.stop()
    ferry = s.ferry(broker, landing, name=f"ferry-{name}", gateway=f"gw-{name}",
                    subscriptions=[f"{name}/+"])
    res = harness.publish(broker, f"{name}/dev1", count=QUEUED,
                          payload='{"temperature":21.5,"humidity":48,"seq":{i},"pub":1}')
    assert res.acked == QUEUED, res
    harness.wait_for(lambda: ferry.status()["queue"]["records"] == QUEUED, 15, f"{QUEUED} queued")
    old_epoch = ferry.status()["queue"]["epoch"]
    rc = ferry.stop()
    assert rc == 0, f"ferry exited {rc} on SIGTERM"
    path = ferry.storage_path
    files = sorted(p.name for p in path.parent.glob(path.name + "*"))
    what = damage(path)
    print(f"first run: {QUEUED} queued, epoch {old_epoch}, files {files}; damage: {what}")

    landing.start()
    log_from = ferry.log.stat().st_size
    ferry.start()
    st = ferry.status()
    q = st["queue"]
    m = ferry.metrics()
    with open(ferry.log, "rb") as f:
        f.seek(log_from)
        log = f.read().decode("utf-8", "replace").splitlines()
    loud = [l for l in log if " error " in l]
    print(f"second run: epoch {q['epoch']}, queue {q['records']} records, quarantined "
          f"{q['quarantined']!r}, ferry_queue_quarantined_total "
          f"{m['ferry_queue_quarantined_total']:.0f}")
    print("error lines:\n  " + "\n  ".join(l[:200] for l in loud))
    moved = q["quarantined"]
    assert moved, "/status queue.quarantined is empty"
    assert os.path.exists(moved), f"the quarantined file {moved} does not exist"
    assert Path(moved).parent == path.parent and Path(moved).name.startswith(path.name + ".corrupt-")
    assert m["ferry_queue_quarantined_total"] == 1
    assert q["epoch"] != old_epoch and q["records"] == 0
    assert any(moved in l for l in loud), "no error-level log line names the moved file"
    print(f"files now: {sorted(p.name for p in path.parent.glob(path.name + '*'))}")

    res = harness.publish(broker, f"{name}/dev1", count=10,
                          payload='{"temperature":22,"seq":{i},"pub":2}')
    assert res.acked == 10, res

    def mine():
        return [r for r in landing.records() if r["gateway"] == f"gw-{name}"]

    harness.wait_for(lambda: len(mine()) >= 10, 30, f"10 records of gw-{name}", interval=0.2)
    records = mine()
    epochs = {harness.check_record_envelope(r, f"gw-{name}")[0] for r in records}
    print(f"landing: {len(records)} records of gw-{name}, epochs {epochs}")
    assert epochs == {q["epoch"]}
    harness.check_exactly_once(records, {(2, i) for i in range(1, 11)})
    ferry.check_alive()
    ferry.stop()


def test(s: harness.Session) -> None:
    s.pin_binaries()  # restarts keep using the binaries this run started with
    broker = s.broker()
    landing = s.landing(port=harness.free_port())
    for name, damage in CASES:
        one_case(s, broker, landing, name, damage)


if __name__ == "__main__":
    harness.main(test)
