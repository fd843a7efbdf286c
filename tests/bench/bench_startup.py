"""Start-up (item 5) and the backlog part of cost (item 3): a queue of `backlog` records (5M by
default) filled at QoS 1 with the landing down, then

  - peak RSS while filling it,
  - start-up time from exec to /readyz 200 (broker up), and RSS right after, with the backlog and,
    in the same run, with an empty queue (the ceiling),
  - the backlog drained into ferry-landing: peak RSS and records/s,
  - the stripped size of ferry (a stripped copy of build/agent/ferry).
"""

from __future__ import annotations

import shutil
import subprocess
import time

import bench_drain
import benchlib as bl


def time_start(ferry) -> tuple[float, float]:
    """(seconds from exec to /readyz 200, VmRSS MiB right then) of one start of `ferry`."""
    t0 = time.monotonic()
    ferry.start(wait=False)
    while True:
        ferry.check_alive()
        try:
            if ferry.get("/readyz", timeout=2)[0] == 200:
                break
        except OSError:
            pass
        time.sleep(0.005)
    elapsed = time.monotonic() - t0
    return elapsed, bl.proc_stat(ferry).rss_mib()


def starts(ferry, times: int = 3) -> tuple[float, float]:
    """Median (seconds, RSS MiB) of `times` restarts."""
    got = []
    for _ in range(times):
        if ferry.alive():
            ferry.stop(60)
        got.append(time_start(ferry))
    ferry.stop(60)
    return bl.median([g[0] for g in got]), bl.median([g[1] for g in got])


def stripped_size(session) -> int:
    copy = session.path("ferry-stripped")
    shutil.copy(bl.harness.FERRY_BIN, copy)
    subprocess.run(["strip", str(copy)], check=True)
    return copy.stat().st_size


def run(session, backlog: int, publishers: int, runs: int) -> list[bl.Row]:
    label = f"{backlog / 1e6:g}M" if backlog >= 1e6 else f"{backlog / 1e3:g}k"
    rows = {
        "start": bl.Row(f"start-up to /readyz 200 with {label} queued (ceiling: empty queue)", "s"),
        "rss": bl.Row(f"RSS right after start with {label} queued (ceiling: empty queue)", "MiB"),
        "hwm_fill": bl.Row(f"peak RSS while queuing {label} records", "MiB", target=("<=", 16),
                           table="cost"),
        "hwm_drain": bl.Row(f"peak RSS while draining the {label} backlog (after restart)", "MiB",
                            target=("<=", 16), table="cost"),
        "drain": bl.Row(f"drain of the {label} backlog: delivered records/s (ceiling: stored "
                        "blocks POSTed to a counting receiver)", "rec/s", target=(">=", 1_000_000),
                        note="ceiling: drain-ceiling send on a copy of the queue, same run"),
        "fill": bl.Row(f"QoS 1 intake while queuing {label}: stored records/s", "rec/s"),
        "disk": bl.Row(f"queue file size with {label} queued, per record", "B"),
        "strip": bl.Row("stripped ferry binary", "KiB"),
    }
    rows["strip"].values.append(stripped_size(session) / 1024)
    for r in range(runs):
        bl.log(f"startup run {r + 1}/{runs}: queuing {backlog:,} records")
        broker = bl.BenchBroker(session, name=f"broker-s{r}")
        landing = session.landing(name=f"landing-s{r}")
        landing.stop()
        ferry = bl.bench_ferry(session, broker, landing, f"ferry-s{r}", qos=1)
        pub = bl.start_pub(session, bl.pub_argv(broker, backlog, publishers, 1))
        # stall: the last group of QoS 1 messages may wait storage.commit_interval_qos1 (30 s).
        t = bl.time_counter(bl.metric_reader(ferry, "ferry_records_stored_total"), backlog,
                            lambda: not pub.running(), stall=35, timeout=3600)
        pub.wait(120, check=False)
        assert t.reached, f"only {t.last_value:.0f} of {backlog} stored"
        rows["hwm_fill"].values.append(bl.proc_stat(ferry).hwm_mib())
        rows["fill"].values.append(t.rate())
        size = sum(p.stat().st_size for p in ferry.storage_path.parent.glob("queue.db*"))
        rows["disk"].values.append(size / backlog)
        bl.log(f"  stored at {t.rate():,.0f} rec/s; timing restarts")
        full = starts(ferry)
        empty_ferry = bl.bench_ferry(session, broker, None, f"ferry-s{r}-empty", qos=1,
                                     upstream_url=bl.dead_url(), start=False)
        empty = starts(empty_ferry)
        bl.remove_queue(empty_ferry)
        bl.log(f"  start {full[0]:.3f} s / empty {empty[0]:.3f} s, rss {full[1]:.1f} / "
               f"{empty[1]:.1f} MiB; draining the backlog")
        rows["start"].values.append(full[0])
        rows["start"].ceilings.append(empty[0])
        rows["rss"].values.append(full[1])
        rows["rss"].ceilings.append(empty[1])
        copy = session.path(f"queue-copy-s{r}.db")
        bench_drain.copy_queue(ferry, copy)
        ceiling = bench_drain.run_ceiling(copy, passes=1)
        copy.unlink()
        rows["drain"].ceilings.append(ceiling["send_rps"])
        ferry.start()
        d = bench_drain.drain(ferry, landing, backlog)
        rows["hwm_drain"].values.append(d["ferry_hwm_mib"])
        rows["drain"].values.append(d["rate"])
        bl.log(f"  drained {d['delivered']:.0f} at {d['rate']:,.0f} rec/s, "
               f"hwm {d['ferry_hwm_mib']:.1f} MiB")
        ferry.stop(60)
        bl.remove_queue(ferry)
        landing.stop()
        broker.stop()
    return list(rows.values())
