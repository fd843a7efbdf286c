"""Intake (item 1) and cost (item 3, intake part): N publishers send small zigbee2mqtt-shaped
JSON messages through mosquitto at QoS 0 and QoS 1.

Per run and QoS:
  ceiling   ferry-sub-count, a bare subscriber that only counts (first to last message)
  intake    ferry with its upstream down (the forwarder does not compete): stored records/s from
            ferry_records_stored_total, first to last movement, polled every 25 ms
  end2end   ferry with ferry-landing up: records/s delivered, from the publisher's start to the
            last delivered record; ferry's CPU seconds per million and peak RSS (VmHWM)
  slow      QoS 1 intake (landing down) with every SQLite sync taking SLOW_SYNC_MS more, as on an
            SD card or eMMC (ferry-slow-sync: the tests' fault-injection VFS under `ferry run`),
            against the same bare subscriber; at most SLOW_SYNC_N messages
  default   the same end to end with the config a user starts from (the contract's keys only:
            subscription `#` at QoS 1, no routes, the product's quota and batch settings), beside
            the tuned one above (subscription `zigbee2mqtt/+` at the publishers' QoS, the
            zigbee2mqtt route): the cost table shows both
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

import benchlib as bl


def _queue_sizes(ferry) -> tuple[int, int, int]:
    """(records, NDJSON bytes, compressed bytes) of the blocks in ferry's queue file; ferry
    stopped (it holds the file with locking_mode EXCLUSIVE while it runs)."""
    uri = f"file:{ferry.storage_path}?mode=ro"
    with sqlite3.connect(uri, uri=True) as db:
        row = db.execute("SELECT coalesce(sum(last_seq - first_seq + 1), 0), "
                         "coalesce(sum(raw_bytes), 0), coalesce(sum(length(data)), 0) "
                         "FROM blocks").fetchone()
    return int(row[0]), int(row[1]), int(row[2])


# The default config: the contract's keys only (harness.Ferry writes them), `#` at QoS 1.
DEFAULT_CONFIG = {"storage": {"max_size": None}, "routes": None, "log": None}


# An fsync on a gateway's SD card or eMMC: milliseconds to tens of milliseconds.
SLOW_SYNC_MS = 10
SLOW_SYNC_N = 100_000


def slow_sync_wrapper() -> list:
    """The argv prefix that runs ferry with every sync SLOW_SYNC_MS slower."""
    # FERRY_SLOW_SYNC_BIN: another build's, to compare builds as FERRY_BIN does for ferry.
    tool = Path(os.environ.get("FERRY_SLOW_SYNC_BIN")
                or bl.harness.BIN_DIR / "tests" / "bench" / "ferry-slow-sync")
    assert tool.exists(), f"{tool} not built (cmake --build BUILD --target ferry-slow-sync)"
    return [tool, str(SLOW_SYNC_MS)]


def measure_ferry(session, broker, landing, name: str, n: int, publishers: int, qos: int,
                  end_to_end: bool, default_config: bool = False, wrapper: list = (),
                  replay=None, routes: list | None = None) -> dict:
    """One ferry run: publish n messages and time stored (landing down) or delivered records.
    With `replay` (an ndjson corpus, ferry-pub --replay --loop) ferry subscribes to `#` and
    normalizes with `routes`; records may then be fewer (ignored, dead letters) or more
    (explode) than messages, and the figures are per record counted."""
    if default_config:
        ferry = bl.bench_ferry(session, broker, landing, name, qos=1, topics=("#",),
                               overrides=DEFAULT_CONFIG)
    else:
        extra = {"topics": ("#",), "routes": routes} if replay is not None else {}
        ferry = bl.bench_ferry(session, broker, landing, name, qos=qos,
                               upstream_url=None if landing else bl.dead_url(), start=False,
                               **extra)
        ferry.start(wrapper=wrapper)
    ps = bl.proc_stat(ferry)
    cpu0, wr0 = ps.cpu_seconds(), ps.write_bytes()
    t0 = time.monotonic()
    pub = bl.start_pub(session, bl.pub_argv(broker, n, publishers, qos, replay=replay,
                                            loop=replay is not None))
    counter = "ferry_records_delivered_total" if end_to_end else "ferry_records_stored_total"
    # CPU up to the last record counted: a last group of QoS 1 messages waiting
    # storage.commit_interval_qos1 (30 s) is not counted, nor are the 5 s of stall that tell.
    # The intake rate ends at the last group committed while messages flowed: a last partial
    # QoS 0 group waits storage.commit_interval (1 s) for more before its commit, by design, and
    # the bare subscriber's rate runs from its first message to its last (Timed.flow_rate).
    t = bl.time_counter(bl.metric_reader(ferry, counter), n, lambda: not pub.running(),
                        at_move=ps.cpu_seconds)
    cpu1 = t.at_last_move if t.at_last_move is not None else ps.cpu_seconds()
    wr1, hwm = ps.write_bytes(), ps.hwm_mib()
    res = pub.wait(120, check=False)
    out = {
        "count": t.last_value, "lost": n - t.last_value,
        "rate": t.rate() if end_to_end else t.flow_rate(), "rate_with_tail": t.rate(),
        "flow_s": t.flow_seconds(),
        "e2e_rate": t.last_value / (t.last_t - t0) if t.last_t else 0.0,
        "cpu_s": cpu1 - cpu0, "cpu_per_million": (cpu1 - cpu0) / max(t.last_value, 1) * 1e6,
        "hwm_mib": hwm, "write_bytes": wr1 - wr0, "pub_rate": res.acked / max(res.seconds, 1e-9),
    }
    ferry.stop(30)  # first: ferry holds its queue file exclusively while it runs
    if not end_to_end:
        records, raw, stored = _queue_sizes(ferry)
        out.update(line_bytes=raw / max(records, 1), stored_bytes=stored / max(records, 1),
                   written_per_record=(wr1 - wr0) / max(records, 1))
    bl.remove_queue(ferry)
    return out


def run(session, n: int, publishers: int, runs: int) -> list[bl.Row]:
    target_ratio = (">=", 0.95)
    rows = {
        "q0": bl.Row("QoS 0 intake: stored records/s (landing down)", "rec/s", target=target_ratio,
                     target_on="ratio", note="ceiling: bare subscriber (ferry-sub-count), QoS 0"),
        "q1": bl.Row("QoS 1 intake: stored records/s (landing down)", "rec/s", target=target_ratio,
                     target_on="ratio", note="ceiling: bare subscriber, QoS 1"),
        "q1slow": bl.Row(f"QoS 1 intake with every fsync {SLOW_SYNC_MS} ms slower: stored "
                         "records/s (landing down)", "rec/s", target=(">=", 0.8),
                         target_on="ratio",
                         note=f"ferry-slow-sync; ceiling: bare subscriber, QoS 1, same "
                              f"{SLOW_SYNC_N:,}-message run"),
        "e2e1": bl.Row("QoS 1 end to end: delivered records/s", "rec/s",
                       note="publisher start to last record delivered into ferry-landing; "
                            "ratio against the QoS 1 bare subscriber"),
        "e2e0": bl.Row("QoS 0 end to end: delivered records/s", "rec/s"),
        "cpu0": bl.Row("CPU s per million records, QoS 0 end to end", "s", target=("<=", 1.5), table="cost"),
        "cpu1": bl.Row("CPU s per million records, QoS 1 end to end", "s", table="cost"),
        "dcpu0": bl.Row("CPU s per million records, QoS 0 end to end, DEFAULT config (`#` at "
                        "QoS 1, no routes)", "s", table="cost",
                        note="the config a user starts from; the rows above are the tuned one"),
        "dcpu1": bl.Row("CPU s per million records, QoS 1 end to end, DEFAULT config", "s",
                        table="cost"),
        "dhwm": bl.Row("peak RSS, QoS 1 end to end, DEFAULT config", "MiB", target=("<=", 16),
                       table="cost"),
        "cpuin1": bl.Row("CPU s per million records, QoS 1 intake only", "s", table="cost"),
        "hwm1": bl.Row("peak RSS, QoS 1 intake (landing down)", "MiB", target=("<=", 16), table="cost"),
        "hwme2e": bl.Row("peak RSS, QoS 1 end to end", "MiB", target=("<=", 16), table="cost"),
        "flash": bl.Row("disk bytes written per record, QoS 1 intake (ceiling: NDJSON line)",
                        "B", target=("<=", 1.0), target_on="ratio",
                        note="/proc/PID/io write_bytes incl. WAL and checkpoints"),
        "lost0": bl.Row("QoS 0 messages not stored", "msgs"),
    }
    for r in range(runs):
        for qos in (0, 1):
            bl.log(f"intake run {r + 1}/{runs} QoS {qos}: ceiling")
            broker = bl.BenchBroker(session, name=f"broker-i{r}-q{qos}")
            ceiling = bl.run_sub_count(session, broker, n, qos, publishers)
            bl.log(f"  ceiling {ceiling['rate']:,.0f} msg/s ({ceiling['count']} msgs); ferry")
            got = measure_ferry(session, broker, None, f"ferry-i{r}-q{qos}", n, publishers, qos,
                                end_to_end=False)
            bl.log(f"  ferry stored {got['rate']:,.0f} rec/s ({got['count']:.0f}; "
                   f"{got['rate_with_tail']:,.0f} with the last group's commit interval), "
                   f"cpu {got['cpu_s']:.1f} s, hwm {got['hwm_mib']:.1f} MiB")
            key = f"q{qos}"
            rows[key].values.append(got["rate"])
            rows[key].ceilings.append(ceiling["rate"])
            if qos == 1:
                rows["hwm1"].values.append(got["hwm_mib"])
                rows["cpuin1"].values.append(got["cpu_per_million"])
                rows["flash"].values.append(got["written_per_record"])
                rows["flash"].ceilings.append(got["line_bytes"])
                slow_n = min(n, SLOW_SYNC_N)
                bl.log(f"intake run {r + 1}/{runs} QoS 1: ceiling and ferry, "
                       f"{SLOW_SYNC_MS} ms slower syncs, {slow_n:,} messages")
                slow_ceiling = bl.run_sub_count(session, broker, slow_n, qos, publishers)
                slow = measure_ferry(session, broker, None, f"ferry-s{r}", slow_n, publishers, 1,
                                     end_to_end=False, wrapper=slow_sync_wrapper())
                bl.log(f"  ceiling {slow_ceiling['rate']:,.0f} msg/s; ferry stored "
                       f"{slow['rate']:,.0f} rec/s ({slow['count']:.0f})")
                rows["q1slow"].values.append(slow["rate"])
                rows["q1slow"].ceilings.append(slow_ceiling["rate"])
            else:
                rows["lost0"].values.append(got["lost"])
            bl.log(f"intake run {r + 1}/{runs} QoS {qos}: end to end")
            landing = session.landing(name=f"landing-i{r}-q{qos}")
            e2e = measure_ferry(session, broker, landing, f"ferry-e{r}-q{qos}", n, publishers, qos,
                                end_to_end=True)
            bl.log(f"  end to end {e2e['e2e_rate']:,.0f} rec/s ({e2e['count']:.0f}), "
                   f"cpu/M {e2e['cpu_per_million']:.2f} s, hwm {e2e['hwm_mib']:.1f} MiB")
            rows[f"e2e{qos}"].values.append(e2e["e2e_rate"])
            rows[f"e2e{qos}"].ceilings.append(ceiling["rate"])
            rows[f"cpu{qos}"].values.append(e2e["cpu_per_million"])
            if qos == 1:
                rows["hwme2e"].values.append(e2e["hwm_mib"])
            landing.stop()
            bl.log(f"intake run {r + 1}/{runs} QoS {qos}: end to end, default config")
            landing = session.landing(name=f"landing-i{r}-q{qos}-default")
            dflt = measure_ferry(session, broker, landing, f"ferry-d{r}-q{qos}", n, publishers,
                                 qos, end_to_end=True, default_config=True)
            bl.log(f"  default config: {dflt['e2e_rate']:,.0f} rec/s ({dflt['count']:.0f}), "
                   f"cpu/M {dflt['cpu_per_million']:.2f} s, hwm {dflt['hwm_mib']:.1f} MiB")
            rows[f"dcpu{qos}"].values.append(dflt["cpu_per_million"])
            if qos == 1:
                rows["dhwm"].values.append(dflt["hwm_mib"])
            landing.stop()
            broker.stop()
    return list(rows.values())
