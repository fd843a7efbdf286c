#!/usr/bin/env python3
"""Ferry's benchmark suite: how fast and how small Ferry is, against ceilings measured in the
same run.

    python3 tests/bench/run.py                 # every benchmark, 3 runs each, medians
    python3 tests/bench/run.py intake          # one (intake, drain, cost, wire, flash, startup)
    python3 tests/bench/run.py --quick         # every benchmark, small N, one run: < 5 minutes
    python3 tests/bench/run.py flash --flash-variants '{"ci5s": {"storage": {"commit_interval": "5s"}}}'
                                               # flash wear of the defaults beside a variant
    python3 tests/bench/run.py --json out.json # also write every run's raw figures

Builds what it needs with cmake into --build (default: <repo>/build) when a binary is missing.
Prints one table per benchmark: figure, median, ceiling, ratio, target, verdict. Results and
the profile are in tests/bench/RESULTS.md. Never part of `make test`: no timed assertions.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE.parents[1]
BENCHES = ("intake", "drain", "cost", "wire", "flash", "startup")
TARGETS = ("ferry", "ferry-landing", "ferry-pub", "ferry-sub-count", "drain-ceiling",
           "ferry-slow-sync")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("bench", nargs="*", help=f"benchmarks to run: {', '.join(BENCHES)} (all)")
    p.add_argument("--quick", action="store_true", help="small N and one run (smoke test)")
    p.add_argument("--runs", type=int, help="repetitions per figure (3; 1 with --quick)")
    p.add_argument("-n", type=int, help="messages for intake and drain (1,000,000)")
    p.add_argument("--backlog", type=int, help="queued records for start-up (5,000,000)")
    p.add_argument("--wire-n", type=int, help="corpus messages replayed for wire (200,000)")
    p.add_argument("--publishers", type=int, default=4, help="concurrent publishers (4)")
    p.add_argument("--pub-nice", type=int, default=0,
                   help="run the publishers at this nice level, e.g. 19: the devices then take "
                        "CPU only when the broker and the subscriber leave it, as on a gateway, "
                        "whose devices run elsewhere (0: compete as equals)")
    p.add_argument("--flash-seconds", type=float, help="seconds of each flash-wear run (60)")
    p.add_argument("--flash-rates", default="5,50", help="msg/s of the flash-wear runs (5,50)")
    p.add_argument("--flash-variants", type=json.loads, default=None,
                   help='flash wear: JSON {"name": {config overrides}} measured beside the '
                        "defaults, all in the same run")
    p.add_argument("--build", type=Path, default=Path(os.environ.get("FERRY_BIN_DIR", "") or
                                                      SOURCE / "build"))
    p.add_argument("--json", type=Path, help="write the raw figures of every run here")
    p.add_argument("--keep", action="store_true", help="keep the temporary directories")
    a = p.parse_args()
    for b in a.bench:
        if b not in BENCHES:
            p.error(f"unknown benchmark {b!r}: choose from {', '.join(BENCHES)}")
    a.bench = list(a.bench) or list(BENCHES)
    a.runs = a.runs or (1 if a.quick else 3)
    a.n = a.n or (100_000 if a.quick else 1_000_000)
    a.backlog = a.backlog or (200_000 if a.quick else 5_000_000)
    a.wire_n = a.wire_n or (20_000 if a.quick else 200_000)
    a.flash_seconds = a.flash_seconds or (30 if a.quick else 60)
    a.flash_rates = tuple(float(r) for r in a.flash_rates.split(","))
    return a


def ensure_built(build: Path) -> None:
    paths = {"ferry": build / "agent" / "ferry", "ferry-landing": build / "agent" / "ferry-landing",
             "ferry-pub": build / "tests" / "ferry-pub",
             "ferry-sub-count": build / "tests" / "ferry-sub-count",
             "drain-ceiling": build / "tests" / "bench" / "drain-ceiling",
             "ferry-slow-sync": build / "tests" / "bench" / "ferry-slow-sync"}
    missing = [t for t, path in paths.items() if not path.exists()]
    if not missing:
        return
    print(f"building {', '.join(missing)} in {build}", file=sys.stderr, flush=True)
    if not (build / "CMakeCache.txt").exists():
        subprocess.run(["cmake", "-S", str(SOURCE), "-B", str(build),
                        "-DCMAKE_BUILD_TYPE=RelWithDebInfo"], check=True)
    subprocess.run(["cmake", "--build", str(build), "-j", "2", "--target", *missing], check=True)


def describe(build: Path) -> str:
    def git(*args: str) -> str:
        run = subprocess.run(["git", "-C", str(SOURCE), *args], capture_output=True, text=True)
        return run.stdout.strip()
    commit = git("rev-parse", "HEAD") or "unknown (not a git checkout)"
    dirty = " (working tree has changes)" if git("status", "--porcelain", "-uno") else ""
    load = Path("/proc/loadavg").read_text().split()[:3]
    return (f"commit {commit}{dirty}; build {build}; {os.cpu_count()} CPUs, "
            f"load {' '.join(load)}; {time.strftime('%Y-%m-%d %H:%M:%S')}")


def main() -> int:
    a = parse_args()
    os.environ["FERRY_BIN_DIR"] = str(a.build.resolve())
    os.environ["FERRY_BENCH_PUB_NICE"] = str(a.pub_nice)
    ensure_built(a.build)
    sys.path.insert(0, str(HERE))
    import bench_drain
    import bench_flash
    import bench_intake
    import bench_startup
    import bench_wire
    import benchlib as bl

    print(describe(a.build))
    print(f"N={a.n:,} backlog={a.backlog:,} wire={a.wire_n:,} publishers={a.publishers} "
          f"(nice {a.pub_nice}) "
          f"flash={a.flash_seconds:g} s at {a.flash_rates} msg/s runs={a.runs}")
    wanted = set(a.bench)
    plan = []  # (name, function) in order; cost comes from intake and startup
    if wanted & {"intake", "cost"}:
        plan.append(("intake", lambda s: bench_intake.run(s, a.n, a.publishers, a.runs)))
    if "drain" in wanted:
        plan.append(("drain", lambda s: bench_drain.run(s, a.n, a.publishers, a.runs)))
    if "wire" in wanted:
        plan.append(("wire", lambda s: bench_wire.run(s, a.wire_n, 2, a.runs)))
    if "flash" in wanted:
        variants = {"default": {}, **(a.flash_variants or {})}
        plan.append(("flash", lambda s: bench_flash.run(s, a.flash_rates, a.flash_seconds, a.runs,
                                                        variants)))
    if wanted & {"startup", "cost"}:
        plan.append(("startup", lambda s: bench_startup.run(s, a.backlog, a.publishers, a.runs)))

    tables: dict[str, list] = {}
    failed = False
    for name, fn in plan:
        session = bl.harness.Session(f"bench-{name}")
        ok = False
        started = time.monotonic()
        try:
            for row in fn(session):
                tables.setdefault(row.table or name, []).append(row)
            ok = True
        except Exception:  # noqa: BLE001 - report, keep the directory, go on with the next one
            import traceback
            traceback.print_exc()
            failed = True
        finally:
            session.close(ok and not a.keep)
        bl.log(f"{name} took {time.monotonic() - started:.0f} s"
               + ("" if ok else f"; FAILED, kept {session.dir}"))
        if name in tables and name in wanted:
            bl.print_table(name, tables[name], a.runs)
    if "cost" in tables:
        bl.print_table("cost", tables["cost"], a.runs)
    if a.json:
        a.json.write_text(json.dumps({"describe": describe(a.build), "args": {
            "n": a.n, "backlog": a.backlog, "wire_n": a.wire_n, "runs": a.runs,
            "publishers": a.publishers, "flash_seconds": a.flash_seconds,
            "flash_rates": a.flash_rates, "flash_variants": a.flash_variants}, "tables": {t: [r.as_dict() for r in rows]
                                                    for t, rows in tables.items()}}, indent=1))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
