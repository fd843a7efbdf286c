"""Helpers for the S3 tests: s3rver (npm; an S3 REST API on disk) started on loopback, ferry-landing with --store s3://..., and reading what landed in the bucket.

s3rver and DuckDB come from tests/s3/package.json (+ package-lock.json): `npm ci` there, which
toolchains/install-deps.sh runs, and which ensure_node_modules() runs when it was not.

What s3rver 3.7 checks of a request: the access key id (InvalidAccessKeyId), the request time
(RequestTimeTooSkewed), the bucket (NoSuchBucket). It does not verify SigV4 signatures (its
code leaves them unimplemented), so a wrong secret is accepted here: the signatures themselves
are libcurl's, and a store that verifies them (Ceph's RADOS Gateway, AWS) is what proves them."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import harness

S3_DIR = harness.SOURCE_DIR / "tests" / "s3"
NODE = shutil.which("node") or "/usr/bin/node"
S3RVER_JS = S3_DIR / "node_modules" / "s3rver" / "bin" / "s3rver.js"
# s3rver's built-in account.
ACCESS_KEY = "S3RVER"
SECRET_KEY = "S3RVER"
OBJECT_SUFFIX = "._S3rver_object"
KEY_RE = re.compile(r"^(?:(.*)/)?gateway=([A-Za-z0-9_-]+)/dt=(\d{4}-\d{2}-\d{2})/"
                    r"([A-Za-z0-9_-]+)\.([a-z0-9]+)\.(\d+)-(\d+)\.ndjson\.zst$")


def skip(why: str) -> None:
    print(f"SKIPPED: {why}")
    sys.exit(77)


def ensure_node_modules() -> None:
    """Installs tests/s3's locked npm packages if they are not there (a fresh checkout)."""
    if S3RVER_JS.exists() and (S3_DIR / "node_modules" / "@duckdb" / "node-api").exists():
        return
    npm = shutil.which("npm")
    if not npm or not shutil.which("node"):
        skip("node and npm are needed for s3rver and DuckDB (tests/s3/package.json)")
    run = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=S3_DIR,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, f"npm ci in {S3_DIR} failed:\n{run.stdout}\n{run.stderr}"


def write_credentials(path: Path, key: str = ACCESS_KEY, secret: str = SECRET_KEY) -> Path:
    path.write_text(f"[default]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\n")
    path.chmod(0o600)
    return path


class S3rver(harness.Process):
    """s3rver on 127.0.0.1 with its data in the session's directory; `bucket` is created at
    start (bucket=None: none). restart() keeps the port and the data."""

    def __init__(self, session: harness.Session, name: str = "s3rver",
                 bucket: str | None = "ferry-lake"):
        super().__init__(session, name)
        ensure_node_modules()
        self.bucket = bucket
        self.data = self.dir / "data"
        self.data.mkdir(exist_ok=True)
        self.port = harness.free_port()
        self.start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> None:
        argv = [NODE, S3RVER_JS, "-d", self.data, "-a", "127.0.0.1", "-p", str(self.port)]
        if self.bucket:
            argv += ["--configure-bucket", self.bucket]
        self._spawn(argv)
        harness.wait_for(lambda: self.check_alive() or harness.port_open(self.port), timeout,
                         f"s3rver on port {self.port}")

    def restart(self) -> None:
        if self.alive():
            self.stop()
        self.start()

    def object_files(self, bucket: str | None = None) -> dict[str, Path]:
        """Object key -> the file holding its bytes, for every object in the bucket."""
        root = self.data / (bucket or self.bucket)
        out = {}
        for path in root.rglob("*" + OBJECT_SUFFIX):
            key = str(path.relative_to(root))[: -len(OBJECT_SUFFIX)]
            out[key] = path
        return dict(sorted(out.items()))

    def metadata(self, key: str) -> dict:
        path = self.data / self.bucket / (key + "._S3rver_metadata.json")
        return json.loads(path.read_text())

    def batches(self, prefix: str = "") -> list[harness.Batch]:
        """Every landed object as a Batch (path = the object's file), checking the key layout
        <prefix>/gateway=G/dt=D/<G>.<epoch>.<first>-<last>.ndjson.zst and its metadata."""
        out = []
        for key, path in self.object_files().items():
            m = KEY_RE.match(key)
            assert m, f"object key is not <prefix>/gateway=G/dt=D/KEY.ndjson.zst: {key}"
            assert (m.group(1) or "") == prefix, f"object outside prefix {prefix!r}: {key}"
            assert m.group(2) == m.group(4), f"gateway= does not match the key's gateway: {key}"
            records = harness.read_ndjson_zst(path)
            first_day = records[0]["received_at"][:10]
            assert m.group(3) == first_day, f"{key}: dt is not the first record's date {first_day}"
            meta = self.metadata(key)
            assert meta.get("x-amz-meta-ferry-records") == str(len(records)), f"{key}: {meta}"
            assert meta.get("x-amz-meta-ferry-schema") == "1", f"{key}: {meta}"
            assert meta.get("x-amz-meta-ferry-gateway") == m.group(2), f"{key}: {meta}"
            out.append(harness.Batch(path, m.group(4), m.group(5), int(m.group(6)),
                                     int(m.group(7)), records))
        out.sort(key=lambda b: (b.gateway, b.epoch, b.first_seq))
        return out

    def records(self, prefix: str = "") -> list[dict]:
        return [r for b in self.batches(prefix) for r in b.records]


class S3Landing(harness.Landing):
    """ferry-landing --store s3://<bucket>/<prefix> in front of `s3`."""

    def __init__(self, session: harness.Session, s3: S3rver, prefix: str = "landing",
                 name: str = "landing", port: int = 0, extra_args: list = ()):
        self.s3 = s3
        self.prefix = prefix
        self.credentials = write_credentials(session.path(f"{name}-credentials"))
        super().__init__(session, name=name, port=port, extra_args=extra_args)

    def start(self, timeout: float = 15) -> None:
        store = f"s3://{self.s3.bucket}/{self.prefix}" if self.prefix else f"s3://{self.s3.bucket}"
        argv = [harness.require(harness.LANDING_BIN, "ferry-landing"), "--listen",
                f"127.0.0.1:{self.port}", "--store", store, "--s3-endpoint", self.s3.endpoint,
                "--s3-path-style", "--s3-credentials-file", self.credentials]
        argv += self.extra_args
        offset = self.stdout.stat().st_size if self.stdout.exists() else 0
        self._spawn(argv, stdout=self.stdout)
        self.url = harness.wait_for(lambda: self._listening_url(offset), timeout,
                                    f"'listening on http://...' from {self.name}", interval=0.05)
        self.port = int(self.url.rsplit(":", 1)[1])
        harness.wait_for(lambda: harness.port_open(self.port), timeout,
                         f"{self.name} port {self.port}")

    def batches(self) -> list[harness.Batch]:
        return self.s3.batches(self.prefix)


def duckdb_query(sql: str, timeout: float = 120) -> list[dict]:
    """Runs `sql` in DuckDB (npm @duckdb/node-api) and returns the rows as dicts."""
    script = (
        "const { DuckDBInstance } = require('@duckdb/node-api');"
        "(async () => {"
        " const db = await DuckDBInstance.create(':memory:');"
        " const con = await db.connect();"
        " const reader = await con.runAndReadAll(process.argv[1]);"
        " console.log(JSON.stringify(reader.getRowObjectsJson()));"
        "})().catch(e => { console.error(e); process.exit(1); });")
    run = subprocess.run([NODE, "-e", script, sql], cwd=S3_DIR, capture_output=True, text=True,
                         timeout=timeout, env={**os.environ, "NODE_PATH": str(S3_DIR / "node_modules")})
    assert run.returncode == 0, f"duckdb failed: {run.stderr}"
    return json.loads(run.stdout)


def s3_ferry(session: harness.Session, broker: harness.Broker, s3: S3rver,
             endpoint: str | None = None, name: str = "ferry", gateway: str = "gw-it",
             prefix: str = "fleet", bucket: str | None = None, credentials: Path | None = None,
             overrides: dict | None = None, start: bool = True, **kwargs) -> harness.Ferry:
    """ferry with an s3:// upstream: s3://<bucket>/<prefix> at `endpoint` (default: s3rver's),
    path-style, credentials from a 0600 file (default: s3rver's account)."""
    creds = credentials or write_credentials(session.path(f"{name}-credentials"))
    config = {"upstream": {"url": f"s3://{bucket or s3.bucket}/{prefix}",
                           "s3": {"endpoint": endpoint or s3.endpoint, "path_style": True,
                                  "credentials_file": str(creds)}}}
    return session.ferry(broker, None, name=name, gateway=gateway,
                         overrides=harness.deep_merge(config, overrides), start=start, **kwargs)


def wait_landed(s3: S3rver, prefix: str, n: int, timeout: float = 60) -> list[dict]:
    """Waits until the bucket holds at least n records below `prefix`; returns them all."""
    return harness.wait_for(lambda: r if len(r := s3.records(prefix)) >= n else None,
                            timeout, f"{n} records in the bucket below {prefix}", interval=0.25)


def check_exactly_once(records: list[dict], expected: set[tuple[int, int]]) -> None:
    """Every expected (pub, seq) of the payloads once, no record id twice, nothing else."""
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids)), f"{len(ids) - len(set(ids))} record ids twice"
    got = [(r["data"]["pub"], r["data"]["seq"]) for r in records]
    assert len(got) == len(set(got)), f"{len(got) - len(set(got))} messages twice"
    missing, unexpected = expected - set(got), set(got) - expected
    assert not missing and not unexpected, (f"missing {sorted(missing)[:10]} ({len(missing)}), "
                                            f"unexpected {sorted(unexpected)[:10]}")
