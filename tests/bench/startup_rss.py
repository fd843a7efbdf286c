"""RSS, PSS and USS of ferry right after start (/readyz 200), empty queue, default config.
PSS shares each page among the processes mapping it, so it is lower while another ferry (or
anything linking the same libraries) runs; USS (private pages only) does not depend on others.
usage: startup_rss.py BUILD_DIR [runs] [--smaps]"""
import os, sys, time, collections
from pathlib import Path
build = Path(sys.argv[1]).resolve()
os.environ["FERRY_BIN_DIR"] = str(build)
sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib as bl
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
smaps = "--smaps" in sys.argv

def rollup(pid):
    d = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        k, v = line.split(":")[0], line.split()[1]
        d[k] = int(v)
    return d

def per_mapping(pid):
    agg = collections.Counter()
    name = None
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        parts = line.split()
        if "-" in parts[0] and ":" not in parts[0]:
            name = parts[5] if len(parts) > 5 else "[anon]"
        elif parts[0] == "Rss:":
            agg[name] += int(parts[1])
    return agg

s = bl.harness.Session("startup-rss")
try:
    broker = bl.BenchBroker(s, name="broker")
    landing = s.landing(name="landing")
    out = []
    for r in range(runs):
        f = bl.bench_ferry(s, broker, landing, f"ferry{r}", qos=1, topics=("#",), routes=[],
                           overrides={"storage": {"max_size": None}, "routes": None}, start=False)
        f.start()
        time.sleep(1.0)
        pid = f.proc.pid
        ru = rollup(pid)
        uss = (ru["Private_Clean"] + ru["Private_Dirty"]) / 1024
        out.append((ru["Rss"] / 1024, ru["Pss"] / 1024, uss))
        print(f"run {r+1}: RSS {ru['Rss']/1024:.2f} MiB  PSS {ru['Pss']/1024:.2f} MiB  "
              f"USS {uss:.2f} MiB  anon {ru['Anonymous']/1024:.2f} MiB", flush=True)
        if smaps and r == 0:
            for k, v in per_mapping(pid).most_common(25):
                print(f"   {v:7d} KiB  {k}")
            threads = len(os.listdir(f"/proc/{pid}/task"))
            print(f"   threads: {threads}")
        f.stop(30)
        bl.remove_queue(f)
    rs = sorted(o[0] for o in out); ps = sorted(o[1] for o in out); us = sorted(o[2] for o in out)
    print(f"median RSS {rs[len(rs)//2]:.2f} MiB, PSS {ps[len(ps)//2]:.2f} MiB, "
          f"USS {us[len(us)//2]:.2f} MiB")
finally:
    s.close(True)
