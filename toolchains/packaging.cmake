# Debian packages, made by CPack (`cpack -G DEB` in a build directory) for the architecture
# being built: amd64 natively, arm64 and armhf with the toolchain files here.
#   ferry          the agent in /usr/bin, its systemd unit, /etc/ferry/ferry.json (a conffile),
#                  maintainer scripts for the ferry system user and /var/lib/ferry (debian/ferry)
#   ferry-landing  the reference landing-zone receiver and a minimal unit (not enabled)
# These files are installed only into the packages (EXCLUDE_FROM_ALL): `cmake --install` puts
# just the two programs under its prefix. Depends come from dpkg-shlibdeps, which for a cross
# build reads the target's multiarch libraries (cross-build.sh sets DEB_HOST_ARCH);
# -DFERRY_DEB_DEPENDS="..." replaces them with a fixed list where that cannot work.
set(FERRY_DEBIAN_DIR ${CMAKE_CURRENT_LIST_DIR}/debian)

# --- What goes where ---
install(TARGETS ferry RUNTIME DESTINATION bin COMPONENT ferry EXCLUDE_FROM_ALL)
install(FILES config/ferry.service DESTINATION /lib/systemd/system COMPONENT ferry EXCLUDE_FROM_ALL)
install(FILES config/ferry.json DESTINATION /etc/ferry COMPONENT ferry EXCLUDE_FROM_ALL)
install(FILES config/ferry.schema.json config/minimal.json config/mosquitto.conf
        DESTINATION share/doc/ferry/examples COMPONENT ferry EXCLUDE_FROM_ALL)
install(DIRECTORY config/examples/ DESTINATION share/doc/ferry/examples/devices
        COMPONENT ferry EXCLUDE_FROM_ALL)
install(TARGETS ferry-landing RUNTIME DESTINATION bin COMPONENT landing EXCLUDE_FROM_ALL)
install(FILES config/ferry-landing.service DESTINATION /lib/systemd/system
        COMPONENT landing EXCLUDE_FROM_ALL)

# Each package's /usr/share/doc: copyright, and a changelog in Debian's format (gzip -n: no
# timestamp, so the same sources make the same package).
execute_process(COMMAND git log -1 --format=%aD WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
                OUTPUT_VARIABLE FERRY_DEB_DATE OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT FERRY_DEB_DATE)
  set(FERRY_DEB_DATE "Thu, 01 Jan 2026 00:00:00 +0000")
endif()
set(CPACK_PACKAGE_CONTACT "Ferry maintainers <ferry@example.org>")
find_program(FERRY_GZIP gzip REQUIRED)
function(ferry_deb_docs component package)
  set(FERRY_DEB_PACKAGE ${package})
  set(doc ${CMAKE_BINARY_DIR}/debian/${package})
  configure_file(${FERRY_DEBIAN_DIR}/changelog.in ${doc}/changelog @ONLY)
  execute_process(COMMAND ${FERRY_GZIP} -9nfk ${doc}/changelog COMMAND_ERROR_IS_FATAL ANY)
  install(FILES ${doc}/changelog.gz ${FERRY_DEBIAN_DIR}/copyright
          DESTINATION share/doc/${package} COMPONENT ${component} EXCLUDE_FROM_ALL)
endfunction()
ferry_deb_docs(ferry ferry)
ferry_deb_docs(landing ferry-landing)
install(FILES README.md DESTINATION share/doc/ferry COMPONENT ferry EXCLUDE_FROM_ALL)

# Man pages, compressed as Debian wants them (gzip -n: reproducible).
foreach(page ferry:ferry landing:ferry-landing)
  string(REPLACE ":" ";" parts ${page})
  list(GET parts 0 component)
  list(GET parts 1 name)
  set(man ${CMAKE_BINARY_DIR}/debian/man/${name}.1)
  configure_file(${FERRY_DEBIAN_DIR}/man/${name}.1 ${man} COPYONLY)
  execute_process(COMMAND ${FERRY_GZIP} -9nf ${man} COMMAND_ERROR_IS_FATAL ANY)
  install(FILES ${man}.gz DESTINATION share/man/man1 COMPONENT ${component} EXCLUDE_FROM_ALL)
endforeach()

# --- The packages ---
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME ferry)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "Ferry")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL ferry landing)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
if(FERRY_DEB_ARCH)  # set by the cross toolchain files
  set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE ${FERRY_DEB_ARCH})
endif()

# The libraries' packages: from dpkg-shlibdeps, or this list when it is set.
set(FERRY_DEB_DEPENDS "" CACHE STRING
    "Library Depends of both packages instead of dpkg-shlibdeps' (\"libc6 (>= 2.34), ...\")")
if(FERRY_DEB_DEPENDS)
  set(CPACK_DEBIAN_PACKAGE_DEPENDS "${FERRY_DEB_DEPENDS}")
  set(CPACK_DEBIAN_FERRY_PACKAGE_DEPENDS "adduser, ${FERRY_DEB_DEPENDS}")
else()
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
  set(CPACK_DEBIAN_FERRY_PACKAGE_DEPENDS adduser)  # shlibdeps' list is appended
endif()

set(CPACK_DEBIAN_FERRY_PACKAGE_NAME ferry)
set(CPACK_DEBIAN_FERRY_PACKAGE_SUGGESTS mosquitto)
# bubblewrap runs the transforms' sandbox; without it a route with a transform is refused unless
# the transform says "sandbox": "none".
# libcurl is loaded only when an S3 upstream is used (agent/s3/curl_loader.h), so
# dpkg-shlibdeps does not see it.
set(CPACK_DEBIAN_FERRY_PACKAGE_RECOMMENDS "bubblewrap, libcurl4")
set(CPACK_DEBIAN_FERRY_PACKAGE_CONTROL_EXTRA
    ${FERRY_DEBIAN_DIR}/ferry/postinst ${FERRY_DEBIAN_DIR}/ferry/prerm
    ${FERRY_DEBIAN_DIR}/ferry/postrm ${FERRY_DEBIAN_DIR}/ferry/conffiles)
# Synopsis, then the extended description (lines of at most 79 characters).
string(JOIN "\n" CPACK_COMPONENT_FERRY_DESCRIPTION
       "edge agent forwarding MQTT telemetry to a landing zone"
       "Ferry subscribes to the MQTT broker on a gateway, turns each message into a"
       "record, keeps it in a SQLite disk queue and forwards zstd-compressed NDJSON"
       "batches over HTTP(S). It acknowledges a message only once it is on disk and"
       "never sends duplicates.")

set(CPACK_DEBIAN_LANDING_PACKAGE_NAME ferry-landing)
set(CPACK_DEBIAN_LANDING_PACKAGE_RECOMMENDS libcurl4)  # for an S3 bucket store, loaded then
string(JOIN "\n" CPACK_COMPONENT_LANDING_DESCRIPTION
       "reference landing-zone receiver for Ferry"
       "ferry-landing accepts Ferry's batches over HTTP, checks their headers and"
       "lines, and writes each batch atomically and durably to a directory, once per"
       "idempotency key.")

include(CPack)
