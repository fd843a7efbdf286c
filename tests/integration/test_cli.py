"""The command line: check-config, version, run with a missing config, status, and clean
shutdown on SIGTERM and SIGINT."""

import json
import signal
import subprocess
import time

import harness

GOOD = """// The contract's example config: a file with only these keys is complete.
{
  "gateway": { "id": "gw-0042", "labels": { "site": "plant-7" } },
  "storage": { "path": "%(dir)s/queue.db", "max_size": "256MiB" },
  "mqtt": {
    "host": "127.0.0.1", "port": 1883, "client_id": "ferry-gw-0042",
    "subscriptions": [ { "topic": "zigbee2mqtt/+", "qos": 1 } ]  /* block comment */
  },
  "upstream": { "url": "http://127.0.0.1:8080/v1/batches" },
  "status": { "listen": "127.0.0.1:7070" }
}
"""


def write(s: harness.Session, name: str, text: str) -> str:
    path = s.path(name)
    path.write_text(text)
    return str(path)


def bad_config(base: dict, **changes) -> str:
    return json.dumps(harness.deep_merge(base, changes), indent=2)


def check_config(path: str, want_rc: int, want_in_stderr: str = "") -> None:
    run = harness.run_ferry("check-config", "--config", path)
    print(f"check-config {path.rsplit('/', 1)[-1]}: exit {run.returncode}, "
          f"stderr {run.stderr.strip()[:200]!r}")
    assert run.returncode == want_rc, \
        f"exit {run.returncode}, expected {want_rc}; stderr: {run.stderr}"
    assert want_in_stderr in run.stderr, f"stderr does not name {want_in_stderr}: {run.stderr}"


def test_check_config(s: harness.Session) -> None:
    good_text = GOOD % {"dir": s.dir}
    check_config(write(s, "good.json", good_text), 0)
    base = json.loads("\n".join(l for l in good_text.splitlines() if not l.startswith("//"))
                      .replace("/* block comment */", ""))
    check_config(write(s, "unknown.json", bad_config(base, mqtt={"bogus_key": 1})), 2,
                 "/mqtt/bogus_key")
    check_config(write(s, "unknown_top.json", bad_config(base, bogus_section={})), 2,
                 "/bogus_section")
    check_config(write(s, "max_records.json",
                       bad_config(base, upstream={"batch": {"max_records": 0}})), 2,
                 "/upstream/batch/max_records")
    check_config(write(s, "syntax.json", good_text.replace('"status"', '"status":')), 2)
    missing_ca = str(s.path("no-such-ca.pem"))
    check_config(write(s, "tls_missing.json",
                       bad_config(base, upstream={"tls": {"ca_file": missing_ca}})), 2,
                 f"/upstream/tls/ca_file: open {missing_ca}: No such file or directory")


def test_version_and_missing_config(s: harness.Session) -> None:
    run = harness.run_ferry("version")
    print(f"ferry version: exit {run.returncode}, {run.stdout.strip()!r}")
    assert run.returncode == 0, f"ferry version exit {run.returncode}: {run.stderr}"
    assert harness.VERSION_RE.search(run.stdout), f"no version in {run.stdout!r}"

    missing = s.path("does-not-exist.json")
    run = harness.run_ferry("run", "--config", missing)
    print(f"ferry run with a missing config: exit {run.returncode}, {run.stderr.strip()[:200]!r}")
    assert run.returncode in (1, 2), f"exit {run.returncode}; stderr: {run.stderr}"
    assert str(missing) in run.stderr or "does-not-exist.json" in run.stderr, \
        f"the message does not name the file: {run.stderr!r}"

    landing = harness.require(harness.LANDING_BIN, "ferry-landing")
    run = subprocess.run([str(landing), "--version"], capture_output=True, text=True, timeout=15)
    print(f"ferry-landing --version: exit {run.returncode}, {run.stdout.strip()!r}")
    assert run.returncode == 0 and run.stdout.startswith("ferry-landing "), run
    assert harness.VERSION_RE.search(run.stdout), f"no version in {run.stdout!r}"
    # issue 14, item 7: an unknown option was reported as "--bogus: value missing".
    run = subprocess.run([str(landing), "--bogus"], capture_output=True, text=True, timeout=15)
    print(f"ferry-landing --bogus: exit {run.returncode}, {run.stderr.splitlines()[:1]}")
    assert run.returncode == 2, f"exit {run.returncode}"
    assert run.stderr.startswith("ferry-landing: unknown option --bogus\n"), run.stderr

    run = harness.run_ferry("no-such-command")
    print(f"ferry no-such-command: exit {run.returncode}")
    assert run.returncode == 2, f"an unknown command must exit 2, got {run.returncode}"


def test_running_agent(s: harness.Session, broker: harness.Broker,
                       landing: harness.Landing) -> None:
    ferry = s.ferry(broker, landing, name="ferry-term")
    run = harness.run_ferry(*harness.status_cli_args(ferry.base_url))
    print(f"ferry status: exit {run.returncode}\n{run.stdout.strip()}")
    assert run.returncode == 0, f"ferry status exit {run.returncode}: {run.stderr}"
    assert ferry.gateway in run.stdout, "ferry status does not show the gateway id"

    for sig in (signal.SIGTERM, signal.SIGINT):
        if sig == signal.SIGINT:
            ferry = s.ferry(broker, landing, name="ferry-int", gateway="gw-int")
        started = time.monotonic()
        rc = ferry.stop(timeout=5, sig=sig)
        took = time.monotonic() - started
        print(f"{signal.Signals(sig).name}: exit {rc} after {took:.2f} s")
        assert rc == 0, f"exit code {rc} after {signal.Signals(sig).name}"


def test(s: harness.Session) -> None:
    test_check_config(s)
    test_version_and_missing_config(s)
    test_running_agent(s, s.broker(), s.landing())


if __name__ == "__main__":
    harness.main(test)
