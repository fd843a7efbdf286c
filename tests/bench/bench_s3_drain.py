"""Drain to S3 against drain over HTTP, in the same run: a backlog of n records is queued while
the upstream is down (QoS 1 from ferry-pub), the queue file is copied, and the same backlog is
drained twice: by ferry to ferry-landing --root (the HTTP upstream) and by a ferry with the copy
to s3rver on loopback (the s3:// upstream, SigV4 by libcurl). Each with its kind's batch
defaults but for the linger (1 s for both, so the tail of the backlog waits no longer). Figures: delivered records/s (first to last movement of
ferry_records_delivered_total), ferry's CPU seconds per million records, ferry's peak RSS
(VmHWM) while draining (the process is started on the filled queue, so its peak is the drain's).

    python3 tests/bench/bench_s3_drain.py [--records 1000000] [--publishers 4]

s3rver (node.js, writing each object to disk with its metadata) is the store's side here and
limits the S3 rate long before the agent does: the agent's CPU per record is the comparable
figure. Needs FERRY_BIN_DIR (default /work/main/build)."""

from __future__ import annotations

import argparse
import shutil
import time

import benchlib as bl
import s3harness  # tests/integration is on the path (benchlib)


def fill(session, broker, n: int, publishers: int):
    ferry = bl.bench_ferry(session, broker, None, "fill", qos=1, upstream_url=bl.dead_url())
    pub = bl.start_pub(session, bl.pub_argv(broker, n, publishers, 1))
    # stall: the last group of QoS 1 messages may wait storage.commit_interval_qos1 (30 s).
    t = bl.time_counter(bl.metric_reader(ferry, "ferry_records_stored_total"), n,
                        lambda: not pub.running(), stall=35, timeout=1800)
    pub.wait(120, check=False)
    assert t.reached, f"only {t.last_value:.0f} of {n} records stored"
    ferry.stop(30)
    return ferry.storage_path


def drain(ferry, n: int) -> dict:
    stat = bl.proc_stat(ferry)
    cpu0 = stat.cpu_seconds()
    t0 = time.monotonic()
    t = bl.time_counter(bl.metric_reader(ferry, "ferry_records_delivered_total"), n,
                        lambda: True, stall=60, timeout=3600)
    elapsed = (t.last_t or time.monotonic()) - t0
    cpu = stat.cpu_seconds() - cpu0
    out = {"records": t.last_value, "seconds": elapsed, "rate": t.last_value / elapsed,
           "cpu_s_per_million": cpu / max(t.last_value, 1) * 1e6, "hwm_mib": stat.hwm_mib()}
    ferry.stop(30)
    return out


def run(n: int, publishers: int) -> dict:
    session = bl.harness.Session("bench-s3-drain")
    try:
        broker = bl.BenchBroker(session, name="broker")
        queue = fill(session, broker, n, publishers)
        copies = {}
        for kind in ("http", "s3"):
            copies[kind] = session.path(f"queue-{kind}.db")
            shutil.copy(queue, copies[kind])
        results = {}
        landing = session.landing(name="landing")
        http = bl.bench_ferry(session, broker, landing, "http", qos=1, start=False,
                              overrides={"storage": {"path": str(copies["http"])}})
        http.start(wait=True)
        results["http"] = drain(http, n)
        landing.stop()
        s3 = s3harness.S3rver(session)
        creds = s3harness.write_credentials(session.path("s3-credentials"))
        cfg = {"storage": {"path": str(copies["s3"])},
               "upstream": {"url": f"s3://{s3.bucket}/bench",
                            "s3": {"endpoint": s3.endpoint, "path_style": True,
                                   "credentials_file": str(creds)},
                            "batch": {"linger": "1s"}}}  # as the HTTP run: the tail waits no longer
        s3f = bl.bench_ferry(session, broker, None, "s3", qos=1, start=False, overrides=cfg)
        s3f.start(wait=True)
        results["s3"] = drain(s3f, n)
        s3.stop()
        results["objects"] = len(s3.object_files())
        return results
    finally:
        for p in session.processes:
            p.kill()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--publishers", type=int, default=4)
    a = ap.parse_args()
    r = run(a.records, a.publishers)
    print(f"backlog {a.records:,} records; S3 objects written: {r['objects']}")
    print(f"{'upstream':10} {'records/s':>12} {'CPU s/M rec':>12} {'peak RSS MiB':>13} {'s':>8}")
    for kind in ("http", "s3"):
        x = r[kind]
        print(f"{kind:10} {x['rate']:12,.0f} {x['cpu_s_per_million']:12.2f} "
              f"{x['hwm_mib']:13.1f} {x['seconds']:8.1f}")


if __name__ == "__main__":
    main()
