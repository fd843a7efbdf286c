"""Helpers for the S3 tests: s3rver (npm; an S3 REST API on disk) started on loopback, ferry-landing with --store s3://..., and reading what landed in the bucket.

s3rver and DuckDB come from tests/s3/package.json (+ package-lock.json): `npm ci` there, which
toolchains/install-deps.sh runs, and which ensure_node_modules() runs when it was not.

What s3rver 3.7 checks of a request: the access key id (InvalidAccessKeyId), the request time
(RequestTimeTooSkewed), the bucket (NoSuchBucket). It does not verify SigV4 signatures (its
code leaves them unimplemented), so a wrong secret is accepted here: the signatures themselves
are libcurl's, and a store that verifies them (Ceph's RADOS Gateway, AWS) is what proves them.

An external store instead of s3rver: with FERRY_S3_ENDPOINT (http://HOST:PORT, path-style),
FERRY_S3_ACCESS_KEY, FERRY_S3_SECRET_KEY and optionally FERRY_S3_REGION (us-east-1) set,
store() gives an ExternalS3: a fresh bucket per test on that endpoint (tests/s3/ceph.sh starts
Ceph's RADOS Gateway and prints these), reached through a TCP gate that stop()/start() close and
open to take the store down for a while; objects are read back with S3's own API (ListObjectsV2,
GET, HEAD), signed here by a SigV4 signer of its own, independent of libcurl's."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import http.client
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import urllib.parse
import xml.etree.ElementTree as ET
from pathlib import Path

import harness

S3_DIR = harness.SOURCE_DIR / "tests" / "s3"
NODE = shutil.which("node") or "/usr/bin/node"
S3RVER_JS = S3_DIR / "node_modules" / "s3rver" / "bin" / "s3rver.js"
# s3rver's built-in account, or the external store's (FERRY_S3_*).
EXTERNAL_ENDPOINT = os.environ.get("FERRY_S3_ENDPOINT", "")
ACCESS_KEY = os.environ.get("FERRY_S3_ACCESS_KEY", "S3RVER") if EXTERNAL_ENDPOINT else "S3RVER"
SECRET_KEY = os.environ.get("FERRY_S3_SECRET_KEY", "S3RVER") if EXTERNAL_ENDPOINT else "S3RVER"
REGION = (os.environ.get("FERRY_S3_REGION") or "us-east-1") if EXTERNAL_ENDPOINT else "us-east-1"
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


class _Objects:
    """What the tests read of a bucket, over object_files() and metadata()."""

    def object_files(self, bucket: str | None = None) -> dict[str, Path]:
        raise NotImplementedError

    def metadata(self, key: str) -> dict:
        raise NotImplementedError

class S3rver(_Objects, harness.Process):
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

    def duckdb_glob(self, prefix: str) -> str:
        """A glob of the files holding the objects below `prefix`, for DuckDB's read_json."""
        return f"{self.data / self.bucket / prefix}/**/*.ndjson.zst{OBJECT_SUFFIX}"

    verifies_signatures = False  # see the module's docstring
    region = "us-east-1"

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


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def _uri_encode(s: str, keep_slash: bool) -> str:
    return urllib.parse.quote(s, safe="-_.~" + ("/" if keep_slash else ""))


def sigv4_headers(method: str, host: str, path: str, query: dict[str, str], body: bytes,
                  access_key: str, secret_key: str, region: str,
                  now: datetime.datetime | None = None) -> dict[str, str]:
    """The headers that sign a path-style S3 request with SigV4 (header form, signed
    payload): Host, x-amz-date, x-amz-content-sha256, Authorization. `path` is not encoded."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    scope = f"{amz_date[:8]}/{region}/s3/aws4_request"
    payload = _sha256(body)
    headers = {"host": host, "x-amz-content-sha256": payload, "x-amz-date": amz_date}
    signed = ";".join(sorted(headers))
    canonical = "\n".join([
        method, _uri_encode(path, True),
        "&".join(f"{_uri_encode(k, False)}={_uri_encode(v, False)}" for k, v in sorted(query.items())),
        "".join(f"{k}:{headers[k]}\n" for k in sorted(headers)), signed, payload])
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, _sha256(canonical.encode())])
    key = ("AWS4" + secret_key).encode()
    for part in (amz_date[:8], region, "s3", "aws4_request"):
        key = _hmac(key, part)
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return {"Host": host, "x-amz-date": amz_date, "x-amz-content-sha256": payload,
            "Authorization": f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, "
                             f"SignedHeaders={signed}, Signature={signature}"}


class S3Api:
    """A minimal path-style S3 client for reading back what landed (and making buckets)."""

    def __init__(self, endpoint: str, access_key: str, secret_key: str, region: str):
        u = urllib.parse.urlsplit(endpoint)
        assert u.scheme == "http" and u.hostname, f"FERRY_S3_ENDPOINT must be http://HOST:PORT: {endpoint}"
        self.host, self.port = u.hostname, u.port or 80
        self.netloc = u.netloc
        self.access_key, self.secret_key, self.region = access_key, secret_key, region

    def request(self, method: str, path: str, query: dict | None = None, body: bytes = b"",
                ok=(200,)) -> tuple[int, dict, bytes]:
        query = query or {}
        headers = sigv4_headers(method, self.netloc, path, query, body, self.access_key,
                                self.secret_key, self.region)
        url = _uri_encode(path, True)
        if query:
            url += "?" + "&".join(f"{_uri_encode(k, False)}={_uri_encode(v, False)}"
                                  for k, v in sorted(query.items()))
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            conn.request(method, url, body=body or None, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
        finally:
            conn.close()
        out_headers = {k.lower(): v for k, v in resp.getheaders()}
        assert resp.status in ok, f"{method} {url}: {resp.status} {data[:500]!r}"
        return resp.status, out_headers, data

    def create_bucket(self, bucket: str) -> None:
        self.request("PUT", f"/{bucket}")

    def list_keys(self, bucket: str, prefix: str = "") -> dict[str, str]:
        """key -> ETag of every object below `prefix` (ListObjectsV2, every page)."""
        out: dict[str, str] = {}
        token = None
        while True:
            query = {"list-type": "2", "max-keys": "1000"}
            if prefix:
                query["prefix"] = prefix
            if token:
                query["continuation-token"] = token
            _, _, data = self.request("GET", f"/{bucket}", query)
            root = ET.fromstring(data)
            ns = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
            for c in root.iter(f"{ns}Contents"):
                out[c.findtext(f"{ns}Key")] = c.findtext(f"{ns}ETag") or ""
            if root.findtext(f"{ns}IsTruncated") != "true":
                return out
            token = root.findtext(f"{ns}NextContinuationToken")

    def get(self, bucket: str, key: str) -> bytes:
        return self.request("GET", f"/{bucket}/{key}")[2]

    def head(self, bucket: str, key: str) -> dict:
        return self.request("HEAD", f"/{bucket}/{key}")[1]


class Gate:
    """A TCP forwarder on 127.0.0.1 in front of a store: stop() closes its port and every
    connection through it (the store is down, as far as clients can tell), start() opens the
    same port again."""

    def __init__(self, upstream: tuple[str, int]):
        self.upstream = upstream
        self.port = 0
        self._lock = threading.Lock()
        self._conns: list[socket.socket] = []
        self._listener: socket.socket | None = None
        self.start()

    def start(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        with self._lock:
            if self._listener is not None:
                try:
                    self._listener.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                self._listener.close()
                self._listener = None
            for c in self._conns:
                try:
                    c.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                c.close()
            self._conns.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream, timeout=10)
                server.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                if self._listener is not listener:
                    client.close()
                    server.close()
                    return
                self._conns += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
            if not data:
                break
            try:
                dst.sendall(data)
            except OSError:
                break
        for x in (src, dst):
            try:
                x.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class ExternalS3(_Objects):
    """The S3 store of FERRY_S3_ENDPOINT (e.g. Ceph's RADOS Gateway from tests/s3/ceph.sh),
    seen through a Gate, with a fresh bucket; objects are mirrored into the session's
    directory as they are read (files for read_ndjson_zst and DuckDB)."""

    verifies_signatures = True

    def __init__(self, session: harness.Session, name: str = "s3",
                 bucket: str | None = "ferry-lake"):
        self.name = name
        self.region = REGION
        self.api = S3Api(EXTERNAL_ENDPOINT, ACCESS_KEY, SECRET_KEY, REGION)
        self.bucket = f"{bucket}-{secrets.token_hex(4)}" if bucket else None
        if self.bucket:
            self.api.create_bucket(self.bucket)
        self.gate = Gate((self.api.host, self.api.port))
        self.port = self.gate.port
        self.mirror = session.path(name) / "mirror"
        self.mirror.mkdir(parents=True, exist_ok=True)
        self._etags: dict[str, str] = {}
        self._meta: dict[str, dict] = {}
        print(f"S3 store: {EXTERNAL_ENDPOINT} ({os.environ.get('FERRY_S3_STORE', 'external')}), "
              f"bucket {self.bucket}, region {self.region}, through 127.0.0.1:{self.port}")

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.gate.stop()

    def start(self) -> None:
        self.gate.start()

    def restart(self) -> None:
        self.stop()
        self.start()

    def object_files(self, bucket: str | None = None) -> dict[str, Path]:
        bucket = bucket or self.bucket
        out = {}
        for key, etag in self.api.list_keys(bucket).items():
            path = self.mirror / bucket / key
            if self._etags.get(f"{bucket}/{key}") != etag or not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(self.api.get(bucket, key))
                self._etags[f"{bucket}/{key}"] = etag
                self._meta.pop(f"{bucket}/{key}", None)
            out[key] = path
        return dict(sorted(out.items()))

    def metadata(self, key: str) -> dict:
        cached = self._meta.get(f"{self.bucket}/{key}")
        if cached is None:
            headers = self.api.head(self.bucket, key)
            cached = {k: v for k, v in headers.items() if k.startswith("x-amz-meta-")}
            self._meta[f"{self.bucket}/{key}"] = cached
        return cached

    def duckdb_glob(self, prefix: str) -> str:
        self.object_files()
        return f"{self.mirror / self.bucket / prefix}/**/*.ndjson.zst"

    batches = S3rver.batches
    records = S3rver.records


def store(session: harness.Session, name: str = "s3rver", bucket: str | None = "ferry-lake"):
    """The S3 store of a test: ExternalS3 when FERRY_S3_ENDPOINT is set, else s3rver."""
    if EXTERNAL_ENDPOINT:
        return ExternalS3(session, name=name, bucket=bucket)
    return S3rver(session, name=name, bucket=bucket)


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
                "--s3-path-style", "--s3-credentials-file", self.credentials,
                "--s3-region", self.s3.region]
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
    ensure_node_modules()
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
                                  "region": s3.region,
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
