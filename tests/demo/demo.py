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

# The demo's ferry config: the contract's core keys plus routes for the device families.
DEMO_CONFIG = {
    "gateway": {"id": "demo-gw", "labels": {"site": "demo"}},
    "storage": {"path": "QUEUE", "max_size": "64MiB"},
    "mqtt": {"host": "127.0.0.1", "port": 0, "client_id": "ferry-demo-gw",
             "subscriptions": [{"topic": "#", "qos": 1}]},
    "upstream": {"url": "URL", "batch": {"linger": "1s"}},
    "status": {"listen": "127.0.0.1:0"},
    "routes": [
        {"topic": "zigbee2mqtt/bridge/#", "ignore": True},
        {"topic": "zigbee2mqtt/+/set", "ignore": True},
        {"topic": "zigbee2mqtt/{device}", "time": {"field": "last_seen"}},
        {"topic": "cmnd/#", "ignore": True},
        {"topic": "tele/{device}/+", "time": {"field": "Time"}},
        {"topic": "stat/{device}/+"},
        {"topic": "shellies/announce", "device_field": "id"},
        {"topic": "shellies/{device}/#"},
        {"topic": "v3/+/devices/{device}/+", "time": {"field": "received_at"}},
        {"topic": "owntracks/+/{device}/#", "time": {"field": "tst", "format": "epoch_s"}},
        {"topic": "owntracks/+/{device}", "time": {"field": "tst", "format": "epoch_s"}},
        {"topic": "telegraf/{device}/+", "time": {"field": "timestamp"}},
        {"topic": "homeassistant/#", "ignore": True},
    ],
}


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
        dirs = [os.environ.get("FERRY_DEVICES_DIR", ""),
                os.path.join(SOURCE, "..", "shared", "data", "devices"), "/work/shared/data/devices"]
        found = [d for d in dirs if d and glob.glob(os.path.join(d, "*.ndjson"))]
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
        for name, p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for name, p in reversed(self.procs):
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()


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
                  f"dead letters {s.get('dead_letters', '-')}  upstream {s.get('upstream', {}).get('state', '-')}  "
                  f"landing files {len(landed(root))}", flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        demo.stop()
    files = landed(root) if "root" in locals() else []
    print(f"\nstopped. {len(files)} batch files landed under {root if files else work}")
    if files:
        sample = subprocess.run(["zstd", "-dc", sorted(files)[-1]], capture_output=True, text=True).stdout
        print("a landed record:\n  " + sample.splitlines()[0])
        print(f"read them all:  zstdcat {root}/gateway=*/dt=*/*.zst | head")
    if not args.keep and not files:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
