# Shared part of the cross toolchain files (aarch64-linux-gnu.cmake, arm-linux-gnueabihf.cmake):
# Debian's cross compilers (g++-<triplet>) and multiarch libraries (libsqlite3-dev:arm64, ...),
# installed by toolchains/cross-build.sh. The includer sets FERRY_CROSS_TRIPLET,
# CMAKE_SYSTEM_PROCESSOR and FERRY_QEMU.
#
# Multiarch means the target's sysroot is / itself: headers in /usr/include (shared with the
# host), libraries in /usr/lib/<triplet>. What keeps host libraries out is the triplet: the
# target's pkg-config (<triplet>-pkg-config, from pkgconf:<arch>) only looks in
# /usr/lib/<triplet>/pkgconfig, find_package() in /usr/lib/<triplet>/cmake, and the cross
# linker in /usr/lib/<triplet>.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_C_COMPILER ${FERRY_CROSS_TRIPLET}-gcc)
set(CMAKE_CXX_COMPILER ${FERRY_CROSS_TRIPLET}-g++)
set(CMAKE_LIBRARY_ARCHITECTURE ${FERRY_CROSS_TRIPLET})

find_program(FERRY_CROSS_PKG_CONFIG ${FERRY_CROSS_TRIPLET}-pkg-config)
if(NOT FERRY_CROSS_PKG_CONFIG)
  message(FATAL_ERROR "${FERRY_CROSS_TRIPLET}-pkg-config not found: install pkgconf for the "
                      "target architecture (toolchains/cross-build.sh does)")
endif()
set(PKG_CONFIG_EXECUTABLE ${FERRY_CROSS_PKG_CONFIG} CACHE FILEPATH "the target's pkg-config")

# ctest runs the target's test binaries under qemu-user, with the target's own dynamic loader
# and libc from the multiarch libc6:<arch> (/lib/ld-linux-*.so, /lib/<triplet>), which the -dev
# packages pull in. Not `-L /usr/<triplet>`: that would pair the cross toolchain's loader
# (libc6-<arch>-cross, another glibc build) with the multiarch libc.so.6 that the host's
# ld.so.cache points to, and the unit tests hang in their first test with threads.
# Paths (the test data, FERRY_SOURCE_DIR) are the host's, as qemu-user shares the filesystem.
find_program(FERRY_QEMU_PROGRAM ${FERRY_QEMU})
if(FERRY_QEMU_PROGRAM)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${FERRY_QEMU_PROGRAM})
endif()
