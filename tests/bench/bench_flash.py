"""Flash wear at a gateway's rates: the real device corpus (../shared/data/devices, ~293 B
payloads, nasty.ndjson excluded) replayed by one ferry-pub at 5 and at 50 msg/s for 60 s each,
QoS 1, into ferry with the DEFAULT config (subscription `#` at QoS 1, no routes, storage.sync
"full", the product's commit interval, batch linger and quota) and ferry-landing up.

Figure: bytes the kernel writes for ferry per payload byte the broker handed it.

  written         /proc/PID/io write_bytes - cancelled_write_bytes of ferry, from its first
                  message to its exit (SIGTERM after the last record was delivered and the delete
                  after it written). The exit includes SQLite's closing checkpoint, so every page
                  the run put into the WAL is counted once more in the database file, as the
                  periodic checkpoints of a long run would; read from /proc while ferry is a
                  zombie (waitid WNOWAIT), so nothing written at exit is missed.
  window          the same, but read before the SIGTERM (no closing checkpoint): the lower bound.
  deferred        what checkpointing the WAL ferry left at exit writes, measured in a separate
                  process after ferry exited (Ferry closes without a checkpoint since issue 15:
                  its WAL pages are written to the database by a later checkpoint, at most once
                  each, so the figure with the checkpoint is written + deferred; 0 when ferry
                  checkpointed at exit itself).
  ceiling         the payload bytes published (the MQTT payloads, not the records Ferry makes).

write_bytes counts a 4 KiB page each time a clean page of the page cache is dirtied: it is the
writeback the block device gets (before the filesystem's journal), not bytes passed to write().
The block device's own sectors written (/sys/block/<dev>/stat) are reported beside it, but they
are machine-wide (other processes, other engineers' builds on a shared machine): informational.

Every rate and variant of one run runs at the same time (each with its own broker, landing and
ferry): per-process I/O accounting does not mix them, and a sweep of levers takes one minute per
run instead of one per pair. Variants are config overrides (a lever measured in isolation), and
"_bin": a path, to run another build of ferry (a code lever against the same run's default), and
"_page_size": the queue file is made beforehand with that page size (a new file's lever).
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import bench_wire
import benchlib as bl

# The default config: one subscription to everything, QoS 1, no routes.
DEFAULT_TOPICS = ("#",)


def corpus_payload_bytes(session, count: int) -> int:
    """Payload bytes of the first `count` messages ferry-pub --replay --loop sends (file order)."""
    sizes = []
    for line in bench_wire.corpus(session).read_text().splitlines():
        msg = json.loads(line)
        sizes.append(len(msg["payload"].encode()))
    return sum(sizes[i % len(sizes)] for i in range(count))


def io_bytes(pid: int) -> int:
    """write_bytes - cancelled_write_bytes of process `pid` (also while it is a zombie)."""
    fields = {}
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        k, v = line.split(":")
        fields[k] = int(v)
    return fields["write_bytes"] - fields["cancelled_write_bytes"]


CHECKPOINT_CHILD = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("PRAGMA locking_mode = EXCLUSIVE")  # the WAL index in heap: count the checkpoint only
db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
db.close()
io = dict(l.split(":") for l in open("/proc/self/io").read().splitlines())
print(int(io["write_bytes"]) - int(io["cancelled_write_bytes"]))
"""


def deferred_checkpoint(path: Path) -> int:
    """Bytes a checkpoint of the WAL left beside `path` writes, counted in a child process (its
    /proc/self/io; with its WAL index in heap memory, so only the checkpoint's writes count)."""
    wal = Path(str(path) + "-wal")
    if not wal.exists() or wal.stat().st_size == 0:
        return 0
    import subprocess
    import sys
    out = subprocess.run([sys.executable, "-c", CHECKPOINT_CHILD, str(path)], check=True,
                         capture_output=True, text=True, timeout=120)
    return int(out.stdout.strip())


def device_of(path: Path) -> str | None:
    """The block device (sysfs name) holding `path`, or None when it is not visible."""
    dev = os.stat(path).st_dev
    sys_dev = Path(f"/sys/dev/block/{os.major(dev)}:{os.minor(dev)}")
    if not sys_dev.exists():
        return None
    real = sys_dev.resolve()
    # A partition's stat is its own; a whole disk's too: either is fine.
    return real.name if (real / "stat").exists() else None


def sectors_written(dev: str | None) -> int | None:
    if not dev:
        return None
    return int(Path(f"/sys/class/block/{dev}/stat").read_text().split()[6])


def stop_counting(ferry) -> int:
    """SIGTERM, wait for the exit without reaping, read the process's final I/O, reap."""
    proc = ferry.proc
    proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        info = os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT | os.WNOHANG)
        if info is not None:
            break
        time.sleep(0.01)
    written = io_bytes(proc.pid)
    ferry.stop(30)  # reaps
    return written


def precreate_queue(path: Path, page_size: int) -> None:
    """An empty queue file with `page_size`, as Ferry makes a new one (incremental auto-vacuum,
    WAL) but with no tables yet: Ferry creates its schema in it, with that page size."""
    import sqlite3
    db = sqlite3.connect(str(path))
    db.execute(f"PRAGMA page_size = {page_size}")
    db.execute("PRAGMA auto_vacuum = INCREMENTAL")
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("CREATE TABLE t(x)")  # writes page 1 with the settings above
    db.execute("DROP TABLE t")
    db.close()


class Pair:
    """One ferry (with its broker and landing) fed at one rate under one variant."""

    def __init__(self, session, tag: str, rate: float, seconds: float, overrides: dict):
        self.rate, self.count = rate, int(rate * seconds)
        self.broker = bl.BenchBroker(session, name=f"broker-{tag}")
        self.landing = session.landing(name=f"landing-{tag}")
        overrides = dict(overrides)
        binary = overrides.pop("_bin", None)  # another build of ferry (an A/B of code levers)
        page_size = overrides.pop("_page_size", None)
        config = bl.harness.deep_merge({"storage": {"max_size": None}, "routes": None}, overrides)
        self.ferry = bl.bench_ferry(session, self.broker, self.landing, f"ferry-{tag}", qos=1,
                                    topics=DEFAULT_TOPICS, routes=[], overrides=config,
                                    start=False)
        if page_size:
            precreate_queue(self.ferry.storage_path, int(page_size))
        if binary:
            f = self.ferry
            f._spawn([binary, "run", "--config", f.config_path])
            f.starts += 1
            f.wait_ready(30)
            f.broker.wait_subscribed(f.client_id, f.subscriptions, 0, 30)
        else:
            self.ferry.start()
        self.pid = self.ferry.proc.pid
        self.session = session

    def start(self) -> None:
        self.w0 = io_bytes(self.pid)
        self.pub = bl.start_pub(self.session, bl.pub_argv(
            self.broker, self.count, 1, 1, replay=bench_wire.corpus(self.session),
            rate=self.rate, loop=True))

    def finish(self) -> dict:
        res = self.pub.wait(600, check=False)
        ferry = self.ferry
        bl.harness.wait_for(lambda: ferry.metric("ferry_records_received_total") >= self.count,
                            60, f"ferry to receive {self.count} messages")
        bl.harness.wait_for(
            lambda: ferry.metric("ferry_queue_records") == 0
            and ferry.metric("ferry_records_stored_total") > 0, 120, "every record delivered")
        time.sleep(2.5)  # the commit after the last delivery (delete) is written too
        m = ferry.metrics()
        window = io_bytes(self.pid) - self.w0
        total = stop_counting(ferry) - self.w0
        deferred = deferred_checkpoint(ferry.storage_path)
        payload = corpus_payload_bytes(self.session, self.count)
        out = {"rate": self.rate, "messages": self.count, "acked": res.acked,
               "stored": m.sum("ferry_records_stored_total"),
               "delivered": m.sum("ferry_records_delivered_total"), "payload": payload,
               "written": total + deferred, "at_exit": total, "deferred": deferred,
               "window": window}
        self.landing.stop()
        self.broker.stop()
        bl.remove_queue(ferry)
        return out


def run(session, rates: tuple[float, ...] = (5, 50), seconds: float = 60, runs: int = 3,
        variants: dict[str, dict] | None = None) -> list[bl.Row]:
    variants = variants or {"default": {}}
    rows: dict[tuple[str, float, str], bl.Row] = {}
    for name in variants:
        suffix = "" if name == "default" else f" [{name}]"
        for rate in rates:
            target = ("<=", 1.0 if rate <= 5 else 0.5)
            rows[(name, rate, "w")] = bl.Row(
                f"flash: bytes written per payload byte at {rate:g} msg/s, with closing "
                f"(or deferred) checkpoint{suffix}", "B", target=target, target_on="ratio",
                note="" if rows else "value and ceiling are bytes per message: written, payload")
            rows[(name, rate, "win")] = bl.Row(
                f"flash: same, before the closing checkpoint{suffix}", "B", target_on="ratio")
            rows[(name, rate, "exit")] = bl.Row(
                f"flash: same, by ferry itself up to its exit (no deferred checkpoint){suffix}",
                "B", target_on="ratio")
    dev = device_of(Path(session.dir))
    sector_row = bl.Row("block device sectors written during the run, machine-wide, all pairs "
                        f"({dev or 'not visible'})", "MiB", note="informational: the disk is "
                        "shared with every other process on the machine")
    for r in range(runs):
        bl.log(f"flash run {r + 1}/{runs}: {', '.join(variants)} at {rates} msg/s for {seconds:g} s")
        pairs = {(name, rate): Pair(session, f"f{r}-v{i}-{rate:g}", rate, seconds, ov)
                 for i, (name, ov) in enumerate(variants.items()) for rate in rates}
        s0 = sectors_written(dev)
        for p in pairs.values():
            p.start()
        results = {k: p.finish() for k, p in pairs.items()}
        s1 = sectors_written(dev)
        if s0 is not None and s1 is not None:
            sector_row.values.append((s1 - s0) * 512 / 2**20)
        for (name, rate), got in results.items():
            n = max(got["messages"], 1)
            for key, what in (("w", "written"), ("win", "window"), ("exit", "at_exit")):
                rows[(name, rate, key)].values.append(got[what] / n)
                rows[(name, rate, key)].ceilings.append(got["payload"] / n)
            bl.log(f"  {name} {rate:g} msg/s: {got['messages']} msgs, {got['delivered']:.0f} "
                   f"delivered, payload {got['payload']:,} B, written {got['written']:,} B "
                   f"({got['written'] / max(got['payload'], 1):.2f}x, deferred checkpoint "
                   f"{got['deferred']:,} B of it; window "
                   f"{got['window'] / max(got['payload'], 1):.2f}x)")
    return list(rows.values()) + ([sector_row] if sector_row.values else [])
