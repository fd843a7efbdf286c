# Cross build for 32-bit ARMv7 gateways with hardware floating point (Debian armhf):
#   toolchains/cross-build.sh armhf, or
#   cmake -S . -B build-armhf -DCMAKE_TOOLCHAIN_FILE=toolchains/arm-linux-gnueabihf.cmake
set(FERRY_CROSS_TRIPLET arm-linux-gnueabihf)
set(CMAKE_SYSTEM_PROCESSOR armv7l)
set(FERRY_QEMU qemu-arm)
set(FERRY_DEB_ARCH armhf)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)
