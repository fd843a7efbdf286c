#!/usr/bin/env bash
# Builds the amd64 .deb packages and checks that they install and go away cleanly, on this
# machine (as root, or with sudo; it installs and removes the packages for real):
#   lintian without errors; systemd-analyze verify of the installed units; dpkg -i; the files,
#   the ferry user and /var/lib/ferry are there; `ferry version` and `ferry check-config` of the
#   shipped config run as the ferry user; dpkg -r keeps the config and the queue directory;
#   dpkg -P removes both.
#
#   toolchains/test-packages.sh [BUILD_DIR]   (default build, the one `make test` uses; JOBS=2)
#
# Not part of `make test`: it changes the machine. CI runs it after `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
jobs=${JOBS:-2}

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "test-packages: needs root (or sudo)" >&2; exit 1; }
  sudo="sudo"
fi
toolchains/install-deps.sh
tools=(lintian systemd dpkg-dev)
missing=()
for p in "${tools[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "test-packages: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q || true
  $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

fail() { echo "test-packages: FAILED: $*" >&2; exit 1; }
step() { echo "test-packages: $*"; }

# A stale install from an earlier, broken run would hide problems.
for p in ferry ferry-landing; do
  if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "installed\|config-files"; then
    step "purging an earlier $p"
    $sudo dpkg -P "$p" >/dev/null
  fi
done

step "building the packages in $build"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "$jobs" --target ferry ferry-landing
rm -f "$build"/*.deb
(cd "$build" && cpack -G DEB >/dev/null)
ferry_deb=$(ls "$build"/ferry_*_amd64.deb)
landing_deb=$(ls "$build"/ferry-landing_*_amd64.deb)
for deb in "$ferry_deb" "$landing_deb"; do
  step "$(basename "$deb"): Installed-Size $(dpkg-deb -f "$deb" Installed-Size) KiB," \
       "Depends: $(dpkg-deb -f "$deb" Depends)"
  dpkg-deb -c "$deb" | awk '{print "    " $1 " " $2 " " $6}'
done

step "lintian"
# Every tag is shown; errors fail the run, warnings are reported.
lintian_out=$(lintian --tag-display-limit 0 "$ferry_deb" "$landing_deb" 2>&1 || true)
echo "${lintian_out:-    (no tags)}" | sed 's/^/    /'
if echo "$lintian_out" | grep -q '^E: '; then fail "lintian reports errors"; fi

step "dpkg -i (over a /var/lib/ferry that root already made, as a \`ferry run\` by hand does)"
# Issue 14, item 8: postinst made the directory only when it was missing.
$sudo rm -rf /var/lib/ferry
$sudo install -d -m 0755 -o root -g root /var/lib/ferry
$sudo touch /var/lib/ferry/queue.db
$sudo dpkg -i "$ferry_deb" "$landing_deb"
[ "$(stat -c '%U:%G' /var/lib/ferry/queue.db)" = "ferry:ferry" ] ||
  fail "postinst left /var/lib/ferry/queue.db to $(stat -c '%U:%G' /var/lib/ferry/queue.db)"
for f in /usr/share/man/man1/ferry.1.gz /usr/share/man/man1/ferry-landing.1.gz; do
  [ -e "$f" ] || fail "$f is not installed"
done
for f in /usr/bin/ferry /usr/bin/ferry-landing /lib/systemd/system/ferry.service \
         /lib/systemd/system/ferry-landing.service /etc/ferry/ferry.json \
         /usr/share/doc/ferry/copyright /usr/share/doc/ferry/examples/ferry.schema.json; do
  [ -e "$f" ] || fail "$f is not installed"
done
getent passwd ferry >/dev/null || fail "no ferry user"
[ "$(getent passwd ferry | cut -d: -f7)" = /usr/sbin/nologin ] || fail "the ferry user has a login shell"
[ "$(stat -c '%U:%G %a' /var/lib/ferry)" = "ferry:ferry 750" ] ||
  fail "/var/lib/ferry is $(stat -c '%U:%G %a' /var/lib/ferry), expected ferry:ferry 750"
grep -qx /etc/ferry/ferry.json /var/lib/dpkg/info/ferry.conffiles || fail "ferry.json is not a conffile"

step "ferry version, check-config as the ferry user"
/usr/bin/ferry version
setpriv --reuid=ferry --regid=ferry --clear-groups /usr/bin/ferry check-config \
  --config /etc/ferry/ferry.json
/usr/bin/ferry-landing --help >/dev/null || fail "ferry-landing --help failed"

step "systemd-analyze verify"
# Checks the units as systemd would load them, with their binaries in place.
if ! out=$(systemd-analyze verify /lib/systemd/system/ferry.service \
           /lib/systemd/system/ferry-landing.service 2>&1); then
  echo "$out" | sed 's/^/    /'
  fail "systemd-analyze verify"
fi
# Everything it says about our units is a problem (it also prints notes about other units).
if echo "$out" | grep -E '^/lib/systemd/system/ferry(-landing)?\.service'; then
  fail "systemd-analyze verify complains about the units"
fi

step "reinstall (an upgrade): the edited config is kept"
echo "// edited on this gateway" | $sudo tee -a /etc/ferry/ferry.json >/dev/null
$sudo dpkg -i --force-confold "$ferry_deb" >/dev/null
grep -q "edited on this gateway" /etc/ferry/ferry.json || fail "the upgrade replaced the edited config"
getent passwd ferry >/dev/null && [ -d /var/lib/ferry ] || fail "the upgrade lost the user or /var/lib/ferry"

step "dpkg -r: config and queue directory stay"
$sudo dpkg -r ferry ferry-landing
[ ! -e /usr/bin/ferry ] || fail "/usr/bin/ferry is still there after dpkg -r"
[ ! -e /lib/systemd/system/ferry.service ] || fail "the unit is still there after dpkg -r"
[ -e /etc/ferry/ferry.json ] || fail "dpkg -r removed the conffile"
[ -d /var/lib/ferry ] || fail "dpkg -r removed /var/lib/ferry"

step "dpkg -P: config and queue directory go, the user stays"
$sudo dpkg -P ferry  # ferry-landing has no conffiles: dpkg -r removed all of it
[ ! -e /etc/ferry ] || fail "/etc/ferry is still there after dpkg -P"
[ ! -e /var/lib/ferry ] || fail "/var/lib/ferry is still there after dpkg -P"
[ ! -e /etc/systemd/system/multi-user.target.wants/ferry.service ] ||
  fail "the unit is still enabled after dpkg -P"
for p in ferry ferry-landing; do
  ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "installed\|config-files" ||
    fail "dpkg still has $p"
done

echo "test-packages: passed"
