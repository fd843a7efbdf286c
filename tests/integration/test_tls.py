"""TLS and access: ferry to ferry-landing over HTTPS with mutual TLS and a bearer token, ferry to
mosquitto over TLS with a client certificate, and the failures an operator meets, each of which
must leave the records queued and say in /status what is wrong and which key to check:

  a. HTTPS + client certificate + token: every record arrives
  b. ferry trusts the wrong CA: nothing delivered, "certificate verify failed: unable to get
     local issuer certificate", records stay queued
  c. the landing's certificate has expired: "certificate has expired"; one issued for another
     host name: "not issued for the host name or address connected to"
  d. the landing requires a client certificate and ferry has none: refused in the handshake,
     the landing logs why and stores nothing
  e. mosquitto with a TLS listener requiring client certificates: messages published over TLS
     arrive; with the wrong CA ferry stays disconnected and says why
  f. mosquitto with a password file: ferry logs in with mqtt.username and mqtt.password_file;
     with a wrong password it stays disconnected and says which keys to check

Every certificate is made at run time with the `openssl` command (a CA, a server certificate for
127.0.0.1 and localhost, a client certificate, an unrelated CA, an expired server certificate).
Skipped (exit 77) when `openssl` or `mosquitto` is missing."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import harness

SERVER_EXT = "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n"
OTHER_NAME_EXT = "subjectAltName=DNS:landing.example\nextendedKeyUsage=serverAuth\n"
CLIENT_EXT = "extendedKeyUsage=clientAuth\n"
COUNT = 20


class Pki:
    """Certificates in `dir` (NAME.pem and NAME.key): ca, wrong-ca, and signed by ca: server
    (for 127.0.0.1 and localhost), client, expired, other-name (for landing.example only)."""

    def __init__(self, dir: Path):
        self.dir = dir
        dir.mkdir(parents=True, exist_ok=True)
        self._ca("ca")
        self._ca("wrong-ca")
        self._leaf("server", SERVER_EXT)
        self._leaf("client", CLIENT_EXT)
        self._leaf("expired", SERVER_EXT, dates=("20200101000000Z", "20200102000000Z"))
        self._leaf("other-name", OTHER_NAME_EXT)

    def pem(self, name: str) -> Path:
        return self.dir / f"{name}.pem"

    def key(self, name: str) -> Path:
        return self.dir / f"{name}.key"

    def _openssl(self, *args) -> None:
        run = subprocess.run(["openssl", *map(str, args)], cwd=self.dir, capture_output=True,
                             text=True, stdin=subprocess.DEVNULL, timeout=30)
        assert run.returncode == 0, f"openssl {' '.join(map(str, args))}:\n{run.stderr}"

    def _new_key(self, name: str) -> list:
        return ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", self.key(name)]

    def _ca(self, name: str) -> None:
        self._openssl("req", "-x509", *self._new_key(name), "-out", self.pem(name), "-days", "2",
                      "-subj", f"/CN=Ferry test {name}",
                      "-addext", "basicConstraints=critical,CA:TRUE",
                      "-addext", "keyUsage=critical,keyCertSign,cRLSign")

    def _leaf(self, name: str, ext: str, dates: tuple[str, str] | None = None) -> None:
        """A certificate signed by `ca`; with dates (notBefore, notAfter) through `openssl ca`,
        the one command of OpenSSL 3.0 that takes explicit dates."""
        csr, ext_file = self.dir / f"{name}.csr", self.dir / f"{name}.ext"
        self._openssl("req", *self._new_key(name), "-out", csr, "-subj", f"/CN={name}")
        ext_file.write_text(ext)
        if dates is None:
            self._openssl("x509", "-req", "-in", csr, "-CA", self.pem("ca"), "-CAkey",
                          self.key("ca"), "-CAcreateserial", "-out", self.pem(name), "-days", "2",
                          "-extfile", ext_file)
            return
        db = self.dir / "ca-db"
        db.mkdir(exist_ok=True)
        (db / "index.txt").write_text("")
        (db / "serial").write_text("1000\n")
        (db / "ca.cnf").write_text(
            f"[ca]\ndefault_ca = test\n[test]\ndatabase = {db}/index.txt\nserial = {db}/serial\n"
            f"new_certs_dir = {db}\ndefault_md = sha256\npolicy = any\nunique_subject = no\n"
            "[any]\ncommonName = supplied\n")
        self._openssl("ca", "-batch", "-config", db / "ca.cnf", "-cert", self.pem("ca"),
                      "-keyfile", self.key("ca"), "-in", csr, "-out", self.pem(name), "-notext",
                      "-startdate", dates[0], "-enddate", dates[1], "-extfile", ext_file)


def upstream_tls(pki: Pki, ca: str = "ca", client_cert: bool = True) -> dict:
    tls = {"ca_file": str(pki.pem(ca))}
    if client_cert:
        tls.update(cert_file=str(pki.pem("client")), key_file=str(pki.key("client")))
    return tls


def last_error_with(ferry: harness.Ferry, *parts: str) -> str:
    """A wait_for probe: /status's last_error once it holds every one of `parts`."""
    ferry.check_alive()
    error = ferry.status()["last_error"] or ""
    assert all(p in error for p in parts), f"last_error is {error!r}"
    return error


def check_refused(name: str, ferry: harness.Ferry, landing: harness.Landing, *parts: str) -> str:
    """Waits for the error, then checks that ferry is up, holds every record and delivered none."""
    error = harness.wait_for(lambda: last_error_with(ferry, *parts), 15,
                             f"{ferry.name}'s last_error to say {parts}")
    print(f"{name}: last_error: {error}")
    ferry.check_alive()
    assert harness.status_queue_records(ferry.status()) == COUNT, \
        f"{ferry.name} should still hold {COUNT} records: {json.dumps(ferry.status()['queue'])}"
    assert ferry.metric("ferry_upstream_requests_total", code="200") == 0, \
        f"{ferry.name} delivered something"
    assert not [b for b in landing.batches() if b.gateway == ferry.gateway], \
        f"the landing stored batches of {ferry.gateway}"
    attempts = [line for line in harness.tail(ferry.log, 400).splitlines()
                if "forward: batch" in line and "no response" in line]
    assert attempts, f"{ferry.name}'s log shows no failed attempt"
    vague = [line for line in attempts if not all(p in line for p in parts)]
    assert not vague, f"{ferry.name}: attempts logged without the reason: {vague}"
    return error


def check_landing_refuses_bad_files(s: harness.Session, pki: Pki) -> None:
    """Unusable TLS files stop ferry-landing at once with exit code 2 and one line saying which
    file and what to do."""
    root = s.path("landing-bad-files")
    cases = [
        (["--tls-cert", s.path("missing.pem"), "--tls-key", pki.key("server")],
         ["--tls-cert", "missing.pem", "No such file or directory", "give the server certificate"]),
        (["--tls-cert", pki.pem("server"), "--tls-key", pki.key("client")],
         ["--tls-key", "is not the key of the certificate in --tls-cert",
          "give the key the certificate was issued for"]),
        (["--tls-cert", pki.key("server"), "--tls-key", pki.key("server")],
         ["--tls-cert", "no PEM certificate"]),
        (["--tls-cert", pki.pem("server"), "--tls-key", pki.key("server"),
          "--tls-client-ca", pki.key("ca")], ["--tls-client-ca", "no PEM certificate"]),
        (["--tls-cert", pki.pem("server")], ["--tls-cert needs --tls-key"]),
    ]
    for args, parts in cases:
        run = subprocess.run([str(harness.LANDING_BIN), "--listen", "127.0.0.1:0", "--root", root,
                              *map(str, args)], capture_output=True, text=True, timeout=10,
                             stdin=subprocess.DEVNULL)
        first = run.stderr.splitlines()[0] if run.stderr else ""
        assert run.returncode == 2 and all(p in first for p in parts), \
            f"ferry-landing {args}: exit {run.returncode}, first line {first!r}, want {parts}"
        print(f"bad files: {first}")


def test(s: harness.Session) -> None:
    pki = Pki(s.path("pki"))
    check_landing_refuses_bad_files(s, pki)
    token = s.path("token")
    token.write_text("s3cret-token\n")
    tls_args = ["--tls-cert", pki.pem("server"), "--tls-key", pki.key("server")]
    mtls = s.landing(name="landing-mtls", token_file=token,
                     extra_args=tls_args + ["--tls-client-ca", pki.pem("ca")])
    expired = s.landing(name="landing-expired",
                        extra_args=["--tls-cert", pki.pem("expired"),
                                    "--tls-key", pki.key("expired")])
    other_name = s.landing(name="landing-other-name",
                           extra_args=["--tls-cert", pki.pem("other-name"),
                                       "--tls-key", pki.key("other-name")])
    assert mtls.url.startswith("https://127.0.0.1:"), mtls.url
    assert "expired on" in harness.tail(expired.log), "no warning about the expired certificate"

    broker = s.broker()
    upstream = {"token": "s3cret-token"}
    good = s.ferry(broker, mtls, name="ferry-a", gateway="gw-a",
                   overrides={"upstream": {**upstream, "tls": upstream_tls(pki)}})
    wrong_ca = s.ferry(broker, mtls, name="ferry-b", gateway="gw-b",
                       overrides={"upstream": {**upstream, "tls": upstream_tls(pki, "wrong-ca")}})
    too_old = s.ferry(broker, expired, name="ferry-c", gateway="gw-c",
                      overrides={"upstream": {"tls": upstream_tls(pki)}})
    wrong_name = s.ferry(broker, other_name, name="ferry-c2", gateway="gw-c2",
                         overrides={"upstream": {"tls": upstream_tls(pki)}})
    no_cert = s.ferry(broker, mtls, name="ferry-d", gateway="gw-d",
                      overrides={"upstream": {**upstream,
                                              "tls": upstream_tls(pki, client_cert=False)}})
    harness.publish(broker, "zigbee2mqtt/dev{p}", count=COUNT)

    # a. HTTPS, mutual TLS and the token: everything arrives once.
    records = [r for r in mtls.wait_records(COUNT, timeout=20, settle=0.5)
               if r["gateway"] == "gw-a"]
    assert len(records) == COUNT, f"a: {len(records)} records of gw-a, want {COUNT}"
    harness.check_exactly_once(records, {(1, i) for i in range(1, COUNT + 1)})
    print(f"a: {COUNT} records over HTTPS with a client certificate and the token")

    # b, c, d: refused, reported, kept.
    check_refused("b (wrong CA)", wrong_ca, mtls, "TLS: certificate verify failed: unable to get "
                  "local issuer certificate", f"upstream {mtls.url}", "check upstream.tls.ca_file")
    check_refused("c (expired)", too_old, expired, "TLS: certificate verify failed: certificate "
                  "has expired", f"upstream {expired.url}", "renew it")
    check_refused("c (other host name)", wrong_name, other_name, "TLS: certificate verify failed: "
                  "the landing zone's certificate is not issued for the host name or address",
                  f"upstream {other_name.url}")
    check_refused("d (no client certificate)", no_cert, mtls, "TLS: handshake failed",
                  "certificate required", "set upstream.tls.cert_file and key_file")
    landing_log = harness.tail(mtls.log, 400)
    assert "TLS: refused a client at 127.0.0.1:" in landing_log and \
        "certificate required" in landing_log, f"d: the landing did not log the refusal"
    assert mtls.count() == COUNT, f"the landing stored more than ferry-a's {COUNT} records"

    # e. MQTT over TLS with a client certificate.
    broker_tls = s.broker(name="broker-tls", extra_config="\n".join([
        f"cafile {pki.pem('ca')}", f"certfile {pki.pem('server')}", f"keyfile {pki.key('server')}",
        "require_certificate true", "use_identity_as_username true"]))
    mqtt_tls = {"enabled": True, "ca_file": str(pki.pem("ca")),
                "cert_file": str(pki.pem("client")), "key_file": str(pki.key("client"))}
    plain = s.landing(name="landing-plain")
    over_tls = s.ferry(broker_tls, plain, name="ferry-e", gateway="gw-e",
                       overrides={"mqtt": {"tls": mqtt_tls}})
    pub_tls = ["--cafile", pki.pem("ca"), "--cert", pki.pem("client"), "--key", pki.key("client")]
    harness.publish(broker_tls, "zigbee2mqtt/tls{p}", count=COUNT, extra=pub_tls)
    records = plain.wait_records(COUNT, timeout=20, settle=0.5)
    harness.check_exactly_once(records, {(1, i) for i in range(1, COUNT + 1)})
    print(f"e: {COUNT} messages published over TLS arrive through ferry's TLS connection")

    mqtt_wrong = s.ferry(broker_tls, plain, name="ferry-f", gateway="gw-f", start=False,
                         overrides={"mqtt": {"tls": {**mqtt_tls,
                                                     "ca_file": str(pki.pem("wrong-ca"))}}})
    mqtt_wrong.start(wait=False)
    # mosquitto sends its CA along (it completes the chain from its cafile): the chain ends in a
    # self-signed certificate ferry does not trust.
    error = harness.wait_for(lambda: last_error_with(
        mqtt_wrong, "TLS: certificate verify failed: self-signed certificate in certificate chain",
        f"broker 127.0.0.1:{broker_tls.port}", "check mqtt.tls.ca_file"), 15, "ferry-f's last_error")
    status = mqtt_wrong.status()
    print(f"e (wrong CA): last_error: {error}; mqtt: {json.dumps(status['mqtt'])}")
    assert not harness.status_mqtt_connected(status), "ferry-f connected with the wrong CA"

    mqtt_no_cert = s.ferry(broker_tls, plain, name="ferry-g", gateway="gw-g", start=False,
                           overrides={"mqtt": {"tls": {"enabled": True,
                                                       "ca_file": str(pki.pem("ca"))}}})
    mqtt_no_cert.start(wait=False)
    error = harness.wait_for(lambda: last_error_with(
        mqtt_no_cert, "TLS: handshake failed", "certificate required",
        "set mqtt.tls.cert_file and key_file"), 15, "ferry-g's last_error")
    print(f"e (no client certificate): last_error: {error}")
    assert not harness.status_mqtt_connected(mqtt_no_cert.status()), "ferry-g connected"

    broker_other = s.broker(name="broker-other-name", extra_config="\n".join([
        f"cafile {pki.pem('ca')}", f"certfile {pki.pem('other-name')}",
        f"keyfile {pki.key('other-name')}"]))
    mqtt_other = s.ferry(broker_other, plain, name="ferry-h", gateway="gw-h", start=False,
                         overrides={"mqtt": {"tls": mqtt_tls}})
    mqtt_other.start(wait=False)
    error = harness.wait_for(lambda: last_error_with(
        mqtt_other, "TLS: certificate verify failed: the broker's certificate is not issued for "
        "the host name", f"broker 127.0.0.1:{broker_other.port}"), 15, "ferry-h's last_error")
    print(f"e (other host name): last_error: {error}")
    assert not harness.status_mqtt_connected(mqtt_other.status()), "ferry-h connected"
    assert plain.count() == COUNT, "records of a broker ferry could not verify arrived"

    check_password_login(s, plain)


def check_password_login(s: harness.Session, landing: harness.Landing) -> None:
    """f. A broker that wants a user name and password."""
    passwords = s.path("mosquitto.passwd")
    run = subprocess.run(["mosquitto_passwd", "-b", "-c", passwords, "gateway", "right-pw"],
                         capture_output=True, text=True, timeout=10, stdin=subprocess.DEVNULL)
    assert run.returncode == 0, f"mosquitto_passwd failed: {run.stderr}"
    broker = s.broker(name="broker-auth", extra_config=f"allow_anonymous false\n"
                                                      f"password_file {passwords}")
    refused = harness.publish(broker, "zigbee2mqtt/anon{p}", count=1, check=False,
                              extra=["--connect-timeout", "0.3"])
    assert refused.acked == 0, f"the broker took an anonymous publish: {refused}"
    secret = s.path("mqtt-password")
    secret.write_text("right-pw\n")
    before = landing.count()
    login = s.ferry(broker, landing, name="ferry-i", gateway="gw-i",
                    overrides={"mqtt": {"username": "gateway", "password_file": str(secret)}})
    harness.publish(broker, "zigbee2mqtt/auth{p}", count=COUNT,
                    extra=["--username", "gateway", "--password", "right-pw"])
    records = [r for r in landing.wait_records(before + COUNT, timeout=20, settle=0.5)
               if r["gateway"] == login.gateway]
    harness.check_exactly_once(records, {(1, i) for i in range(1, COUNT + 1)})
    print(f"f: {COUNT} messages through a broker that wants a password (mqtt.password_file)")

    wrong = s.ferry(broker, landing, name="ferry-j", gateway="gw-j", start=False,
                    overrides={"mqtt": {"username": "gateway", "password": "wrong-pw"}})
    wrong.start(wait=False)
    error = harness.wait_for(lambda: last_error_with(
        wrong, f"broker 127.0.0.1:{broker.port} refused the connection", "Not authorized",
        "check mqtt.username and mqtt.password or password_file"), 15, "ferry-j's last_error")
    print(f"f (wrong password): last_error: {error}")
    assert not harness.status_mqtt_connected(wrong.status()), "ferry-j connected"


def missing_tools() -> str:
    missing = [name for name, path in (("openssl", shutil.which("openssl")),
                                       ("mosquitto", harness.MOSQUITTO_BIN)) if not path
               or not Path(path).exists()]
    return ", ".join(missing)


if __name__ == "__main__":
    if missing := missing_tools():
        print(f"test_tls: SKIPPED: {missing} not installed (toolchains/install-deps.sh)")
        sys.exit(77)
    harness.main(test)
