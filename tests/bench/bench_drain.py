"""Drain (item 2): n records queued at QoS 1 while the landing zone is down (the outage is as
long as filling the queue takes), then ferry-landing comes back.

Figures: time from the landing's return to the first delivered record (it includes ferry's
upload backoff, here at most 1 s: the harness's upstream.backoff.max), delivered records/s
(ferry_records_delivered_total, first to last movement), ferry-landing's and ferry's CPU during
the drain. Ceiling: Ferry's own drain path without Ferry, in the same run: drain-ceiling on a
copy of the queue file reads the stored blocks, forms batches on block boundaries with Ferry's
default limits (50,000 records / 8 MiB) and POSTs their frames unchanged over loopback HTTP to a
receiver that only counts. The old ceilings (SELECT only; decompress + recompress) are beside it.
"""

from __future__ import annotations

import sqlite3
import subprocess
import time

import benchlib as bl


def copy_queue(ferry, dest) -> None:
    """A copy of ferry's queue file (SQLite online backup). Ferry must be stopped: it holds the
    file with locking_mode EXCLUSIVE while it runs."""
    src = sqlite3.connect(f"file:{ferry.storage_path}?mode=ro", uri=True)
    dst = sqlite3.connect(str(dest))
    with dst:
        src.backup(dst)
    src.close()
    dst.close()


def run_ceiling(db_path, passes: int = 3) -> dict:
    tool = bl.harness.BIN_DIR / "tests" / "bench" / "drain-ceiling"
    run = subprocess.run([str(tool), "--db", str(db_path), "--level", "3", "--max-records",
                          "50000", "--max-bytes", str(8 << 20), "--passes", str(passes)],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, f"drain-ceiling failed: {run.stdout}\n{run.stderr}"
    last = run.stdout.strip().splitlines()[-1]
    return {k: float(v) for k, v in (kv.split("=") for kv in last.split())}


def fill(session, broker, ferry, n: int, publishers: int) -> None:
    pub = bl.start_pub(session, bl.pub_argv(broker, n, publishers, 1))
    # stall: the last group of QoS 1 messages may wait storage.commit_interval_qos1 (30 s).
    t = bl.time_counter(bl.metric_reader(ferry, "ferry_records_stored_total"), n,
                        lambda: not pub.running(), stall=35, timeout=1800)
    pub.wait(120, check=False)
    assert t.reached, f"only {t.last_value:.0f} of {n} records stored"


def drain(ferry, landing, n: int) -> dict:
    """Starts the landing and times the drain of n queued records."""
    fs = bl.proc_stat(ferry)
    ferry_cpu0 = fs.cpu_seconds()
    t0 = time.monotonic()
    landing.start()
    ls = bl.proc_stat(landing)
    t = bl.time_counter(bl.metric_reader(ferry, "ferry_records_delivered_total"), n,
                        lambda: True, stall=30, timeout=1800)
    elapsed = (t.last_t or time.monotonic()) - t0
    landing_cpu, ferry_cpu = ls.cpu_seconds(), fs.cpu_seconds() - ferry_cpu0
    return {
        "first_s": (t.first_t - t0) if t.first_t else None, "rate": t.rate(),
        "overall_rate": t.last_value / elapsed if elapsed > 0 else 0.0, "delivered": t.last_value,
        "landing_cpu_share": landing_cpu / elapsed, "landing_cpu_per_million":
            landing_cpu / max(t.last_value, 1) * 1e6,
        "ferry_cpu_share": ferry_cpu / elapsed,
        "ferry_cpu_per_million": ferry_cpu / max(t.last_value, 1) * 1e6,
        "ferry_hwm_mib": fs.hwm_mib(), "reached": t.reached,
    }


def run(session, n: int, publishers: int, runs: int) -> list[bl.Row]:
    rows = {
        "first": bl.Row("time from landing's return to first delivered record", "s",
                        note="includes ferry's upload backoff (max 1 s in this config)"),
        "rate": bl.Row("drain: delivered records/s (ceiling: stored blocks POSTed to a counting "
                       "receiver)", "rec/s", target=(">=", 1_000_000),
                       note="ceiling: drain-ceiling send, Ferry's path on a copy of the queue"),
        "rate_full": bl.Row("drain: delivered records/s (ceiling: read+decompress+batch+compress)",
                            "rec/s"),
        "rate_read": bl.Row("drain: delivered records/s (ceiling: SELECT blocks only)", "rec/s"),
        "landing_cpu": bl.Row("ferry-landing CPU during the drain (share of one core)", "core"),
        "landing_cpm": bl.Row("ferry-landing CPU s per million records", "s"),
        "ferry_cpu": bl.Row("ferry CPU during the drain (share of one core)", "core"),
        "ferry_cpm": bl.Row("ferry CPU s per million records drained", "s"),
        "hwm": bl.Row("ferry peak RSS (fill + drain)", "MiB", target=("<=", 16)),
    }
    for r in range(runs):
        bl.log(f"drain run {r + 1}/{runs}: filling {n:,} records, landing down")
        broker = bl.BenchBroker(session, name=f"broker-d{r}")
        landing = session.landing(name=f"landing-d{r}")
        landing.stop()
        ferry = bl.bench_ferry(session, broker, landing, f"ferry-d{r}", qos=1)
        fill(session, broker, ferry, n, publishers)
        copy = session.path(f"queue-copy-d{r}.db")
        ferry.stop(60)
        copy_queue(ferry, copy)
        ferry.start()
        ceiling = run_ceiling(copy)
        copy.unlink()
        bl.log(f"  ceiling send {ceiling['send_rps']:,.0f} rec/s, full {ceiling['full_rps']:,.0f}, "
               f"read {ceiling['read_rps']:,.0f}, decompress {ceiling['decompress_rps']:,.0f}; "
               "draining")
        d = drain(ferry, landing, n)
        bl.log(f"  drained {d['delivered']:.0f} at {d['rate']:,.0f} rec/s, first after "
               f"{d['first_s']} s, landing cpu {d['landing_cpu_share']:.2f} core")
        rows["first"].values.append(d["first_s"])
        rows["rate"].values.append(d["rate"])
        rows["rate"].ceilings.append(ceiling["send_rps"])
        rows["rate_full"].values.append(d["rate"])
        rows["rate_full"].ceilings.append(ceiling["full_rps"])
        rows["rate_read"].values.append(d["rate"])
        rows["rate_read"].ceilings.append(ceiling["read_rps"])
        rows["landing_cpu"].values.append(d["landing_cpu_share"])
        rows["landing_cpm"].values.append(d["landing_cpu_per_million"])
        rows["ferry_cpu"].values.append(d["ferry_cpu_share"])
        rows["ferry_cpm"].values.append(d["ferry_cpu_per_million"])
        rows["hwm"].values.append(d["ferry_hwm_mib"])
        ferry.stop(30)
        bl.remove_queue(ferry)
        landing.stop()
        broker.stop()
    return list(rows.values())
