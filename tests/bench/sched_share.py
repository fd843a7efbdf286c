"""Where intake's wall time goes, by the scheduler's own accounting: ferry (landing down) takes N
messages from 4 publishers at QoS Q through mosquitto; /proc/PID/task/TID/schedstat before and
after gives each thread's time on a CPU and its time runnable but waiting for one, beside the
broker's, over the wall time from the publishers' start to the last group stored while
messages flowed. ferry_records_stored_total is read every 20 ms, as the intake benchmark does,
and the schedstat files each time it moved; a last partial group committed only because
storage.commit_interval ran out (it moves 0.5 s or more after the one before, benchlib's
LINGER_GAP_S) ends no window: the window and the figures end at the movement before it. (At QoS 1
the last group may wait storage.commit_interval_qos1, 30 s: use N a multiple of 1,024.)
usage: sched_share.py N QOS   (FERRY_BIN_DIR: the build, default the checkout's build/)"""
import os, sys, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("FERRY_BIN_DIR", str(Path(__file__).resolve().parents[2] / "build"))
import benchlib as bl

N = int(sys.argv[1]); QOS = int(sys.argv[2])
def ss(pid):
    out = {}
    for t in os.listdir(f"/proc/{pid}/task"):
        try: out[t] = [int(x) for x in Path(f"/proc/{pid}/task/{t}/schedstat").read_text().split()]
        except OSError: pass
    return out
def total(pid):
    return [sum(v[i] for v in ss(pid).values()) for i in range(3)]
s = bl.harness.Session("sched")
try:
    broker = bl.BenchBroker(s, name="broker")
    landing = s.landing(name="landing"); landing.stop()
    ferry = bl.bench_ferry(s, broker, landing, "ferry", qos=QOS)
    pid = ferry.proc.pid; bpid = broker.proc.pid
    stored = bl.metric_reader(ferry, "ferry_records_stored_total")
    a = ss(pid); b0 = total(bpid); t0 = time.time()
    pub = bl.start_pub(s, bl.pub_argv(broker, N, 4, QOS))
    last = prev = None  # (time, value, ferry's schedstat, broker's) at the last two movements
    value = stored()
    while value < N and time.time() - t0 < 120:
        time.sleep(0.02)
        n = stored()
        if n != value:
            value = n
            prev, last = last, (time.time(), n, ss(pid), total(bpid))
    end = last
    if prev is not None and last[0] - prev[0] >= bl.LINGER_GAP_S:
        end = prev
        print(f"(the last {last[1] - prev[1]:.0f} records waited out storage.commit_interval: "
              f"not counted)")
    wall = end[0] - t0; count = end[1]; z = end[2]; b1 = end[3]
    print(f"wall {wall:.2f} s ({count/wall:,.0f} msg/s, {count:,.0f} records)")
    for t in z:
        if t in a:
            run = (z[t][0]-a[t][0])/1e9; wait = (z[t][1]-a[t][1])/1e9; sl = z[t][2]-a[t][2]
            if run > 0.05: print(f"ferry tid {t}: on cpu {run:.2f} s ({run/wall*100:.0f}%), runnable waiting {wait:.2f} s ({wait/wall*100:.0f}%), slices {sl}")
    print(f"broker: on cpu {(b1[0]-b0[0])/1e9:.2f} s, runnable waiting {(b1[1]-b0[1])/1e9:.2f} s")
    pub.wait(60, check=False)
finally:
    s.close(True)
