#!/usr/bin/env python3
"""Ferry transform: decodes the binary uplink of Dragino LHT52 temperature/humidity sensors
arriving through The Things Stack (TTN v3), which the declarative rules cannot: the frame is
base64 inside the JSON, its fields are big-endian integers, 0x7FFF means "no external probe"
(the vendor decoder reports it as 327.67 degC), and the device's own clock gives the event time.

Protocol (docs/transforms.md): one JSON request per line on stdin, one reply per line on stdout,
flushed. Uplinks of other models and other TTN messages pass through with the rules' records.
"""
import base64
import datetime
import json
import struct
import sys

NO_PROBE = 0x7FFF


def lht52_records(uplink: dict, ids: dict) -> list:
    frame = base64.b64decode(uplink.get("frm_payload", ""), validate=True)
    if uplink.get("f_port") != 2 or len(frame) != 11:
        raise ValueError(f"LHT52 frame on port {uplink.get('f_port')} of {len(frame)} bytes, "
                         "expected port 2 and 11 bytes")
    temp, hum, probe, probe_type, unix_time = struct.unpack(">hHhBI", frame)
    data = {"temperature_c": temp / 100, "humidity_pct": hum / 10}
    if probe != NO_PROBE:
        data["probe_temperature_c"] = probe / 100
    data["probe_type"] = probe_type
    rx = (uplink.get("rx_metadata") or [{}])[0]
    if "rssi" in rx:
        data["rssi_dbm"] = rx["rssi"]
    if "f_cnt" in uplink:
        data["frame_counter"] = uplink["f_cnt"]
    record = {"device": ids["device_id"], "labels": {"model": "lht52", "dev_eui": ids.get("dev_eui", "")},
              "data": data}
    if unix_time > 1_500_000_000:  # a clock that was never set starts at 0
        ts = datetime.datetime.fromtimestamp(unix_time, datetime.timezone.utc)
        record["ts"] = ts.strftime("%Y-%m-%dT%H:%M:%SZ")
    return [record]


def handle(request: dict) -> dict:
    records = request.get("records", [])
    if not request["topic"].endswith("/up") or "payload" not in request:
        return {"id": request["id"], "records": records}
    message = json.loads(request["payload"])
    uplink = message.get("uplink_message", {})
    model = uplink.get("version_ids", {})
    if (model.get("brand_id"), model.get("model_id")) != ("dragino", "lht52"):
        return {"id": request["id"], "records": records}
    return {"id": request["id"], "records": lht52_records(uplink, message["end_device_ids"])}


def main() -> None:
    for line in sys.stdin:
        request = json.loads(line)
        try:
            reply = handle(request)
        except (ValueError, KeyError, TypeError, struct.error) as e:
            reply = {"id": request["id"], "error": f"{type(e).__name__}: {e}"}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
