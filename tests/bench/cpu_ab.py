#!/usr/bin/env python3
"""Agent CPU per million records, A/B of ferry builds in interleaved runs (issue 15).

    python3 tests/bench/cpu_ab.py BASE=/work/wt-base/build NEW=build \\
        [--runs 3] [--qos 1,0] [--modes intake,e2e] [-n 300000] [--publishers 4] [--json out.json]

Each run measures every build, QoS and mode once, the builds' order alternating from run to
run (A B, then B A, ...), so a load that drifts during the runs falls on both. One measurement
is bench_intake.measure_ferry, as behind the cost table's rows: ferry-pub sends n small
zigbee2mqtt-shaped messages from --publishers publishers at the QoS to a fresh mosquitto; ferry
(tuned config: `zigbee2mqtt/+` at that QoS, the zigbee2mqtt route, the product's commit
intervals and linger) either stores them with its upstream down ("intake": until
ferry_records_stored_total reaches n) or delivers them into ferry-landing ("e2e": until
ferry_records_delivered_total does). The figure is ferry's user+system CPU (/proc/PID/stat)
over that window per million records, with peak RSS (VmHWM) and the rate.

Prints every run (with the 1-minute load average when it started), the median per build, the
ratio of the medians to the first build, and the median of the paired per-run ratios.
ferry-pub and ferry-landing come from --tools (default: the last build).

--corpus: the real device corpus instead (bench_wire's: ../shared/data/devices except the hostile
inputs, looped by ferry-pub --replay), ferry subscribed to `#` with the demo's routes (every
family); ignored messages and dead letters make fewer records than messages, so n is messages
sent and the figure is per record counted.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("builds", nargs="+", metavar="NAME=BUILD_DIR",
                   help="builds to compare (CMake build directories with agent/ferry); the first "
                        "is the reference of the ratios")
    p.add_argument("--runs", type=int, default=3, help="interleaved runs (3)")
    p.add_argument("--qos", default="1,0", help="QoS levels, in order (1,0)")
    p.add_argument("--modes", default="intake,e2e",
                   help="intake (upstream down, stored) and/or e2e (delivered) (intake,e2e)")
    p.add_argument("-n", type=int, default=300_000, help="messages per measurement (300,000)")
    p.add_argument("--publishers", type=int, default=4, help="concurrent publishers (4)")
    p.add_argument("--tools", type=Path, help="build with ferry-pub and ferry-landing (the last)")
    p.add_argument("--json", type=Path, help="write every measurement here")
    p.add_argument("--corpus", action="store_true",
                   help="publish the real device corpus with the demo's routes")
    a = p.parse_args()
    a.builds = [b.split("=", 1) if "=" in b else [Path(b).name, b] for b in a.builds]
    a.builds = [(name, Path(d).resolve()) for name, d in a.builds]
    for name, d in a.builds:
        if not (d / "agent" / "ferry").exists():
            p.error(f"{name}: {d}/agent/ferry is missing")
    a.qos = [int(q) for q in a.qos.split(",")]
    a.modes = a.modes.split(",")
    if any(m not in ("intake", "e2e") for m in a.modes):
        p.error("--modes: intake, e2e")
    a.tools = (a.tools or a.builds[-1][1]).resolve()
    return a


def load1() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def main() -> int:
    a = parse_args()
    os.environ["FERRY_BIN_DIR"] = str(a.tools)
    sys.path.insert(0, str(HERE))
    import bench_intake
    import benchlib as bl

    harness = bl.harness
    session = harness.Session("bench-cpu-ab")
    replay = routes = None
    if a.corpus:
        import bench_wire
        replay, routes = bench_wire.corpus(session), bench_wire.ROUTES
    # Copies, so a rebuild of a build directory during the runs changes nothing.
    bins = {}
    for name, d in a.builds:
        dst = session.path("bin", name, "ferry")
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(d / "agent" / "ferry", dst)
        bins[name] = dst
    runs: list[dict] = []
    ok = False
    try:
        for r in range(a.runs):
            order = a.builds if r % 2 == 0 else list(reversed(a.builds))
            for qos in a.qos:
                broker = bl.BenchBroker(session, name=f"broker-r{r}-q{qos}")
                for mode in a.modes:
                    for name, _ in order:
                        harness.FERRY_BIN = bins[name]
                        landing = session.landing(name=f"landing-{name}-r{r}") \
                            if mode == "e2e" else None
                        load = load1()
                        got = bench_intake.measure_ferry(
                            session, broker, landing, f"ferry-{name}-r{r}-q{qos}-{mode}", a.n,
                            a.publishers, qos, end_to_end=mode == "e2e", replay=replay,
                            routes=routes)
                        if landing:
                            landing.stop()
                        row = {"run": r + 1, "build": name, "qos": qos, "mode": mode,
                               "load1": load, "cpu_per_million": got["cpu_per_million"],
                               "cpu_s": got["cpu_s"], "hwm_mib": got["hwm_mib"],
                               "rate": got["rate"] if mode == "intake" else got["e2e_rate"],
                               "count": got["count"]}
                        runs.append(row)
                        bl.log(f"run {r + 1} {name:>6} qos{qos} {mode:<6} load {load:5.2f}: "
                               f"{row['cpu_per_million']:.2f} CPU s/M, {row['rate']:,.0f} rec/s, "
                               f"hwm {row['hwm_mib']:.1f} MiB ({row['count']:.0f} records)")
                broker.stop()
        ok = True
    finally:
        session.close(ok)
    report(a, runs)
    if a.json:
        a.json.write_text(json.dumps(runs, indent=1) + "\n")
    return 0


def report(a: argparse.Namespace, runs: list[dict]) -> None:
    ref = a.builds[0][0]
    what = "device corpus (demo routes)" if a.corpus else "synthetic zigbee2mqtt payload"
    print(f"\nn={a.n:,}, {what}, {a.publishers} publishers, {a.runs} interleaved runs; "
          f"ratios against {ref}\n")
    print("| QoS, mode | build | CPU s per million, median | ratio of medians | median of "
          "paired ratios | every run (load1) | rec/s, median | peak RSS MiB, median |")
    print("|---|---|---|---|---|---|---|---|")
    for qos in a.qos:
        for mode in a.modes:
            mine = {name: [x for x in runs if x["qos"] == qos and x["mode"] == mode and
                           x["build"] == name] for name, _ in a.builds}
            ref_med = statistics.median(x["cpu_per_million"] for x in mine[ref])
            for name, _ in a.builds:
                xs = mine[name]
                med = statistics.median(x["cpu_per_million"] for x in xs)
                paired = [x["cpu_per_million"] / y["cpu_per_million"]
                          for x, y in zip(xs, mine[ref])]
                every = ", ".join(f"{x['cpu_per_million']:.2f} ({x['load1']:.1f})" for x in xs)
                print(f"| QoS {qos} {mode} | {name} | {med:.2f} | {med / ref_med:.3f} | "
                      f"{statistics.median(paired):.3f} | {every} | "
                      f"{statistics.median(x['rate'] for x in xs):,.0f} | "
                      f"{statistics.median(x['hwm_mib'] for x in xs):.1f} |")


if __name__ == "__main__":
    sys.exit(main())
