#!/usr/bin/env bash
# Cross-builds Ferry for an ARM gateway with Debian's cross compilers and multiarch libraries,
# runs the unit tests under qemu-user, and makes the .deb packages.
#
#   toolchains/cross-build.sh arm64|armhf [CMAKE_ARG...]
#
# Installs what is missing first (as root, or with sudo): dpkg --add-architecture, apt-get
# update, the cross compiler, qemu-user and the target's -dev packages, which must have the same
# version as the host's (apt upgrades the host's where needed). Builds into build-ARCH (BUILD=...
# to change; JOBS=2 by default), then ctest (the unit tests only, under qemu) and cpack.
# Extra arguments go to cmake, e.g. -DFERRY_SIZE_OPTIMIZED=ON.
#
# Exit status: 0 built and tested; 1 failed; 3 the target's packages cannot be installed from
# the configured mirror (nothing was built; the architecture is removed again if this run added
# it and nothing of it is installed, so that apt keeps working for the host).
set -euo pipefail
cd "$(dirname "$0")/.."

arch=${1:-}
case "$arch" in
  arm64) triplet=aarch64-linux-gnu; toolchain=toolchains/aarch64-linux-gnu.cmake; qemu=qemu-aarch64 ;;
  armhf) triplet=arm-linux-gnueabihf; toolchain=toolchains/arm-linux-gnueabihf.cmake; qemu=qemu-arm ;;
  *) echo "usage: $0 arm64|armhf [CMAKE_ARG...]" >&2; exit 2 ;;
esac
shift
build=${BUILD:-build-$arch}
jobs=${JOBS:-2}

# The host's own build dependencies (cmake, header-only libraries, tzdata, ...).
toolchains/install-deps.sh

# The target's libraries: what CMakeLists.txt links (pkg_check_modules, find_package). A new
# library goes here too; the cmake step below names any that is missing. Only packages that
# Debian marks Multi-Arch: same install for two architectures at once: libsimdjson-dev is not
# (installing it for the target removes the host's), and the build treats it as optional.
packages=(
  "g++-$triplet" qemu-user dpkg-dev "pkgconf:$arch"
  "libsqlite3-dev:$arch" "libmosquitto-dev:$arch" "libzstd-dev:$arch" "libssl-dev:$arch"
  "libre2-dev:$arch" "libseccomp-dev:$arch" "libprotobuf-c-dev:$arch"
  "libcpp-httplib-dev:$arch" "libhowardhinnant-date-dev:$arch" "libcurl4-openssl-dev:$arch"
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
    sudo="sudo"
  fi
  added_arch=""
  if ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
    echo "cross-build: adding the $arch architecture to dpkg"
    $sudo dpkg --add-architecture "$arch"
    added_arch=$arch
  fi
  export DEBIAN_FRONTEND=noninteractive
  # An index that fails to download (a mirror in the middle of a sync) makes apt keep the old
  # lists of that whole suite; whether that matters shows when installing.
  $sudo apt-get update -q || echo "cross-build: apt-get update reported errors (above)"
  echo "cross-build: installing ${missing[*]}"
  if ! $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"; then
    echo "cross-build: SKIPPED: the $arch packages cannot be installed from this mirror" \
         "(apt-get install failed above; often the mirror serves the $arch lists of another" \
         "version than the host's installed -dev packages, or an index failed to download)."
    if [ -n "$added_arch" ] && [ -z "$(dpkg-query -W -f='${Package}\n' "*:$arch" 2>/dev/null)" ]; then
      echo "cross-build: removing the $arch architecture again"
      $sudo dpkg --remove-architecture "$arch"
      $sudo apt-get update -q >/dev/null 2>&1 || true
    fi
    exit 3
  fi
fi

echo "cross-build: configuring $build for $triplet"
cmake -S . -B "$build" -DCMAKE_TOOLCHAIN_FILE="$toolchain" "$@"
cmake --build "$build" -j "$jobs"

# Every program built is for the target (a host library that leaked in would fail the link).
machine=$(case $arch in arm64) echo AArch64 ;; armhf) echo ARM ;; esac)
for f in "$build"/agent/ferry "$build"/agent/ferry-landing "$build"/tests/ferry_unit_tests; do
  readelf -h "$f" | grep -Eq "Machine: +$machine\$" || {
    echo "cross-build: $f is not a $arch program: $(readelf -h "$f" | grep Machine)" >&2
    exit 1
  }
done

echo "cross-build: unit tests under $qemu"
(cd "$build" && ctest --output-on-failure)

# dpkg-shlibdeps finds the packages of the target's libraries (DEB_HOST_ARCH: which ones).
rm -f "$build"/*.deb
(cd "$build" && DEB_HOST_ARCH=$arch cpack -G DEB >/dev/null)
for deb in "$build"/*.deb; do
  echo "cross-build: $deb: Installed-Size $(dpkg-deb -f "$deb" Installed-Size) KiB;" \
       "Depends: $(dpkg-deb -f "$deb" Depends)"
done
if command -v lintian >/dev/null; then  # installed by test-packages.sh
  lintian_out=$(lintian --tag-display-limit 0 "$build"/*.deb 2>&1 || true)
  echo "${lintian_out:-(no lintian tags)}" | sed 's/^/    /'
  if echo "$lintian_out" | grep -q '^E: '; then echo "cross-build: lintian errors" >&2; exit 1; fi
fi
"${triplet}-strip" -o "$build/ferry.stripped" "$build/agent/ferry"
echo "cross-build: ferry for $arch, stripped: $(stat -c %s "$build/ferry.stripped") bytes"
