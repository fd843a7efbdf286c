"""Where ferry's flash bytes go (issue 15): one bench_flash pair per rate (5 and 50 msg/s, the
default config unless overrides are given) with `strace -f -p PID` attached, then per rate:
/proc written, the WAL's pwrite bytes, fsyncs and distinct 4 KiB pages dirtied between two
fsyncs (what write_bytes counts), the database file's, and the WAL frames by the b-tree that
owns their page in the file kept at the end (dbstat; pages free by then are "free/other").

    python3 tests/bench/flash_breakdown.py BUILD_DIR OUT_PREFIX ['{"storage": {...}}'] [seconds]

Not a benchmark with a verdict: strace slows ferry; byte counts do not change with it.
"""
import collections
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

build = Path(sys.argv[1]).resolve()
os.environ["FERRY_BIN_DIR"] = str(build)
sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib as bl  # noqa: E402
import bench_flash as bf  # noqa: E402

prefix = sys.argv[2]
overrides = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
seconds = float(sys.argv[4]) if len(sys.argv) > 4 else 60
bl.remove_queue = lambda f: shutil.copy(str(f.storage_path), f"{prefix}-{f.name}.db")


def analyze(trace: str, db: str) -> None:
    con = sqlite3.connect(db)
    owner = {pg: f"{name}:{kind}" for name, pg, kind in
             con.execute("SELECT name, pageno, pagetype FROM dbstat")}
    fds, written, dirty, pages, syncs = {}, collections.Counter(), {}, collections.Counter(), \
        collections.Counter()
    frames = collections.Counter()
    for line in open(trace):
        m = re.search(r'openat\(AT_FDCWD, "([^"]+)".*= (\d+)$', line)
        if m:
            fds[m.group(2)] = m.group(1).rsplit("/", 1)[-1]
            continue
        m = re.search(r'pwrite64\((\d+), "((?:\\x[0-9a-f]{2})*)"\.*, (\d+), (\d+)\) = \d+', line)
        if m:
            f, n, off = fds.get(m.group(1), "fd " + m.group(1)), int(m.group(3)), int(m.group(4))
            written[f] += n
            dirty.setdefault(f, set()).update(range(off // 4096, (off + n - 1) // 4096 + 1))
            if n == 24 and len(m.group(2)) >= 16:  # a WAL frame header: page number first
                frames[owner.get(int(m.group(2)[:16].replace("\\x", ""), 16), "free/other")] += 1
            continue
        m = re.search(r'(?:fsync|fdatasync)\((\d+)\)', line)
        if m:
            f = fds.get(m.group(1), "fd " + m.group(1))
            syncs[f] += 1
            pages[f] += len(dirty.pop(f, ()))
    for f, d in dirty.items():
        pages[f] += len(d)
    for f in written:
        print(f"  {f}: {written[f]:,} B to pwrite, {syncs[f]} fsyncs, {pages[f]} 4 KiB pages "
              f"dirtied between fsyncs ({pages[f] * 4096:,} B)")
    print("  WAL frames by owner: " + ", ".join(f"{k} {v}" for k, v in frames.most_common()))


s = bl.harness.Session("flash-breakdown")
ok = False
try:
    pairs = {r: bf.Pair(s, f"b{r:g}", r, seconds, overrides) for r in (5, 50)}
    traces = {}
    for r, p in pairs.items():
        out = f"{prefix}-{r:g}.strace"
        traces[r] = (subprocess.Popen(
            ["strace", "-f", "-xx", "-s", "4", "-e",
             "trace=pwrite64,fsync,fdatasync,ftruncate,openat", "-o", out, "-p", str(p.pid)],
            stderr=subprocess.DEVNULL), out)
    time.sleep(1.0)
    for p in pairs.values():
        p.start()
    res = {r: p.finish() for r, p in pairs.items()}
    for r, (proc, out) in traces.items():
        proc.wait(30)
        got = res[r]
        print(f"{r:g} msg/s: written {got['written']:,} B ({got['written'] / got['payload']:.2f}x "
              f"of {got['payload']:,} B payload; {got['window'] / got['payload']:.2f}x before the "
              "closing checkpoint)")
        analyze(out, f"{prefix}-{pairs[r].ferry.name}.db")
    ok = True
finally:
    s.close(ok)
