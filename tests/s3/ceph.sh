#!/usr/bin/env bash
# A one-node Ceph cluster with a RADOS Gateway on loopback, for Ferry's S3 tests against a store
# that verifies SigV4 signatures (s3rver does not). What Ceph's own vstart.sh does, cut down:
# one mon (msgr v2 and v1 on 127.0.0.1), one mgr, one OSD (memstore by default: all in memory,
# nothing to format; FERRY_CEPH_OBJECTSTORE=bluestore puts it on a file instead), pools of size
# 1, cephx with keys generated at start, and radosgw's beast frontend on 127.0.0.1. Ports are
# chosen at run time; everything lives in one directory.
#
#   tests/s3/ceph.sh install          apt-get install ceph-mon ceph-osd ceph-mgr radosgw (root)
#   tests/s3/ceph.sh start DIR        start the cluster in DIR (made; must not hold one), create
#                                     an S3 user, print FERRY_S3_* lines for `eval` / `source`
#   tests/s3/ceph.sh stop DIR         kill everything started in DIR and remove DIR
#   tests/s3/ceph.sh test [DIR]       install, start, run Ferry's S3 integration tests against it,
#                                     stop; exit status of the tests (what CI runs)
#
# Needs Debian's ceph packages (bookworm: Pacific 16.2) and python3; start/stop as root or as a
# user who may run the daemons (they do not switch users).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SOURCE_DIR=$(cd "$HERE/../.." && pwd)
ACCESS_KEY=${FERRY_CEPH_ACCESS_KEY:-FERRYCEPHACCESSKEY01}
SECRET_KEY=${FERRY_CEPH_SECRET_KEY:-ferry-ceph-secret-key-for-tests-only-0001}
OBJECTSTORE=${FERRY_CEPH_OBJECTSTORE:-memstore}

say() { echo "ceph.sh: $*" >&2; }
die() { say "$*"; exit 1; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Waits up to $1 seconds for command $2... to succeed.
wait_until() {
  local limit=$1 start=$SECONDS
  shift
  until "$@" >/dev/null 2>&1; do
    if [ $((SECONDS - start)) -ge "$limit" ]; then return 1; fi
    sleep 0.5
  done
}

cmd_install() {
  local need=()
  command -v ceph-mon >/dev/null || need+=(ceph-mon)
  command -v ceph-osd >/dev/null || need+=(ceph-osd)
  command -v ceph-mgr >/dev/null || need+=(ceph-mgr)
  command -v radosgw >/dev/null || need+=(radosgw)
  command -v radosgw-admin >/dev/null || need+=(radosgw)
  [ ${#need[@]} -eq 0 ] && return 0
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  say "installing ${need[*]}"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
    -o DPkg::Lock::Timeout=600 --no-install-recommends "${need[@]}" >&2
}

ceph_() { timeout 60 ceph -c "$DIR/ceph.conf" "$@"; }

cmd_start() {
  DIR=$1
  [ -e "$DIR/ceph.conf" ] && die "$DIR already holds a cluster (ceph.sh stop $DIR first)"
  mkdir -p "$DIR"
  DIR=$(cd "$DIR" && pwd)
  mkdir -p "$DIR"/{run,log,mon,osd,rgw}
  local fsid mon2 mon1 rgw_port osd_uuid
  fsid=$(python3 -c 'import uuid; print(uuid.uuid4())')
  osd_uuid=$(python3 -c 'import uuid; print(uuid.uuid4())')
  mon2=$(free_port)
  mon1=$(free_port)
  rgw_port=$(free_port)
  cat >"$DIR/ceph.conf" <<EOF
[global]
fsid = $fsid
mon host = [v2:127.0.0.1:$mon2,v1:127.0.0.1:$mon1]
public network = 127.0.0.1/32
ms bind ipv6 = false
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
auth allow insecure global id reclaim = false
keyring = $DIR/keyring
run dir = $DIR/run
admin socket = $DIR/run/\$name.asok
pid file = $DIR/run/\$name.pid
log file = $DIR/log/\$name.log
crash dir = $DIR/crash
mon data = $DIR/mon/\$name
osd data = $DIR/osd/\$name
mgr data = $DIR/mgr/\$name
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon max pg per osd = 1000
mon warn on pool no redundancy = false
mon data avail warn = 2
mon data avail crit = 1
debug ms = 0
log to stderr = false
err to stderr = false
mgr initial modules =

[mon]
mon cluster log file = $DIR/log/cluster.log

[osd]
osd objectstore = $OBJECTSTORE
osd memory target = 939524096
osd memory cache min = 67108864
memstore device bytes = 2147483648
bluestore block path = $DIR/osd/\$name.block
bluestore block create = true
bluestore block size = 4294967296
bluestore fsck on mount = false
bluestore cache autotune = false
bluestore cache size = 134217728
osd op num shards = 1
osd op num threads per shard = 2
osd check max object name len on startup = false

[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:$rgw_port
rgw data = $DIR/rgw
rgw thread pool size = 64
rgw dns name = localhost
rgw enable usage log = false
rgw gc processor period = 3600
rgw lc debug interval = -1
EOF
  # cephx with keys made here, one keyring for every daemon and client of the cluster.
  local name caps
  ceph-authtool --create-keyring "$DIR/keyring" >/dev/null
  while read -r name caps; do
    eval "ceph-authtool '$DIR/keyring' --gen-key -n '$name' $caps" >/dev/null
  done <<'KEYS'
mon. --cap mon 'allow *'
client.admin --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' --cap mds 'allow *'
mgr.x --cap mon 'allow profile mgr' --cap osd 'allow *' --cap mds 'allow *'
osd.0 --cap mon 'allow profile osd' --cap mgr 'allow profile osd' --cap osd 'allow *'
client.rgw --cap mon 'allow rw' --cap osd 'allow rwx' --cap mgr 'allow rw'
KEYS
  echo "$rgw_port" >"$DIR/rgw.port"
  local t0=$SECONDS

  # Monitor.
  monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$mon2,v1:127.0.0.1:$mon1]" \
    "$DIR/monmap" >/dev/null
  ceph-mon -c "$DIR/ceph.conf" -i a --mkfs --monmap "$DIR/monmap" --keyring "$DIR/keyring" >"$DIR/log/mkfs-mon.log" 2>&1 ||
    { cat "$DIR/log/mkfs-mon.log" >&2; die "ceph-mon --mkfs failed"; }
  ceph-mon -c "$DIR/ceph.conf" -i a || die "ceph-mon did not start: see $DIR/log/mon.a.log"
  wait_until 60 ceph_ mon stat || die "the monitor does not answer: see $DIR/log/mon.a.log"
  ceph_ auth import -i "$DIR/keyring" >/dev/null 2>&1 || die "ceph auth import failed"
  say "mon up after $((SECONDS - t0)) s (v2 $mon2, v1 $mon1)"

  # Manager: only the modules that are always on (no dashboard, no prometheus).
  mkdir -p "$DIR/mgr/mgr.x"
  ceph-mgr -c "$DIR/ceph.conf" -i x || die "ceph-mgr did not start: see $DIR/log/mgr.x.log"

  # One OSD.
  local id
  id=$(ceph_ osd new "$osd_uuid")
  [ "$id" = 0 ] || die "ceph osd new gave id '$id', not 0"
  mkdir -p "$DIR/osd/osd.0"
  ceph-osd -c "$DIR/ceph.conf" -i 0 --mkfs --osd-uuid "$osd_uuid" >"$DIR/log/mkfs-osd.log" 2>&1 ||
    { cat "$DIR/log/mkfs-osd.log" >&2; die "ceph-osd --mkfs failed"; }
  ceph-osd -c "$DIR/ceph.conf" -i 0 || die "ceph-osd did not start: see $DIR/log/osd.0.log"
  wait_until 90 sh -c "ceph -c '$DIR/ceph.conf' osd dump 2>/dev/null | grep -q '^osd.0 up'" ||
    die "osd.0 is not up: see $DIR/log/osd.0.log"
  say "osd.0 ($OBJECTSTORE) up after $((SECONDS - t0)) s"

  # RADOS Gateway; it makes its pools (8 PGs each, size 1) when it first starts.
  radosgw -c "$DIR/ceph.conf" -n client.rgw || die "radosgw did not start: see $DIR/log/client.rgw.log"
  wait_until 120 python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$rgw_port" ||
    die "radosgw does not answer on 127.0.0.1:$rgw_port: see $DIR/log/client.rgw.log"
  radosgw-admin -c "$DIR/ceph.conf" user create --uid ferry --display-name "Ferry tests" \
    --access-key "$ACCESS_KEY" --secret-key "$SECRET_KEY" >"$DIR/log/user-create.json" 2>&1 ||
    { cat "$DIR/log/user-create.json" >&2; die "radosgw-admin user create failed"; }
  say "radosgw up on 127.0.0.1:$rgw_port after $((SECONDS - t0)) s; user ferry created"
  cat <<EOF
FERRY_S3_ENDPOINT=http://127.0.0.1:$rgw_port
FERRY_S3_ACCESS_KEY=$ACCESS_KEY
FERRY_S3_SECRET_KEY=$SECRET_KEY
FERRY_S3_REGION=default
FERRY_S3_STORE=ceph-radosgw
export FERRY_S3_ENDPOINT FERRY_S3_ACCESS_KEY FERRY_S3_SECRET_KEY FERRY_S3_REGION FERRY_S3_STORE
EOF
}

cmd_stop() {
  DIR=$1
  [ -d "$DIR" ] || return 0
  [ -e "$DIR/ceph.conf" ] || die "$DIR holds no cluster of ceph.sh (no ceph.conf): not removed"
  local pidfile pid
  for pidfile in "$DIR"/run/*.pid; do
    [ -e "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    # Only a process of this cluster: its command line names this ceph.conf.
    if [ -n "$pid" ] && tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF "$DIR/ceph.conf"; then
      kill -9 "$pid" 2>/dev/null || true
    fi
  done
  # Daemons that had not written their pid file yet.
  local p
  for p in /proc/[0-9]*; do
    if tr '\0' ' ' 2>/dev/null <"$p/cmdline" | grep -qF -- "-c $DIR/ceph.conf"; then
      kill -9 "${p#/proc/}" 2>/dev/null || true
    fi
  done
  sleep 0.2
  rm -rf "$DIR"
}

TEST_DIR=
cmd_test() {
  local rc=0 t0=$SECONDS
  TEST_DIR=${1:-}
  if [ -z "$TEST_DIR" ]; then
    TEST_DIR=$(mktemp -d /tmp/ferry-ceph.XXXXXX)
    rmdir "$TEST_DIR"
  fi
  cmd_install
  say "install done after $((SECONDS - t0)) s"
  trap 'cmd_stop "$TEST_DIR"' EXIT
  trap 'exit 143' TERM INT  # so that the EXIT trap stops the cluster (after the test running)
  local env
  env=$(cmd_start "$TEST_DIR") || return 1
  eval "$env"
  # The programs of the build the README's `make test` made, as ctest gives them.
  export FERRY_BIN_DIR=${FERRY_BIN_DIR:-$SOURCE_DIR/build} FERRY_SOURCE_DIR=$SOURCE_DIR
  say "cluster up after $((SECONDS - t0)) s; running the S3 tests against $FERRY_S3_ENDPOINT"
  local t
  for t in test_s3_landing test_s3_upstream test_s3_upstream_errors test_s3_scale_out; do
    local ts=$SECONDS trc=0
    timeout 300 python3 "$SOURCE_DIR/tests/integration/$t.py" || trc=$?
    if [ $trc -eq 0 ]; then
      say "$t passed in $((SECONDS - ts)) s"
    elif [ $trc -eq 77 ]; then
      say "$t SKIPPED"
    else
      say "$t FAILED (exit $trc) after $((SECONDS - ts)) s"
      rc=1
    fi
  done
  say "all done after $((SECONDS - t0)) s"
  return $rc
}

case "${1:-}" in
  install) cmd_install ;;
  start) [ $# -eq 2 ] || die "usage: $0 start DIR"; cmd_start "$2" ;;
  stop) [ $# -eq 2 ] || die "usage: $0 stop DIR"; cmd_stop "$2" ;;
  test) cmd_test "${2:-}" ;;
  *) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
