"""The circuit breaker: with the landing zone down (20 s) and records queued, ferry opens the
breaker after upstream.breaker.failures failed uploads (default 3): /status upstream.breaker is
"open", ferry_upstream_breaker_open 1, ferry_upstream_requests_total stops growing and probes
are counted in ferry_upstream_probes_total instead. Once the real ferry-landing is back on the
same port, the first record is delivered within about one probe interval (5 s here)."""

import time

import harness

DOWN_SECONDS = 20
PROBE_INTERVAL = 5.0  # upstream.breaker.probe_interval, set explicitly
FAILURES = 3          # upstream.breaker.failures, set explicitly
MESSAGES = 300


def requests_total(m: harness.Metrics) -> float:
    return m.sum("ferry_upstream_requests_total")


def test(s: harness.Session) -> None:
    s.pin_binaries()  # restarts keep using the binaries this run started with
    broker = s.broker()
    landing = s.landing(port=harness.free_port())
    landing.stop()
    down_since = time.monotonic()
    ferry = s.ferry(broker, landing, overrides={"upstream": {"breaker": {
        "failures": FAILURES, "probe_interval": f"{int(PROBE_INTERVAL * 1000)}ms"}}})
    print(f"landing down on port {landing.port}; breaker settings: failures {FAILURES}, "
          f"probe_interval {PROBE_INTERVAL:g} s")

    res = harness.publish(broker, "zigbee2mqtt/dev1", count=MESSAGES,
                          payload='{"temperature":20,"seq":{i},"pub":1}')
    assert res.acked == MESSAGES, res
    st = harness.wait_for(lambda: (st := ferry.status())["upstream"]["breaker"] == "open" and st,
                          20, "/status upstream.breaker to become open")
    opened = time.monotonic()
    m = ferry.metrics()
    print(f"breaker open {opened - down_since:.1f} s into the outage: /status upstream "
          f"{st['upstream']}; ferry_upstream_breaker_open {m['ferry_upstream_breaker_open']:.0f}; "
          f"requests so far {requests_total(m):.0f}")
    assert m["ferry_upstream_breaker_open"] == 1
    assert st["upstream"]["consecutive_failures"] >= FAILURES
    assert st["queue"]["records"] == MESSAGES, st["queue"]
    # A moment for a request that was under way when the breaker opened.
    time.sleep(0.5)
    requests_open = requests_total(ferry.metrics())
    assert requests_open <= FAILURES + 1, f"{requests_open:.0f} requests before the breaker opened"

    samples = []
    while time.monotonic() - down_since < DOWN_SECONDS:
        time.sleep(2)
        m = ferry.metrics()
        samples.append((round(time.monotonic() - opened, 1), requests_total(m),
                        m.sum("ferry_upstream_probes_total")))
        assert m["ferry_upstream_breaker_open"] == 1, "the breaker closed with the landing down"
    print("while open (s since open, requests, probes): " +
          ", ".join(f"({t}, {r:.0f}, {p:.0f})" for t, r, p in samples))
    m = ferry.metrics()
    probes = m.sum("ferry_upstream_probes_total")
    grew = requests_total(m) - requests_open
    open_for = time.monotonic() - opened
    print(f"open for {open_for:.1f} s: requests +{grew:.0f}, probes {probes:.0f} "
          f"{dict((l['code'], v) for l, v in m.samples('ferry_upstream_probes_total'))}")
    assert grew == 0, f"ferry sent {grew:.0f} batches while the breaker was open"
    assert int(open_for / PROBE_INTERVAL) - 1 <= probes <= open_for / PROBE_INTERVAL + 1, \
        f"{probes:.0f} probes in {open_for:.1f} s with a {PROBE_INTERVAL:g} s interval"
    st = ferry.status()
    assert st["upstream"]["breaker"] == "open" and st["upstream"]["state"] not in \
        harness.UPSTREAM_HEALTHY_STATES, st["upstream"]

    landing.start()
    up = time.monotonic()
    harness.wait_for(lambda: landing.files(), PROBE_INTERVAL + 10, "a first batch at the landing",
                     interval=0.05)
    first = time.monotonic() - up
    print(f"landing back on port {landing.port} after {up - down_since:.1f} s down: "
          f"first record delivered {first:.2f} s after the landing started listening")
    assert first <= PROBE_INTERVAL + 1.5, \
        f"first delivery {first:.2f} s after the landing came back (probe interval {PROBE_INTERVAL:g} s)"

    records = landing.wait_records(MESSAGES, timeout=30, ferry=ferry)
    harness.check_exactly_once(records, {(1, i) for i in range(1, MESSAGES + 1)})
    st = harness.wait_for(lambda: (st := ferry.status())["upstream"]["breaker"] == "closed" and st,
                          10, "the breaker to close")
    m = ferry.metrics()
    print(f"after recovery: breaker {st['upstream']['breaker']}, state {st['upstream']['state']}, "
          f"ferry_upstream_breaker_open {m['ferry_upstream_breaker_open']:.0f}, "
          f"requests {dict((l['code'], v) for l, v in m.samples('ferry_upstream_requests_total'))}")
    assert m["ferry_upstream_breaker_open"] == 0


if __name__ == "__main__":
    harness.main(test)
