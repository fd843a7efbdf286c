#!/usr/bin/env python3
"""CPU profile of ferry (and ferry-landing) with perf, for tests/bench/RESULTS.md "Profile".

    python3 tests/bench/profile.py [-n 200000] [--qos 1] [--build DIR] [--out DIR]

Two phases, each recorded with `perf record -e cpu-clock --call-graph dwarf` attached to the
running process (perf_event_paranoid <= 2 is enough for one's own processes; hardware counters
are not needed):
  intake   n messages at --qos into ferry with its upstream down (landing stopped)
  drain    ferry-landing started; ferry and ferry-landing recorded until the queue is empty
Writes perf.data files and text reports (self time per symbol, and time including callees)
into --out, and prints the top of each.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def perf_attach(pid: int, out: Path) -> subprocess.Popen:
    return subprocess.Popen(["perf", "record", "-e", "cpu-clock", "-F", "499",
                             "--call-graph", "dwarf,16384", "-o", str(out), "-p", str(pid)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def perf_stop(p: subprocess.Popen) -> None:
    p.send_signal(signal.SIGINT)
    p.wait(120)


def report(data: Path, out_dir: Path, top: int = 25) -> str:
    text = []
    for mode, flag in (("self", "--no-children"), ("children", "--children")):
        run = subprocess.run(["perf", "report", "-i", str(data), flag, "--sort", "symbol",
                              "--stdio", "-g", "none", "--percent-limit", "0.5"],
                             capture_output=True, text=True)
        path = out_dir / f"{data.stem}.{mode}.txt"
        path.write_text(run.stdout)
        lines = [ln for ln in run.stdout.splitlines() if ln.strip() and not ln.startswith("#")]
        text.append(f"---- {data.stem}: {mode} ----\n" + "\n".join(lines[:top]))
    return "\n".join(text)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("-n", type=int, default=200_000)
    p.add_argument("--qos", type=int, default=1)
    p.add_argument("--publishers", type=int, default=4)
    p.add_argument("--build", type=Path, default=Path(os.environ.get("FERRY_BIN_DIR", "") or
                                                      HERE.parents[1] / "build"))
    p.add_argument("--out", type=Path, default=Path("/tmp/ferry-profile"))
    a = p.parse_args()
    os.environ["FERRY_BIN_DIR"] = str(a.build.resolve())
    sys.path.insert(0, str(HERE))
    import bench_drain
    import benchlib as bl

    a.out.mkdir(parents=True, exist_ok=True)
    session = bl.harness.Session("bench-profile")
    ok = False
    try:
        broker = bl.BenchBroker(session)
        landing = session.landing()
        landing.stop()
        ferry = bl.bench_ferry(session, broker, landing, "ferry-prof", qos=a.qos)
        perf = perf_attach(ferry.proc.pid, a.out / "intake.data")
        time.sleep(1)
        bl.log(f"intake: {a.n:,} messages at QoS {a.qos}")
        bench_drain.fill(session, broker, ferry, a.n, a.publishers)
        perf_stop(perf)
        bl.log("drain")
        fs = bl.proc_stat(ferry)
        perf_f = perf_attach(ferry.proc.pid, a.out / "drain-ferry.data")
        time.sleep(1)
        landing.start()
        perf_l = perf_attach(landing.proc.pid, a.out / "drain-landing.data")
        bl.time_counter(bl.metric_reader(ferry, "ferry_records_delivered_total"), a.n,
                        lambda: True, stall=30, timeout=900)
        perf_stop(perf_f)
        perf_stop(perf_l)
        bl.log(f"ferry cpu {fs.cpu_seconds():.1f} s total")
        ferry.stop(30)
        for name in ("intake", "drain-ferry", "drain-landing"):
            print(report(a.out / f"{name}.data", a.out))
        ok = True
    finally:
        session.close(ok)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
