"""The command line a person uses on a running agent (issue 14): `ferry status` from any form
of the status URL (item 4), with counts that reconcile and durations a person reads (item 6),
--json and --watch; `ferry dead-letters list` and `show` with payloads holding a NUL byte or
binary bytes (item 1); --version and per-command --help (item 7); the log level at run time."""

import json
import subprocess
import urllib.request

import harness


def ferry_cli(*args) -> subprocess.CompletedProcess:
    run = harness.run_ferry(*args)
    print(f"$ ferry {' '.join(args)}  -> exit {run.returncode}\n{run.stdout}{run.stderr}")
    return run


def post(url: str, body: dict, headers: dict | None = None) -> tuple[int, dict]:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def test(s: harness.Session) -> None:
    broker = s.broker()
    landing = s.landing()
    ferry = s.ferry(broker, landing, subscriptions=["zigbee2mqtt/#"], overrides={
        harness.ROUTES_KEY: [{"topic": "zigbee2mqtt/bridge/#", "ignore": True},
                             {"topic": "zigbee2mqtt/{device}"}]})
    messages = [("zigbee2mqtt/good", '{"t":1}'), ("zigbee2mqtt/bridge/state", "online"),
                ("zigbee2mqtt/nul", b'{"a":\x00tail'), ("zigbee2mqtt/bin", b"\xff\xfe\x1b[2J")]
    harness.publish(broker, replay=harness.write_replay(s.path("m.ndjson"), messages), qos=1)
    landing.wait_records(1, timeout=30)
    ferry.wait_metric("ferry_dead_letters", lambda v: v == 2, 20, "2 dead letters")

    # Item 4: the URL the demo prints, with /status, or without a scheme.
    for url in (ferry.base_url + "/status", ferry.base_url + "/", ferry.base_url[len("http://"):]):
        run = ferry_cli("status", "--url", url)
        assert run.returncode == 0, run.stderr
        # Item 6: the counts reconcile, durations read as such.
        assert "received      4 = 1 stored + 2 dead-lettered + 1 ignored" in run.stdout, run.stdout
        assert " s)" not in run.stdout.splitlines()[0], run.stdout
    run = ferry_cli("status", "--url", f"127.0.0.1:{harness.free_port()}")
    assert run.returncode == 1 and "connection refused" in run.stderr, run.stderr
    status = json.loads(ferry_cli("status", "--json", "--url", ferry.base_url).stdout)
    assert status["counters"]["records_ignored"] == 1, status["counters"]

    # --watch redraws in place until interrupted.
    watch = subprocess.Popen([str(harness.FERRY_BIN), "status", "--watch", "--interval", "0.2",
                              "--url", ferry.base_url], stdout=subprocess.PIPE)
    try:
        screens = b""
        while screens.count(b"\x1b[H\x1b[2J") < 3:
            chunk = watch.stdout.read1(4096)
            assert chunk, "ferry status --watch ended"
            screens += chunk
    finally:
        watch.kill()
        watch.wait()
    last = screens.split(b"\x1b[H\x1b[2J")[-2].decode()
    print(f"a --watch screen:\n{last}")
    assert "/s)" in last and "gateway" in last, last

    # Item 1: every dead letter listed, payloads escaped, nothing raw on the terminal.
    run = ferry_cli("dead-letters", "list", "--url", ferry.base_url)
    assert run.returncode == 0
    assert '{"a":\\0tail' in run.stdout and "hex: ff fe 1b 5b 32 4a" in run.stdout, run.stdout
    assert "shown 2 of 2 dead letters" in run.stdout, run.stdout
    assert not any(c < " " and c != "\n" for c in run.stdout), repr(run.stdout)
    ids = [int(line.split()[0]) for line in run.stdout.splitlines() if line[:1].isdigit()]
    run = ferry_cli("dead-letters", "show", str(ids[1]), "--url", ferry.base_url)
    assert run.returncode == 0 and "binary (hex)" in run.stdout and "|...[2J|" in run.stdout, \
        run.stdout
    assert ferry_cli("dead-letters", "show", "999999", "--url", ferry.base_url).returncode == 1
    run = ferry_cli("dead-letters", "list", "--limit", "1", "--url", ferry.base_url)
    assert f"more: ferry dead-letters list --after {ids[0]}" in run.stdout, run.stdout

    # Item 7.
    version = ferry_cli("--version")
    assert version.returncode == 0 and harness.VERSION_RE.search(version.stdout)
    run_help = ferry_cli("run", "--help")
    assert run_help.returncode == 0 and run_help.stdout.startswith("usage: ferry [run]")
    assert "dead-letters" not in run_help.stdout, run_help.stdout

    # The log level at run time, guarded like every change.
    code, body = post(ferry.base_url + "/log-level", {"level": "debug"})
    assert code == 200 and body == {"level": "debug", "was": "info"}, body
    assert json.loads(ferry.get("/log-level")[1])["level"] == "debug"
    code, body = post(ferry.base_url + "/log-level", {"level": "error"},
                      {"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"})
    assert code == 403, (code, body)
    assert json.loads(ferry.get("/log-level")[1])["level"] == "debug"
    code, body = post(ferry.base_url + "/log-level", {"level": "loud"})
    assert code == 400, body


if __name__ == "__main__":
    harness.main(test)
