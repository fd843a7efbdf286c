# FERRY_SIZE_OPTIMIZED=ON: the smallest binaries for gateways with little flash. Included from
# the top CMakeLists.txt before the libraries are declared, so that every target gets it.
#   -Os, one section per function and object so that the linker drops what nothing uses,
#   link-time optimization where the compiler supports it, and stripped binaries on install
#   (cmake --install, and the .deb packages, which are stripped in any build).
add_compile_options(-Os -ffunction-sections -fdata-sections)
# -Os again at link time: with LTO the code is generated there.
add_link_options(-Os -Wl,--gc-sections -Wl,--as-needed)

include(CheckIPOSupported)
check_ipo_supported(RESULT FERRY_LTO_SUPPORTED OUTPUT FERRY_LTO_ERROR LANGUAGES CXX)
if(FERRY_LTO_SUPPORTED)
  set(CMAKE_INTERPROCEDURAL_OPTIMIZATION ON)
  message(STATUS "FERRY_SIZE_OPTIMIZED: -Os, section garbage collection, LTO")
else()
  message(STATUS "FERRY_SIZE_OPTIMIZED: -Os, section garbage collection; no LTO: ${FERRY_LTO_ERROR}")
endif()

# Every install rule after this one strips what it installs (as `cmake --install --strip`).
install(CODE "set(CMAKE_INSTALL_DO_STRIP TRUE)")
