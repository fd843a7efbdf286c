#!/bin/bash
# Instructions per message of the normalizer on the device corpus, under callgrind (not noisy,
# unlike times on a shared machine): for each family, ferry-normalize-bench --passes 20 with
# collection on only inside one side's timing loop, divided by 20 passes x the family's messages.
#   normalize       Normalizer::Normalize alone
#   normalize+line  and the record line (AppendRecordBody), as the intake does per message
#   parse-only      a bare nlohmann::json::parse of the same payloads (and its DOM freed)
# Usage: tests/bench/normalize_ir.sh BUILD_DIR [FAMILY...]   (BUILD_DIR's parent: the source)
set -euo pipefail
build=$(cd "$1" && pwd)
shift
source_dir=$(dirname "$build")
devices=${FERRY_DEVICES_DIR:-$source_dir/../shared/data/devices}
families=${*:-zigbee2mqtt tasmota shelly_gen1 shelly_gen2 ttn_v3 owntracks esphome telegraf}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for f in $families; do
  n=$(python3 -c "
import json, sys
c = 0
for line in open(sys.argv[1]):
    try:
        v = json.loads(line)
    except ValueError:
        continue
    c += isinstance(v, dict) and isinstance(v.get('topic'), str) and isinstance(v.get('payload'), str)
print(c)" "$devices/$f.ndjson")
  row="$f msgs=$n Ir/msg:"
  for side in 1:normalize 3:normalize+line 4:parse-only; do
    valgrind --tool=callgrind --callgrind-out-file="$out/$f.${side%%:*}" \
      "--toggle-collect=*SecondsPerMessage<*Msg const&)#${side%%:*}}>*" \
      "$build/tests/bench/ferry-normalize-bench" --runs 1 --passes 20 --only "$f" \
      "$source_dir" "$devices" >/dev/null 2>&1
    ir=$(callgrind_annotate "$out/$f.${side%%:*}" | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
    row="$row ${side#*:} $((ir / (20 * n)))"
  done
  echo "$row"
done
