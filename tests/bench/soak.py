#!/usr/bin/env python3
"""Soak: QoS 1 traffic for a bounded time while the faults a gateway meets come one after
another, then the invariants of "nothing acknowledged is ever lost" (issue 10) and the worst
figures seen. Not part of the suite (it runs for minutes); run it by hand:

    python3 tests/bench/soak.py --minutes 30 [--build build-b] [--rate 50]

Real programs on loopback, ports chosen at run time (tests/integration/harness.py): mosquitto
with persistence, ferry-landing, ferry, and ferry-pub publishers that keep every message until
the broker acknowledged it. Cycles of about `--cycle` seconds each publish a chunk of numbered
messages while one fault happens, in turn:

    landing_flap     ferry-landing stops for a while (ferry backs off, its breaker opens),
                     then comes back on the same port
    broker_restart   mosquitto is stopped (SIGTERM: it saves its sessions) and started again
    agent_kill9      ferry is killed with SIGKILL and started again on the same queue
    disk_full        with the landing zone down, the queue's filesystem (a small tmpfs, as
                     root; else storage.max_size) is filled until intake stops, then emptied

At the end, with the landing zone up, the queue drains and the script checks:
    acknowledged = landed + dead-lettered + dropped by policy   (every message ferry-pub had
                   acknowledged by the broker is at the landing zone, or a dead letter, or
                   counted in ferry_records_dropped_total)
    no record id twice at the landing zone, no message stored twice
    RSS flat: ferry's RSS after the last quarter of the cycles' drains stays within a bound of
              the first quarter's
and prints the worst figures: deepest queue, oldest record, longest drain after a fault, peak
RSS. Exit code 0 when every invariant holds.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE_DIR = HERE.parents[1]

FAULTS = ("landing_flap", "broker_restart", "agent_kill9", "disk_full")
PUBLISHERS = 2
# RSS is "flat" when the last quarter of the cycles ends no higher than the first quarter's
# highest figure plus this.
RSS_SLACK_MIB = 4.0


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--minutes", type=float, default=30, help="how long to run (default 30)")
    p.add_argument("--build", default=os.environ.get("FERRY_BIN_DIR", str(SOURCE_DIR / "build")),
                   help="CMake build directory with ferry, ferry-landing and ferry-pub")
    p.add_argument("--rate", type=float, default=50,
                   help="messages per second per publisher (2 publishers; default 50)")
    p.add_argument("--cycle", type=float, default=40, help="seconds per fault cycle (default 40)")
    p.add_argument("--tmpfs-mib", type=int, default=24, help="size of the queue's tmpfs")
    return p.parse_args()


ARGS = parse_args()
os.environ["FERRY_BIN_DIR"] = str(Path(ARGS.build).resolve())
sys.path.insert(0, str(SOURCE_DIR / "tests" / "integration"))
import benchlib  # noqa: E402
import harness  # noqa: E402


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


class QueueDisk:
    """A small tmpfs for the queue (root), removed at the end; filled and emptied on demand.
    Without root it is a plain directory and `fill` lowers storage.max_size instead (reload)."""

    def __init__(self, session: harness.Session, mib: int):
        self.dir = session.path("qdisk")
        self.dir.mkdir()
        self.filler = self.dir / "filler"
        run = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={mib}m", "tmpfs",
                              str(self.dir)], capture_output=True, text=True)
        self.tmpfs = run.returncode == 0
        if not self.tmpfs:
            log(f"no tmpfs ({run.stderr.strip()}): the disk is filled through storage.max_size")

    def free_bytes(self) -> int:
        st = os.statvfs(self.dir)
        return st.f_bavail * st.f_frsize

    def fill(self, leave: int = 64 << 10) -> None:
        with open(self.filler, "ab") as f:
            chunk = b"\0" * (1 << 20)
            while self.free_bytes() > leave + len(chunk):
                f.write(chunk)
                f.flush()
            try:
                f.write(b"\0" * max(0, self.free_bytes() - leave))
            except OSError:
                pass

    def empty(self) -> None:
        self.filler.unlink(missing_ok=True)

    def close(self) -> None:
        self.empty()
        if self.tmpfs:
            subprocess.run(["umount", "-l", str(self.dir)], capture_output=True)


class Soak:
    def __init__(self, session: harness.Session, disk: QueueDisk):
        self.s = session
        self.disk = disk
        self.broker = session.broker()
        self.landing = session.landing()
        self.ferry = session.ferry(self.broker, self.landing, gateway="gw-soak", overrides={
            "storage": {"path": str(disk.dir / "queue.db"), "max_size": "256MiB",
                        "full_policy": "block", "sync": "full"},
            "routes": [benchlib.ZIGBEE_ROUTE],
            "log": {"level": "warn"},
            "upstream": {"breaker": {"failures": 3, "probe_interval": "500ms"}},
        })
        self.expected: set[tuple[int, int, int]] = set()  # (run, pub, seq) acknowledged
        self.dropped_before = 0.0  # ferry_records_dropped_total of earlier lives of ferry
        self.worst = {"queue_records": 0.0, "oldest_age_s": 0.0, "drain_s": 0.0,
                      "rss_mib": 0.0, "publish_s": 0.0}
        self.worst_fault = {k: "" for k in self.worst}
        self.cycle_rss: list[float] = []
        self.fault = ""

    # ---- figures ---------------------------------------------------------------------------

    def note(self, key: str, value: float) -> None:
        if value > self.worst[key]:
            self.worst[key] = value
            self.worst_fault[key] = self.fault

    def sample(self) -> None:
        if not self.ferry.alive():
            return
        try:
            m = self.ferry.metrics()
            self.note("queue_records", m.sum("ferry_queue_records"))
            self.note("oldest_age_s", m.sum("ferry_queue_oldest_age_seconds"))
            self.note("rss_mib", benchlib.proc_stat(self.ferry).rss_mib())
        except (OSError, AssertionError, FileNotFoundError):
            pass  # between a kill and the restart

    def watch(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.sample()
            time.sleep(min(0.5, max(0.0, end - time.monotonic())))

    def dropped_now(self) -> float:
        try:
            return self.ferry.metric("ferry_records_dropped_total")
        except (OSError, AssertionError):
            return 0.0

    # ---- faults ----------------------------------------------------------------------------

    def landing_flap(self, t: float) -> None:
        self.watch(t * 0.15)
        self.landing.stop()
        self.watch(t * 0.35)
        self.landing.start()

    def broker_restart(self, t: float) -> None:
        self.watch(t * 0.2)
        self.broker.stop()
        self.watch(2)
        self.broker.start()

    def agent_kill9(self, t: float) -> None:
        self.watch(t * 0.2)
        self.dropped_before += self.dropped_now()
        self.ferry.kill()
        self.watch(1)
        self.ferry.start(timeout=60)

    def disk_full(self, t: float) -> None:
        self.watch(t * 0.1)
        self.landing.stop()
        if self.disk.tmpfs:
            self.disk.fill()
        else:
            self.ferry.config["storage"]["max_size"] = "1MiB"
            self.ferry.write_config()
            os.kill(self.ferry.proc.pid, signal.SIGHUP)
        self.watch(t * 0.35)
        paused = self.ferry.status().get("mqtt", {})
        log(f"  disk full: free {self.disk.free_bytes() >> 10} KiB, mqtt {json.dumps(paused)}")
        if self.disk.tmpfs:
            self.disk.empty()
        else:
            self.ferry.config["storage"]["max_size"] = "256MiB"
            self.ferry.write_config()
            os.kill(self.ferry.proc.pid, signal.SIGHUP)
        self.landing.start()

    # ---- a cycle ---------------------------------------------------------------------------

    def publish(self, run: int, seconds: float) -> harness.BackgroundPublish:
        count = max(1, int(ARGS.rate * seconds))
        for p in range(1, PUBLISHERS + 1):
            for i in range(1, count + 1):
                self.expected.add((run, p, i))
        payload = '{"temperature":21.5,"run":%d,"seq":{i},"pub":{p}}' % run
        return harness.start_publish(self.s, self.broker, topic="zigbee2mqtt/dev{p}",
                                     count=count, publishers=PUBLISHERS, qos=1, rate=ARGS.rate,
                                     payload=payload, client_prefix=f"soak{run}-")

    def drain(self, timeout: float = 300) -> float:
        """Seconds until ferry's queue is empty and the landing zone holds every message."""
        start = time.monotonic()
        want = len(self.expected)

        def done() -> bool:
            self.sample()
            self.ferry.check_alive()
            return (self.ferry.metric("ferry_queue_records") == 0
                    and self.landing.count() + self.dead_letter_count() >= want)
        harness.wait_for(done, timeout, "the queue to drain to the landing zone", interval=0.5)
        return time.monotonic() - start

    def dead_letter_count(self) -> int:
        return int(self.ferry.metric("ferry_dead_letters"))

    def cycle(self, n: int) -> None:
        self.fault = FAULTS[n % len(FAULTS)]
        log(f"cycle {n}: {self.fault}")
        started = time.monotonic()
        pub = self.publish(n, ARGS.cycle * 0.6)
        getattr(self, self.fault)(ARGS.cycle)
        res = pub.wait(timeout=600)
        self.note("publish_s", time.monotonic() - started)
        drained = self.drain()
        self.note("drain_s", drained)
        rss = benchlib.proc_stat(self.ferry).rss_mib()
        self.cycle_rss.append(rss)
        log(f"  {res}; drained {drained:.1f} s after the publish; RSS {rss:.1f} MiB; landed "
            f"{self.landing.count()}")


def dead_letters(ferry: harness.Ferry) -> list[dict]:
    items, after = [], 0
    while True:
        code, body = ferry.get(f"/dead-letters?after={after}&limit=1000")
        assert code == 200, body
        page = json.loads(body)
        items += page["items"]
        if not page["more"]:
            return items
        after = page["next_after"]


def check(soak: Soak) -> bool:
    records = soak.landing.records()
    ids = [r["id"] for r in records]
    landed: dict[tuple, int] = {}
    for r in records:
        d = r["data"]
        key = (d.get("run"), d.get("pub"), d.get("seq"))
        landed[key] = landed.get(key, 0) + 1
    dead: set[tuple] = set()
    for item in dead_letters(soak.ferry):
        try:
            d = json.loads(item["payload"])
            dead.add((d.get("run"), d.get("pub"), d.get("seq")))
        except (ValueError, TypeError, AttributeError):
            dead.add(("dead", item["id"], 0))
    dropped = soak.dropped_before + soak.dropped_now()
    acked = len(soak.expected)
    missing = soak.expected - landed.keys() - dead
    dup_ids = len(ids) - len(set(ids))
    dup_msgs = sum(n - 1 for n in landed.values() if n > 1)
    landed_acked = len(soak.expected & landed.keys())
    dead_acked = len(soak.expected & dead)
    print("\n==== invariants ====")
    print(f"acknowledged {acked} = landed {landed_acked} + dead-lettered {dead_acked} + dropped by "
          f"policy {dropped:.0f} (missing {len(missing)})")
    print(f"records at the landing zone {len(records)}, record ids twice {dup_ids}, "
          f"messages stored twice {dup_msgs}")
    rss = soak.cycle_rss
    quarter = max(1, len(rss) // 4)
    early, late = max(rss[:quarter]), max(rss[-quarter:])
    flat = late <= early + RSS_SLACK_MIB
    print("RSS after each cycle's drain (MiB): " + " ".join(f"{r:.1f}" for r in rss))
    print(f"RSS flat: highest of the last quarter {late:.1f} MiB against the first quarter's "
          f"{early:.1f} MiB + {RSS_SLACK_MIB} MiB: {'flat' if flat else 'NOT flat'}")
    print("\n==== worst figures (and the fault of that cycle) ====")
    units = {"queue_records": "records", "oldest_age_s": "s", "drain_s": "s", "rss_mib": "MiB",
             "publish_s": "s"}
    for key, value in soak.worst.items():
        print(f"{key:14} {value:10.1f} {units[key]:8} {soak.worst_fault[key]}")
    ok = (not missing and dup_ids == 0 and dup_msgs == 0 and flat
          and acked == landed_acked + dead_acked + int(dropped))
    if missing:
        print(f"missing, e.g. {sorted(missing)[:10]}")
    return ok


def main() -> int:
    session = harness.Session("soak")
    session.pin_binaries()
    disk = QueueDisk(session, ARGS.tmpfs_mib)
    ok = False
    started = time.monotonic()
    try:
        soak = Soak(session, disk)
        log(f"soak for {ARGS.minutes} min: {PUBLISHERS} publishers at {ARGS.rate} msg/s, QoS 1, "
            f"cycles of {ARGS.cycle:.0f} s; queue on {'tmpfs' if disk.tmpfs else 'disk'}")
        n = 0
        while time.monotonic() - started + ARGS.cycle * 1.5 < ARGS.minutes * 60 or n == 0:
            soak.cycle(n)
            n += 1
        ok = check(soak)
        print(f"\n{n} cycles in {(time.monotonic() - started) / 60:.1f} min: "
              f"{'PASS' if ok else 'FAIL'}")
    except BaseException:  # noqa: BLE001 - report everything, including Ctrl-C
        import traceback
        traceback.print_exc()
    finally:
        for p in session.processes:
            p.kill()
        disk.close()  # unmounted before the session's directory is removed
        session.close(ok)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
