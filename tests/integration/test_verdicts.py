"""Every answer of the landing protocol's Response table, produced on demand by the scripted
landing zone (scripted_landing.py), and what ferry does about it:

  A  503 + Retry-After: 2          the same batch (key, records) again after 2 s, not before
  B  429 + Retry-After: HTTP date  the same batch again once that time has come
  C  500, dropped connections      the same batch again with backoff (full jitter, growing ceiling)
  D  413 above 50 records          halves by sequence range, keys naming the sub-ranges, all once
  E  400 for 1 poisoned of 200     only that record in the dead letters (reason = response body),
                                   ferry_records_dead_lettered_total{reason="rejected"} == 1,
                                   the other 199 delivered
  F  401                           upstream.state "auth_failed", nothing lost, retried every
                                   backoff.max; delivered once the landing accepts again
  F2 400 with nginx's page         "No required SSL certificate was sent": auth_failed as F, no
                                   record dead-lettered
  G  answer slower than timeout    the request is given up and the same batch sent again

Each phase publishes its own messages (data.phase names it) after the previous phase drained.
"""

import json
import time

import harness
from scripted_landing import Response, ScriptedLanding, http_date, reject_poison, too_large

# What nginx answers when ssl_verify_client is on and the client sent no certificate.
NGINX_NO_CERT = ("<html>\r\n<head><title>400 No required SSL certificate was sent</title></head>\r\n"
                 "<body>\r\n<center><h1>400 Bad Request</h1></center>\r\n"
                 "<center>No required SSL certificate was sent</center>\r\n"
                 "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")
BACKOFF_INITIAL = 0.2
BACKOFF_MAX = 2.0
TIMEOUT = 3.0
LINGER = 1.5
CONFIG = {
    "upstream": {
        "timeout": f"{int(TIMEOUT)}s",
        "batch": {"max_records": 200, "linger": f"{int(LINGER * 1000)}ms"},
        "backoff": {"initial": f"{int(BACKOFF_INITIAL * 1000)}ms", "max": f"{int(BACKOFF_MAX)}s"},
        # The breaker is test_breaker.py's business: keep it shut while failures are scripted.
        "breaker": {"failures": 100},
    },
}


def phase_posts(landing: ScriptedLanding, phase: str) -> list:
    return [p for p in landing.posts()
            if any(r.get("data", {}).get("phase") == phase for r in p.records)]


def phase_records(landing: ScriptedLanding, phase: str) -> list:
    return [r for r in landing.records() if r["data"].get("phase") == phase]


def publish_phase(broker, phase: str, n: int) -> None:
    res = harness.publish(broker, "zigbee2mqtt/dev1", count=n,
                          payload='{"phase":"%s","seq":{i},"pub":1}' % phase)
    assert res.acked == n, res


def wait_phase(landing: ScriptedLanding, ferry, phase: str, n: int, timeout: float = 30) -> list:
    harness.wait_for(lambda: len(phase_records(landing, phase)) >= n, timeout,
                     f"{n} records of phase {phase} at the scripted landing", interval=0.1)
    ferry.wait_metric("ferry_queue_records", lambda v: v == 0, 10, "the queue to empty")
    recs = phase_records(landing, phase)
    assert sorted(r["data"]["seq"] for r in recs) == list(range(1, n + 1)), \
        f"phase {phase}: records at the landing are not 1..{n} once each"
    return recs


def same_batch(posts: list) -> None:
    keys = {p.key for p in posts}
    assert len(keys) == 1, f"attempts carried different keys: {keys}"
    first = posts[0].records
    for p in posts[1:]:
        assert p.records == first, f"attempt #{p.index} of {p.key} carried different records"


def wall_answered(post) -> float:
    return post.received_wall + (post.answered - post.received)


def test(s: harness.Session) -> None:
    s.pin_binaries()  # restarts keep using the binaries this run started with
    broker = s.broker()
    landing = ScriptedLanding(log_path=str(s.path("scripted-landing.log")))
    ferry = s.ferry(broker, landing, overrides=CONFIG)
    try:
        run(s, broker, landing, ferry)
    finally:
        landing.stop()


def run(s, broker, landing: ScriptedLanding, ferry) -> None:
    # ---- A: 503 with Retry-After in seconds --------------------------------------------------
    landing.script(Response(503, {"Retry-After": "2"}))
    publish_phase(broker, "A", 20)
    wait_phase(landing, ferry, "A", 20)
    posts = phase_posts(landing, "A")
    assert [p.status for p in posts] == [503, 200], [p.planned for p in posts]
    same_batch(posts)
    gap = posts[1].received - posts[0].answered
    print(f"A 503 Retry-After: 2 -> resent {posts[0].key} after {gap:.2f} s")
    assert 1.95 <= gap <= 3.5, f"503 with Retry-After: 2 resent after {gap:.2f} s"

    # ---- B: 429 with Retry-After as an HTTP date ---------------------------------------------
    sent = {}

    def once_429(post):
        if sent:
            return None
        sent["date"] = int(time.time()) + 3
        return Response(429, {"Retry-After": http_date(sent["date"])})

    landing.rules = [once_429]
    publish_phase(broker, "B", 20)
    wait_phase(landing, ferry, "B", 20)
    landing.rules = []
    posts = phase_posts(landing, "B")
    assert [p.status for p in posts] == [429, 200], [p.planned for p in posts]
    same_batch(posts)
    due = sent["date"] - wall_answered(posts[0])
    gap = posts[1].received - posts[0].answered
    print(f"B 429 Retry-After: {http_date(sent['date'])} ({due:.2f} s ahead) -> resent after "
          f"{gap:.2f} s")
    assert gap >= due - 0.1 and gap >= 1.9, f"resent after {gap:.2f} s, before the date ({due:.2f} s)"
    assert gap <= due + 1.5, f"resent only after {gap:.2f} s, the date was {due:.2f} s ahead"

    # ---- C: 500 and dropped connections ------------------------------------------------------
    before = ferry.metrics()
    landing.script(500, "drop", 500, "drop")
    publish_phase(broker, "C", 20)
    wait_phase(landing, ferry, "C", 20)
    after = ferry.metrics()
    posts = phase_posts(landing, "C")
    outcomes = [p.status for p in posts]
    print(f"C answers {outcomes} for key {posts[0].key}")
    assert outcomes == [500, None, 500, None, 200], [p.planned for p in posts]
    same_batch(posts)
    gaps = [b.received - (a.answered or a.received) for a, b in zip(posts, posts[1:])]
    ceilings = [min(BACKOFF_INITIAL * 2 ** n, BACKOFF_MAX) for n in range(len(gaps))]
    print("C gaps between attempts (s): " + ", ".join(
        f"{g:.2f} (ceiling {c:.1f})" for g, c in zip(gaps, ceilings)))
    for g, c in zip(gaps, ceilings):
        assert 0 <= g <= c + 0.75, f"retry after {g:.2f} s, backoff ceiling {c:.1f} s"
    d500 = after.sum("ferry_upstream_requests_total", code="500") - \
        before.sum("ferry_upstream_requests_total", code="500")
    derr = after.sum("ferry_upstream_requests_total", code="error") - \
        before.sum("ferry_upstream_requests_total", code="error")
    print(f"C ferry_upstream_requests_total: code=500 +{d500:.0f}, code=error +{derr:.0f}")
    assert d500 == 2 and derr == 2, (d500, derr)

    # ---- D: 413 for batches above 50 records -------------------------------------------------
    landing.rules = [too_large(50)]
    publish_phase(broker, "D", 120)
    recs = wait_phase(landing, ferry, "D", 120)
    landing.rules = []
    posts = phase_posts(landing, "D")
    refused = [p for p in posts if p.status == 413]
    accepted = [p for p in posts if p.status == 200]
    print(f"D {len(posts)} requests: 413 for {[p.key for p in refused]}, "
          f"accepted {[p.key for p in accepted]}")
    assert refused and all(len(p.records) > 50 for p in refused)
    assert all(len(p.records) <= 50 for p in accepted)
    for p in refused:  # each refused range comes back as its two halves
        mid = p.first_seq + (p.last_seq - p.first_seq) // 2
        halves = {(q.first_seq, q.last_seq) for q in posts if q.index > p.index}
        assert (p.first_seq, mid) in halves and (mid + 1, p.last_seq) in halves, \
            f"{p.key} not followed by its halves {p.first_seq}-{mid}, {mid + 1}-{p.last_seq}"
    for p in accepted:
        assert [r["seq"] for r in p.records] == list(range(p.first_seq, p.last_seq + 1)), \
            f"{p.key}: records do not fill the key's range"
    ids = [r["id"] for r in recs]
    assert len(ids) == len(set(ids)) == 120

    # ---- E: 400 for one poisoned record among 200 --------------------------------------------
    landing.rules = [reject_poison()]
    poisoned = 137
    lines = [("zigbee2mqtt/dev1", json.dumps({"phase": "E", "seq": i, "pub": 1,
                                             **({"poison": True} if i == poisoned else {})}))
             for i in range(1, 201)]
    res = harness.publish(broker, replay=harness.write_replay(s.path("phase-e.ndjson"), lines))
    assert res.acked == 200, res
    harness.wait_for(lambda: len(phase_records(landing, "E")) >= 199, 30,
                     "199 records of phase E", interval=0.1)
    ferry.wait_metric("ferry_queue_records", lambda v: v == 0, 10, "the queue to empty")
    recs = phase_records(landing, "E")
    got = sorted(r["data"]["seq"] for r in recs)
    assert got == [i for i in range(1, 201) if i != poisoned], "phase E: wrong records delivered"
    posts = phase_posts(landing, "E")
    print(f"E {len(posts)} requests to isolate the poisoned record: "
          f"{sum(p.status == 400 for p in posts)} answered 400, "
          f"{sum(p.status == 200 for p in posts)} accepted")
    code, body = ferry.get("/dead-letters")
    assert code == 200, body
    items = json.loads(body)["items"]
    print(f"E dead letters: {[(d['id'], d['seq'], d['reason'][:100]) for d in items]}")
    assert len(items) == 1, f"expected only the poisoned record in the dead letters: {items}"
    dead = items[0]
    line = json.loads(dead["payload"])
    assert line["data"] == {"phase": "E", "seq": poisoned, "pub": 1, "poison": True}, line
    assert dead["seq"] == line["seq"], dead
    assert "poison=true is not accepted" in dead["reason"] and "400" in dead["reason"], \
        f"the reason does not hold the response: {dead['reason']}"
    rejected = ferry.metric("ferry_records_dead_lettered_total", reason="rejected")
    print(f"E ferry_records_dead_lettered_total{{reason=\"rejected\"}} = {rejected:.0f}")
    assert rejected == 1
    landing.rules = []

    # ---- F: 401 ------------------------------------------------------------------------------
    landing.default = Response(401, body='{"error":"bad token"}')
    publish_phase(broker, "F", 20)
    st = harness.wait_for(
        lambda: (st := ferry.status())["upstream"]["state"] == "auth_failed" and st, 15,
        "upstream.state auth_failed")
    print(f"F /status upstream {st['upstream']}, last_error {st['last_error'][:90]!r}")
    time.sleep(2 * BACKOFF_MAX + 0.5)  # at least two more attempts, all refused
    st = ferry.status()
    assert st["upstream"]["state"] == "auth_failed", st["upstream"]
    assert st["queue"]["records"] == 20, f"records left the queue while refused: {st['queue']}"
    assert not phase_records(landing, "F")
    landing.default = Response(200)
    switched = time.monotonic()
    wait_phase(landing, ferry, "F", 20)
    posts = phase_posts(landing, "F")
    same_batch(posts)
    gaps = [b.received - a.answered for a, b in zip(posts, posts[1:])]
    print(f"F {len(posts) - 1} answers 401, retried after {[round(g, 2) for g in gaps]} s; "
          f"delivered {posts[-1].received - switched:.2f} s after the switch to 200")
    assert [p.status for p in posts[:-1]] == [401] * (len(posts) - 1) and posts[-1].status == 200
    assert len(posts) >= 3
    for g in gaps:
        assert BACKOFF_MAX - 0.05 <= g <= BACKOFF_MAX + 1.0, \
            f"after 401 the next attempt came {g:.2f} s later, backoff.max is {BACKOFF_MAX} s"
    harness.wait_for(lambda: ferry.status()["upstream"]["state"] in harness.UPSTREAM_HEALTHY_STATES,
                     10, "upstream state to recover")

    # ---- F2: nginx refusing the client's TLS with a 400 page --------------------------------
    dead_before = ferry.metric("ferry_records_dead_lettered_total", reason="rejected")
    landing.default = Response(400, body=NGINX_NO_CERT)
    publish_phase(broker, "F2", 10)
    harness.wait_for(lambda: ferry.status()["upstream"]["state"] == "auth_failed", 15,
                     "upstream.state auth_failed after nginx's 400 page")
    st = ferry.status()
    print(f"F2 nginx 400 page: upstream {st['upstream']['state']}, queue {st['queue']['records']}")
    assert st["queue"]["records"] == 10, f"records left the queue: {st['queue']}"
    landing.default = Response(200)
    wait_phase(landing, ferry, "F2", 10)
    assert ferry.metric("ferry_records_dead_lettered_total", reason="rejected") == dead_before
    harness.wait_for(lambda: ferry.status()["upstream"]["state"] in harness.UPSTREAM_HEALTHY_STATES,
                     10, "upstream state to recover")

    # ---- G: an answer slower than upstream.timeout -------------------------------------------
    before = ferry.metrics()
    landing.script(Response(200, delay=TIMEOUT + 2))
    publish_phase(broker, "G", 20)
    wait_phase(landing, ferry, "G", 20, timeout=40)
    posts = phase_posts(landing, "G")
    same_batch(posts)
    harness.wait_for(lambda: all(p.phase == "done" for p in phase_posts(landing, "G")), 10,
                     "the slow request to finish")
    derr = ferry.metric("ferry_upstream_requests_total", code="error") - \
        before.sum("ferry_upstream_requests_total", code="error")
    print(f"G attempts: {[(p.planned, p.outcome) for p in phase_posts(landing, 'G')]}; "
          f"second attempt {posts[1].received - posts[0].received:.2f} s after the first; "
          f"ferry_upstream_requests_total{{code=\"error\"}} +{derr:.0f}")
    assert len(posts) >= 2, "the slow request was not sent again"
    assert posts[1].received - posts[0].received >= TIMEOUT - 0.1
    assert derr >= 1

    # ---- everything ----------------------------------------------------------------------------
    records = landing.records()
    ids = [r["id"] for r in records]
    print(f"scripted landing: {len(landing.posts())} requests, {len(landing.batches)} batches, "
          f"{len(records)} records, {len(ids) - len(set(ids))} duplicate ids, "
          f"{landing.duplicates} repeated keys, {len(landing.violations)} protocol violations")
    assert not landing.violations, landing.violations[:5]
    assert len(ids) == len(set(ids))
    assert len(records) == 20 * 5 + 10 + 120 + 199, f"{len(records)} records at the landing"
    ferry.check_alive()


if __name__ == "__main__":
    harness.main(test)
