"""The scale-out landing tier: two ferry-landing --store s3://... instances behind HAProxy, two
agents sending through it, one instance killed (-9) mid-run. The instances keep no state of
their own (a repeated key is found with a HEAD in the bucket), so every record lands exactly
once, whichever instance took each try of a batch."""

import shutil

import harness
import s3harness

PUBS = 2
PER_PUB = 1000
PAYLOAD = '{"temperature":21.5,"seq":{i},"pub":{p}}'


class HaProxy(harness.Process):
    def __init__(self, session: harness.Session, backends: list[int]):
        super().__init__(session, "haproxy")
        binary = shutil.which("haproxy") or "/usr/sbin/haproxy"
        if not shutil.which("haproxy") and not harness.Path(binary).exists():
            s3harness.skip("haproxy (Debian package haproxy) is not installed")
        self.port = harness.free_port()
        servers = "\n".join(f"    server landing{n} 127.0.0.1:{port} check inter 200ms fall 1 rise 1"
                            for n, port in enumerate(backends, 1))
        config = self.dir / "haproxy.cfg"
        config.write_text(f"""global
    maxconn 256
defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    retries 3
    option redispatch
frontend ferry
    bind 127.0.0.1:{self.port}
    default_backend landing
backend landing
    balance roundrobin
    option httpchk GET /healthz
{servers}
""")
        self._spawn([binary, "-db", "-f", config])
        harness.wait_for(lambda: self.check_alive() or harness.port_open(self.port), 15,
                         f"haproxy on port {self.port}")


def test(s: harness.Session) -> None:
    s3 = s3harness.store(s)
    landings = [s3harness.S3Landing(s, s3, prefix="tier", name=f"landing{n}") for n in (1, 2)]
    lb = HaProxy(s, [l.port for l in landings])
    broker = s.broker()
    url = f"http://127.0.0.1:{lb.port}{harness.LANDING_BATCH_PATH}"
    agents = []
    for n in (1, 2):
        gateway = f"gw-{n}"
        agents.append(s.ferry(broker, None, name=f"ferry{n}", gateway=gateway,
                              subscriptions=[f"{gateway}/+"],
                              overrides={"upstream": {"url": url,
                                                      "batch": {"max_records": 50}}}))
    pubs = [harness.start_publish(s, broker, f"gw-{n}/dev{{p}}", count=PER_PUB, publishers=PUBS,
                                  rate=400, payload=PAYLOAD, client_prefix=f"pub{n}-")
            for n in (1, 2)]
    harness.wait_for(lambda: len(s3.records("tier")) >= 400, 60, "400 records in the bucket",
                     interval=0.2)
    landings[0].kill()
    print(f"landing1 killed (-9) with {len(s3.records('tier'))} records in the bucket")
    for p in pubs:
        print(f"publisher: {p.wait(timeout=60)}")
    total = 2 * PUBS * PER_PUB
    records = s3harness.wait_landed(s3, "tier", total, timeout=90)
    for a in agents:
        a.wait_metric("ferry_queue_records", lambda v: v == 0, 30, f"{a.name}'s queue to drain")
    records = s3.records("tier")
    for n in (1, 2):
        mine = [r for r in records if r["gateway"] == f"gw-{n}"]
        s3harness.check_exactly_once(mine, {(p, i) for p in range(1, PUBS + 1)
                                            for i in range(1, PER_PUB + 1)})
    harness.check_batches_in_order(s3.batches("tier"))
    served = {l.name: l.log.read_text().count(" stored ") for l in landings}
    dups = sum(l.log.read_text().count("duplicate ") for l in landings)
    print(f"{total} records exactly once; batches stored per instance {served}, "
          f"answered as duplicates {dups}")
    assert all(served.values()), f"an instance stored nothing: {served}"


if __name__ == "__main__":
    harness.main(test)
