#!/usr/bin/env bash
# Runs the normalizer fuzzer for a bounded time on a fresh seed corpus made from the device
# files. Usage: tests/fuzz/smoke.sh FUZZER SECONDS [DEVICES_DIR]
# Exit status: the fuzzer's (0 when it found nothing). Findings are written to the work
# directory it prints.
set -euo pipefail
fuzzer=$(realpath "$1")
seconds=$2
here=$(cd "$(dirname "$0")" && pwd)
devices=${3:-${FERRY_DEVICES_DIR:-$here/../../../shared/data/devices}}
# A clone elsewhere (as CI's) finds the corpus in the team's work area.
if [ ! -d "$devices" ] && [ -d /work/shared/data/devices ]; then devices=/work/shared/data/devices; fi
work=$(mktemp -d "${TMPDIR:-/tmp}/ferry-fuzz-XXXXXX")
python3 "$here/make_corpus.py" "$devices" "$work/corpus"
echo "fuzzing for ${seconds}s in $work"
cd "$work"
"$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=131072 \
  -print_final_stats=1 "$work/corpus"
rm -rf "$work"
