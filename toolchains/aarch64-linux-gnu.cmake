# Cross build for 64-bit ARM gateways (Debian arm64): toolchains/cross-build.sh arm64, or
#   cmake -S . -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=toolchains/aarch64-linux-gnu.cmake
set(FERRY_CROSS_TRIPLET aarch64-linux-gnu)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(FERRY_QEMU qemu-aarch64)
set(FERRY_DEB_ARCH arm64)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)
