#!/usr/bin/env python3
"""The live demo: a broker, ferry-landing, ferry and simulated devices, on ports chosen now.

Simulated devices replay the real device messages of ../shared/data/devices/ (Zigbee2MQTT,
Tasmota, Shelly, TTN, OwnTracks, ESPHome, Telegraf, and the hostile ones) in a loop. Ferry runs on
the default config embedded below. Ctrl-C, or --duration, stops everything cleanly.

    make demo                      # or: python3 tests/demo/demo.py --build build
    make demo DEMO_ARGS="--duration 30"
"""
import argparse
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))

# The demo's ferry config: the contract's core keys plus the routes of config/examples/ for the
# device families the simulated devices replay, read from those files so the two cannot drift
# apart (issue 14, item 5: a quarter of the demo's records had no device).
DEMO_CONFIG = {
    "gateway": {"id": "demo-gw", "labels": {"site": "demo"}},
    # QoS 1 groups wait up to 30 s at low rates by default (fewer flash writes on a gateway); the
    # demo commits each second instead, so records are seen landing as they come.
    "storage": {"path": "QUEUE", "max_size": "64MiB", "commit_interval_qos1": "1s"},
    "mqtt": {"host": "127.0.0.1", "port": 0, "client_id": "ferry-demo-gw",
             "subscriptions": [{"topic": "#", "qos": 1}]},
    "upstream": {"url": "URL", "batch": {"linger": "1s"}},
    "status": {"listen": "127.0.0.1:0"},
    "routes": [],
}
# The examples are written for a gateway of one family; the demo's broker carries them all, and
# the first matching route applies. So: families whose topics start with a fixed word first,
# Zigbee2MQTT's "+" (its base topic) spelled out, and the "{device}/..." templates of Shelly Gen2,
# Tasmota and ESPHome last.
EXAMPLE_FAMILIES = ["telegraf", "ttn_v3", "owntracks", "shelly_gen1", "zigbee2mqtt", "tasmota",
                    "shelly_gen2", "esphome"]
ZIGBEE2MQTT_BASES = ["zigbee2mqtt", "zigbee2mqtt2", "zigbee"]


def strip_comments(text):
    """JSON with // and /* */ comments (as ferry reads it) to plain JSON."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        elif text.startswith("//", i):
            i = text.find("\n", i) if text.find("\n", i) >= 0 else n
        elif text.startswith("/*", i):
            i = text.index("*/", i) + 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def demo_routes():
    routes = [{"topic": "homeassistant/#", "ignore": True}]
    for family in EXAMPLE_FAMILIES:
        with open(os.path.join(SOURCE, "config", "examples", family + ".json")) as f:
            for route in json.loads(strip_comments(f.read())).get("routes", []):
                if family == "zigbee2mqtt" and route["topic"].startswith("+/"):
                    routes += [dict(route, topic=base + route["topic"][1:])
                               for base in ZIGBEE2MQTT_BASES]
                elif route["topic"] != "homeassistant/#":
                    routes.append(route)
    return routes


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def get_json(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return json.loads(r.read())
    except Exception:  # the agent may be starting or stopping: the demo just shows a dash
        return None


class Demo:
    def __init__(self, build, work):
        self.build, self.work, self.procs = build, work, []

    def start(self, name, argv, **kw):
        log = open(os.path.join(self.work, name + ".log"), "w")
        p = subprocess.Popen(argv, stdout=kw.pop("stdout", log), stderr=log, **kw)
        self.procs.append((name, p))
        return p

    def broker(self):
        port = free_port()
        conf = os.path.join(self.work, "mosquitto.conf")
        with open(conf, "w") as f:
            f.write(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
                    f"persistence_location {self.work}/\nmax_inflight_messages 1000\n"
                    "max_queued_messages 1000000\n")
        self.start("mosquitto", ["mosquitto", "-c", conf])
        if not wait_port(port):
            sys.exit("mosquitto did not start: see " + self.work + "/mosquitto.log")
        return port

    def landing(self):
        root = os.path.join(self.work, "landing")
        p = self.start("ferry-landing", [f"{self.build}/agent/ferry-landing", "--listen",
                                         "127.0.0.1:0", "--root", root],
                       stdout=subprocess.PIPE, text=True)
        line = p.stdout.readline().strip()
        if not line.startswith("listening on "):
            sys.exit("ferry-landing did not start: see " + self.work + "/ferry-landing.log")
        return line.split()[-1], root

    def ferry(self, broker_port, landing_url):
        cfg = json.loads(json.dumps(DEMO_CONFIG))
        cfg["routes"] = demo_routes()
        cfg["storage"]["path"] = os.path.join(self.work, "queue", "queue.db")
        cfg["mqtt"]["port"] = broker_port
        cfg["upstream"]["url"] = landing_url + "/v1/batches"
        status_port = free_port()
        cfg["status"]["listen"] = f"127.0.0.1:{status_port}"
        path = os.path.join(self.work, "ferry.json")
        with open(path, "w") as f:
            json.dump(cfg, f, indent=2)
        self.start("ferry", [f"{self.build}/agent/ferry", "run", "--config", path])
        if not wait_port(status_port):
            sys.exit("ferry did not start: see " + self.work + "/ferry.log")
        return f"http://127.0.0.1:{status_port}"

    def devices(self, broker_port, interval):
        found = device_dirs()
        files = sorted(glob.glob(os.path.join(found[0], "*.ndjson"))) if found else []
        pub = f"{self.build}/tests/ferry-pub"
        if not files:
            print("no device recordings found; publishing synthetic zigbee2mqtt messages")
            self.start("devices", [pub, "--port", str(broker_port), "--topic", "zigbee2mqtt/dev{p}",
                                   "--count", "1000000", "--publishers", "3", "--rate", "5"])
            return
        for f in files:
            name = os.path.basename(f).split(".")[0]
            self.start("device-" + name, [pub, "--port", str(broker_port), "--replay", f, "--loop",
                                          "--interval", str(interval), "--client-prefix", "sim-" + name])

    def stop(self):
        """The simulated devices all at once (a second, then killed; issue 14, item 3: each
        waited up to a minute for an acknowledgement, one after the other), then ferry (it
        finishes cleanly within its shutdown grace), the landing zone and the broker."""
        print("stopping: devices, ferry, landing zone, broker ...", flush=True)
        devices = [(n, p) for n, p in self.procs if n.startswith("device")]
        others = [(n, p) for n, p in reversed(self.procs) if not n.startswith("device")]
        for group, grace in ((devices, 1), *(([item], 10) for item in others)):
            for name, p in group:
                if p.poll() is None:
                    p.send_signal(signal.SIGTERM)
            deadline = time.time() + grace
            for name, p in group:
                try:
                    p.wait(timeout=max(0.0, deadline - time.time()))
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()


def device_dirs():
    return [d for d in [os.environ.get("FERRY_DEVICES_DIR", ""),
                        os.path.join(SOURCE, "..", "shared", "data", "devices"),
                        "/work/shared/data/devices"]
            if d and glob.glob(os.path.join(d, "*.ndjson"))]


def device_families():
    """Topic -> device family of the recordings that have one ("nasty" ones are hostile input
    of no family, and count as "other")."""
    families = {}
    for path in sorted(glob.glob(os.path.join((device_dirs() or [""])[0], "*.ndjson"))):
        family = os.path.basename(path).split(".")[0]
        if family == "nasty":
            continue
        for line in open(path, encoding="utf-8", errors="replace"):
            try:
                topic = json.loads(line).get("topic")
            except ValueError:
                continue
            if topic:
                families.setdefault(topic, family)
    return families


def landed(root):
    files = glob.glob(os.path.join(root, "gateway=*", "dt=*", "*.ndjson.zst"))
    return files


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(SOURCE, "build"))
    ap.add_argument("--duration", type=float, default=0, help="stop after this many seconds (0: until Ctrl-C)")
    ap.add_argument("--interval", type=float, default=0.5, help="seconds between a device's messages")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="ferry-demo-")
    demo = Demo(os.path.abspath(args.build), work)
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    try:
        broker_port = demo.broker()
        landing_url, root = demo.landing()
        status = demo.ferry(broker_port, landing_url)
        demo.devices(broker_port, args.interval)
        print(f"broker      mqtt://127.0.0.1:{broker_port}")
        print(f"landing     {landing_url}  ->  {root}")
        print(f"ferry       status {status}/status   metrics {status}/metrics")
        print(f"            or: {args.build}/agent/ferry status --url {status}")
        print(f"logs        {work}/*.log")
        print("Ctrl-C stops the demo.\n")
        start = time.time()
        while not stopping and (args.duration <= 0 or time.time() - start < args.duration):
            time.sleep(2)
            s = get_json(status + "/status") or {}
            c, q = s.get("counters", {}), s.get("queue", {})
            print(f"[{time.time() - start:5.0f}s] received {c.get('records_received', '-')}  "
                  f"delivered {c.get('records_delivered', '-')}  queued {q.get('records', '-')}  "
                  f"ignored by a route {c.get('records_ignored', '-')}  dead letters {s.get('dead_letters', '-')}  upstream {s.get('upstream', {}).get('state', '-')}  "
                  f"landing files {len(landed(root))}", flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        demo.stop()
    files = landed(root) if "root" in locals() else []
    print(f"\nstopped. {len(files)} batch files landed under {root if files else work}")
    if files:
        records = [json.loads(line) for f in files for line in
                   subprocess.run(["zstd", "-dc", f], capture_output=True, text=True).stdout.splitlines()]
        with_device = [r for r in records if r.get("device")]
        families = device_families()
        missing = sorted({families.get(r["topic"], "other") for r in records if not r.get("device")})
        print(f"{len(records)} records landed, {len(with_device)} with a device; families with "
              f"records without one: {', '.join(missing) or 'none'}")
        sample = (with_device or records)[-1]
        print("a landed record:\n  " + json.dumps(sample, ensure_ascii=False)[:600])
        print(f"read them all:  zstdcat {root}/gateway=*/dt=*/*.zst | head")
    if not args.keep and not files:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
