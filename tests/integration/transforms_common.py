"""Helpers of the transform tests: transform scripts written into the session's directory, and
the sandbox this host can give them (bubblewrap when `ferry check-config` accepts it)."""

from __future__ import annotations

import hashlib
import json
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


def write_script(s: harness.Session, name: str, text: str) -> tuple[Path, str]:
    """Writes `text` to <session>/udf/<name>.py; returns its path and SHA-256."""
    path = s.path("udf") / f"{name}.py"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    return path, hashlib.sha256(path.read_bytes()).hexdigest()


def sandbox_available(s: harness.Session, script: Path) -> bool:
    """Whether this host accepts "sandbox": "bubblewrap" (asks `ferry check-config`)."""
    config = {"gateway": {"id": "gw"}, "storage": {"path": str(s.path("probe.db"))},
              "mqtt": {"subscriptions": [{"topic": "#"}]},
              "upstream": {"url": "http://127.0.0.1:1/x"},
              "transforms": {"t": {"command": ["python3", str(script)]}}}
    path = s.path("probe.json")
    path.write_text(json.dumps(config))
    run = harness.run_ferry("check-config", "--config", str(path))
    if run.returncode != 0:
        print(f"bubblewrap not available here: {run.stderr.strip()}")
    return run.returncode == 0


def transform(command: list, sandbox: str, **limits) -> dict:
    return {"command": [str(c) for c in command], "sandbox": sandbox, **limits}
