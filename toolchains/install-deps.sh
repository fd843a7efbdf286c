#!/usr/bin/env bash
# Installs what Ferry needs to build, test and run its demo, from Debian's packages, when any of
# it is missing. Safe to run again: it does nothing when everything is there.
# Usage: toolchains/install-deps.sh [--check]   (--check: only report what is missing)
set -euo pipefail

packages=(
  build-essential cmake pkg-config git
  libsqlite3-dev libmosquitto-dev libzstd-dev libcpp-httplib-dev libssl-dev libcurl4-openssl-dev
  nlohmann-json3-dev doctest-dev libsimdjson-dev libre2-dev libseccomp-dev
  libprotobuf-c-dev protobuf-c-compiler
  bubblewrap  # the transforms' sandbox (platform/sandbox.cc); its tests run it
  lua5.4 lua-cjson  # the Lua example transform (config/examples/transforms/) and its test
  libhowardhinnant-date-dev tzdata
  clang libclang-rt-14-dev libfuzzer-14-dev
  mosquitto zstd python3 curl ca-certificates openssl
  chromium  # tests/integration/test_status_page.py drives the status page in headless Chromium
  haproxy faketime
)

# The S3 tests' npm packages (s3rver, DuckDB), locked in tests/s3/package-lock.json. Node.js
# and npm come with the machine (they are not taken from Debian here).
install_node_modules() {
  local dir
  dir="$(dirname "$0")/../tests/s3"
  if [ -d "$dir/node_modules/s3rver" ] && [ -d "$dir/node_modules/@duckdb/node-api" ]; then
    return 0
  fi
  if ! command -v npm >/dev/null; then
    echo "npm not found: the S3 tests will be skipped (they need s3rver and DuckDB from npm)"
    return 0
  fi
  if [ "${1:-}" = "--check" ]; then
    echo "missing: npm packages of tests/s3 (npm ci)"
    return 0
  fi
  # npm 11's `npm ci` refuses this lock file (it wants DuckDB's bindings for every platform
  # listed, which `npm install` does not write): fall back to an install that leaves the lock
  # file as it is.
  (cd "$dir" && { npm ci --no-audit --no-fund 2>/dev/null ||
    npm install --no-audit --no-fund --no-save; })
}
install_node_modules "${1:-}"

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "${1:-}" = "--check" ]; then
  echo "missing packages: ${missing[*]}"
  exit 1
fi

echo "installing: ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
# The broker package starts a system mosquitto on port 1883 where systemd runs; Ferry's demo
# and tests start their own brokers on free ports and do not need it.
