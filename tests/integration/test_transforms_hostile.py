"""Hostile transforms, all in one agent: an infinite loop, a memory bomb, output that is not
JSON, a reply for an unknown id, 100 MB of output, an early exit, a closed stdout, one that never
answers, an error reply; under bubblewrap also a fork bomb and attempts to open a network
connection, write outside its directory and read /etc/shadow. Each is contained (killed,
restarted, reported in /status), its messages dead-lettered with the reason; the other routes'
records all land, nothing acknowledged is lost, and the agent stays healthy."""

import json
from pathlib import Path

import harness
import transforms_common as tc

PER_CASE = 3
GOOD = 200


def test(s: harness.Session) -> None:
    echo, _ = tc.write_script(s, "echo", tc.ECHO)
    sandbox = "bubblewrap" if tc.sandbox_available(s, echo) else "none"
    broker = s.broker()
    landing = s.landing()
    # Writable by anyone on the host; inside the sandbox the filesystem is read-only but for /tmp
    # (the session's directory is under /tmp, where the sandbox has its private /tmp).
    outside = Path("/var/tmp") / f"ferry-escape-{s.dir.name}"
    scripts = {name: tc.HEAD + body for name, body in tc.HOSTILE.items()}
    escapes = []
    if sandbox == "bubblewrap":
        escapes = list(tc.ESCAPE_BODY)
        for case in escapes:
            scripts[case] = tc.escape_script(case, landing.port, outside)
        scripts["forkbomb"] = tc.HEAD + tc.FORKBOMB
    else:
        print("sandbox none: the fork bomb, network, write and /etc/shadow cases need "
              "bubblewrap and are left out")
    limits = {"timeout": "500ms", "restart_backoff": {"initial": "100ms", "max": "400ms"}}
    transforms = {"echo": tc.transform([tc.PYTHON, echo], sandbox, **limits)}
    routes = [{"topic": "good/{device}"}, {"topic": "echo/{device}", "transform": "echo"}]
    for name, text in scripts.items():
        path, _ = tc.write_script(s, name, text)
        transforms[name] = tc.transform([tc.PYTHON, path], sandbox, **limits)
        routes.append({"topic": f"hostile/{name}/{{device}}", "transform": name})
    ferry = s.ferry(broker, landing, subscriptions=["good/#", "echo/#", "hostile/#"],
                    overrides={harness.ROUTES_KEY: routes, "transforms": transforms})

    messages = []
    for i in range(PER_CASE):
        for name in scripts:
            messages.append((f"hostile/{name}/d{i}", json.dumps({"seq": i, "case": name})))
        for j in range(GOOD // PER_CASE):
            messages.append((f"good/g{j}", json.dumps({"seq": i * 1000 + j})))
        messages.append((f"echo/e{i}", json.dumps({"seq": i})))
    replay = harness.write_replay(s.path("messages.ndjson"), messages)
    res = harness.publish(broker, replay=replay, qos=1, rate=200)
    print(f"ferry-pub: {res}")
    good = sum(1 for t, _ in messages if not t.startswith("hostile/"))
    contained_escapes = len(escapes) * PER_CASE
    failing = len(messages) - good - contained_escapes

    dead = ferry.wait_metric("ferry_records_dead_lettered_total", lambda v: v >= failing, 60,
                             f"{failing} hostile messages dead-lettered")
    records = landing.wait_records(good + contained_escapes, timeout=60, settle=2)
    print(f"landed {len(records)}, dead-lettered {dead:.0f}, published {len(messages)}")
    assert dead == failing, f"{dead} dead letters, expected {failing}"
    assert len(records) == good + contained_escapes, "records lost or made twice"
    by_topic = {r["topic"] for r in records}
    assert all(t in by_topic for t, _ in messages if not t.startswith("hostile/")), "good lost"
    for r in records:
        if r["topic"].startswith("hostile/"):
            print(f"  {r['topic']}: contained: {r['data']['why']}")
            assert r["data"]["escaped"] is False, f"escaped the sandbox: {r}"
    escaped_file = outside.exists()
    outside.unlink(missing_ok=True)
    assert not escaped_file, "a transform wrote outside its directory"

    code, body = ferry.get("/dead-letters?limit=1000")
    assert code == 200, body
    letters = json.loads(body)
    items = letters["items"]
    for d in items:
        case = d["topic"].split("/")[1]
        assert d["reason"].startswith(f"transform {case}"), d
        print(f"  {d['topic']}: {d['reason'][:150]}")

    status = ferry.status()["transforms"]
    for name in scripts:
        t = status[name]
        print(f"{name}: state {t['state']}, kills {t['kills']}, restarts {t['restarts']}, "
              f"failures {t['failures']}, errors {t['errors']}, last {t['last_failure'][:80]!r}")
        if name == "error_reply":
            assert t["errors"] == PER_CASE and t["kills"] == 0, t
        elif name not in escapes:
            assert t["kills"] >= 1 and t["failures"] >= 1 and t["last_failure"], t
    assert status["echo"]["failures"] == 0 and status["echo"]["requests"] == PER_CASE

    # A second wave after the restart backoff: every transform is started again, fails again,
    # and the other routes still get through.
    harness.publish(broker, replay=replay, qos=1, rate=200)
    ferry.wait_metric("ferry_records_dead_lettered_total", lambda v: v >= 2 * failing, 60,
                      "the second wave dead-lettered")
    records = landing.wait_records(2 * (good + contained_escapes), timeout=60, settle=1)
    assert len(records) == 2 * (good + contained_escapes), "second wave: records lost"
    status = ferry.status()["transforms"]
    for name in scripts:
        if name not in escapes and name != "error_reply":
            assert status[name]["restarts"] >= 1, (name, status[name])
    ferry.check_alive()
    assert ferry.get("/healthz")[0] == 200
    metrics = ferry.metrics()
    assert (metrics.sum("ferry_records_dead_lettered_total", reason="transform") ==
            metrics.sum("ferry_records_dead_lettered_total") == 2 * failing)


if __name__ == "__main__":
    harness.main(test)
