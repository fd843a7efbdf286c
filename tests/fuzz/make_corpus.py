#!/usr/bin/env python3
"""Writes the fuzzer's seed corpus: every message of ../shared/data/devices and of
tests/fixtures/devices, one file each.

Usage: make_corpus.py DEVICES_DIR OUT_DIR

A seed is one byte choosing the rules (the index of the family's example config, as in
normalize_fuzz.cc; 12 = the default rule), the topic, '\\n', then the payload bytes.
nasty.ndjson lines go to every config; generator lines are left out (too large for seeds).
"""
import json
import os
import sys

FAMILIES = ["zigbee2mqtt", "tasmota", "shelly_gen1", "shelly_gen2",
            "ttn_v3", "owntracks", "esphome", "telegraf",
            "rtl_433", "neuron", "edgex", "chirpstack_v3", "sparkplug",
            "victron", "theengs_ble", "frigate"]
# The families whose messages are kept in this repository (tests/fixtures/devices).
FIXTURE_FAMILIES = {"rtl_433", "neuron", "edgex", "chirpstack_v3", "sparkplug",
                    "victron", "theengs_ble", "frigate"}
FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "devices")


def payload_of(msg):
    if "payload_hex" in msg:
        return bytes.fromhex(msg["payload_hex"])
    return (msg.get("payload") or "").encode("utf-8")


def main():
    devices, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    count = 0
    sources = [(f, [FAMILIES.index(f)]) for f in FAMILIES]
    sources += [("nasty", list(range(len(FAMILIES) + 1)))]
    for name, selectors in sources:
        folder = FIXTURES if name in FIXTURE_FAMILIES else devices
        with open(os.path.join(folder, name + ".ndjson"), encoding="utf-8") as f:
            for i, line in enumerate(f):
                msg = json.loads(line)
                if "generator" in msg or not isinstance(msg.get("topic"), str):
                    continue
                body = msg["topic"].encode("utf-8") + b"\n" + payload_of(msg)
                for s in selectors:
                    with open(os.path.join(out, "%s-%03d-%d" % (name, i + 1, s)), "wb") as seed:
                        seed.write(bytes([s]) + body)
                    count += 1
    print("%d seeds in %s" % (count, out))


if __name__ == "__main__":
    main()
