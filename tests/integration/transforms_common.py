"""Helpers of the transform tests: transform scripts written into the session's directory, and
the sandbox this host can give them (bubblewrap when `ferry check-config` accepts it)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import harness

ECHO = r'''
import json, sys
for line in sys.stdin:
    req = json.loads(line)
    recs = req["records"]
    for r in recs:
        r["data"]["via"] = "py"
        r["data"]["payload_len"] = len(req.get("payload", ""))
    sys.stdout.write(json.dumps({"id": req["id"], "records": recs}) + "\n")
    sys.stdout.flush()
'''


# The system's python3: under bubblewrap, when Ferry runs as root, the transform runs as nobody,
# which cannot reach an interpreter under /root (pyenv).
PYTHON = "/usr/bin/python3" if Path("/usr/bin/python3").exists() else "python3"


def write_script(s: harness.Session, name: str, text: str) -> tuple[Path, str]:
    """Writes `text` to <session>/udf/<name>.py; returns its path and SHA-256."""
    path = s.path("udf") / f"{name}.py"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    return path, hashlib.sha256(path.read_bytes()).hexdigest()


def sandbox_available(s: harness.Session, script: Path) -> bool:
    """Whether this host accepts "sandbox": "bubblewrap" (asks `ferry check-config`). Opens the
    session's directory to others: when Ferry runs as root, the sandbox runs as nobody, which
    must reach the transforms' scripts and private directories in it."""
    os.chmod(s.dir, 0o755)
    # The probe's queue in a directory of its own: the sandbox hides the queue's directory, and a
    # script inside it is refused (the session's udf/ must not be under it).
    s.path("probe").mkdir(exist_ok=True)
    config = {"gateway": {"id": "gw"}, "storage": {"path": str(s.path("probe", "queue.db"))},
              "mqtt": {"subscriptions": [{"topic": "#"}]},
              "upstream": {"url": "http://127.0.0.1:1/x"},
              "transforms": {"t": {"command": [PYTHON, str(script)]}}}
    path = s.path("probe.json")
    path.write_text(json.dumps(config))
    run = harness.run_ferry("check-config", "--config", str(path))
    if run.returncode != 0:
        # As the sandbox unit tests: a host without the sandbox fails the test, unless told to
        # run the cases that need no sandbox only (and then says so).
        assert os.environ.get("FERRY_NO_SANDBOX_TESTS") == "1", (
            f"bubblewrap not available here: {run.stderr.strip()} "
            "(FERRY_NO_SANDBOX_TESTS=1 runs only the cases that need no sandbox)")
        print(f"bubblewrap not available here, FERRY_NO_SANDBOX_TESTS=1: {run.stderr.strip()}")
    return run.returncode == 0


def transform(command: list, sandbox: str, **limits) -> dict:
    return {"command": [str(c) for c in command], "sandbox": sandbox, **limits}

# Hostile transforms: each reads requests and misbehaves in its own way. Those whose attempt
# may succeed without a sandbox answer {"escaped": true/false} so the test can tell.
HEAD = "import json, os, socket, sys, time\n"
HOSTILE = {
    "loop": "for line in sys.stdin:\n    while True: pass\n",
    "membomb": "hog = []\nfor line in sys.stdin:\n    while True: hog.append(bytearray(10 << 20))\n",
    "garbage": "for line in sys.stdin:\n    print('this is not JSON', flush=True)\n",
    "unknown_id": ("for line in sys.stdin:\n    req = json.loads(line)\n"
                   "    print(json.dumps({'id': req['id'] + 100000, 'records': []}), flush=True)\n"),
    "flood": ("for line in sys.stdin:\n    for _ in range(100):\n"
              "        sys.stdout.write('x' * (1 << 20))\n    sys.stdout.flush()\n"),
    "early_exit": "sys.stdin.readline()\nsys.exit(3)\n",
    "closed_stdout": "os.close(1)\nfor line in sys.stdin:\n    pass\ntime.sleep(3600)\n",
    "never": "for line in sys.stdin:\n    pass\ntime.sleep(3600)\n",
    "error_reply": ("for line in sys.stdin:\n    req = json.loads(line)\n"
                    "    print(json.dumps({'id': req['id'], 'error': 'no thanks'}), flush=True)\n"),
}
# Only under bubblewrap: without a sandbox these would do what they try.
ESCAPE_BODY = {
    "network": ("    s = socket.create_connection(('127.0.0.1', PORT), timeout=0.3)\n"
                "    s.close()\n"),
    "write_outside": "    open(OUTSIDE, 'w').write('escaped')\n",
    "read_shadow": "    open('/etc/shadow').read()\n",
}
ESCAPE = ("for line in sys.stdin:\n    req = json.loads(line)\n    try:\n{body}"
          "        escaped, why = True, ''\n    except Exception as e:\n"
          "        escaped, why = False, repr(e)\n"
          "    print(json.dumps({{'id': req['id'], 'records': [{{'data': "
          "{{'escaped': escaped, 'why': why}}}}]}}), flush=True)\n")
FORKBOMB = ("for line in sys.stdin:\n    while True:\n        try:\n            os.fork()\n"
            "        except OSError:\n            time.sleep(0.01)\n")


def escape_script(case: str, port: int, outside: Path) -> str:
    body = "\n".join("    " + l for l in ESCAPE_BODY[case].splitlines()) + "\n"
    return (HEAD + f"PORT = {port}\nOUTSIDE = {str(outside)!r}\n" + ESCAPE.format(body=body))
