#!/usr/bin/env bash
# Builds the normalizer fuzzer with clang (libFuzzer, ASan, UBSan) in build-fuzz and runs it
# for 60 seconds on a seed corpus made from ../shared/data/devices.
# Usage: tests/fuzz/run.sh [SECONDS]   Needs clang and libclang-rt-14-dev (install-deps.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-60}
build=${FERRY_FUZZ_BUILD:-build-fuzz}
CC=${CC:-clang} CXX=${CXX:-clang++} cmake -S . -B "$build" -DFERRY_FUZZ=ON -DFERRY_SANITIZE=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "${JOBS:-2}" --target ferry-normalize-fuzz
exec tests/fuzz/smoke.sh "$build/tests/fuzz/ferry-normalize-fuzz" "$seconds"
