# `cmake --install`: the daemon and its files (component `runtime`), and the library for programs
# that embed Fulcrum (component `dev`): headers, libfulcrum.a, the CMake package
# (find_package(fulcrum) -> fulcrum::fulcrum) and fulcrum.pc. Included from CMakeLists.txt.
#
#   runtime  bin/fulcrum, share/man/man1/fulcrum.1, lib/systemd/system/fulcrum.service (with this
#            prefix's paths), share/doc/fulcrum/ (LICENSE, the same as copyright, README.md), and
#            the sample config fulcrum.yaml in /etc/fulcrum/ when the prefix is /usr (as in the
#            Debian package), PREFIX/etc/fulcrum/ otherwise; an existing config there is kept.
#   dev      include/fulcrum/*.h, lib/libfulcrum.a, lib/cmake/fulcrum/, lib/pkgconfig/fulcrum.pc
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS fulcrum RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)
install(FILES ${PROJECT_SOURCE_DIR}/docs/fulcrum.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT runtime)
install(FILES ${PROJECT_SOURCE_DIR}/LICENSE ${PROJECT_SOURCE_DIR}/README.md
        DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT runtime)
# Where Debian looks for a package's licence.
install(FILES ${PROJECT_SOURCE_DIR}/LICENSE DESTINATION ${CMAKE_INSTALL_DOCDIR} RENAME copyright COMPONENT runtime)
# The sample config and the systemd unit. The config's directory is decided at install time, from
# the prefix then in force (`cmake --install --prefix`, or /usr under cpack), by GNUInstallDirs'
# rule for sysconfdir. The unit names /usr/bin/fulcrum and /etc/fulcrum/: under another prefix it
# is installed with that prefix's paths instead. lib/, not the multiarch libdir: systemd reads
# PREFIX/lib/systemd/system for /usr and /usr/local.
install(CODE "
  if(CMAKE_INSTALL_PREFIX STREQUAL \"/usr\")
    set(fulcrum_confdir /etc/fulcrum)
  elseif(CMAKE_INSTALL_PREFIX MATCHES \"^/opt/\")
    set(fulcrum_confdir \"/etc\${CMAKE_INSTALL_PREFIX}/fulcrum\")
  else()
    set(fulcrum_confdir \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_SYSCONFDIR}/fulcrum\")
  endif()
  if(EXISTS \"\$ENV{DESTDIR}\${fulcrum_confdir}/fulcrum.yaml\")
    message(STATUS \"Keeping: \$ENV{DESTDIR}\${fulcrum_confdir}/fulcrum.yaml\")
  else()
    file(INSTALL DESTINATION \"\${fulcrum_confdir}\" TYPE FILE FILES \"${PROJECT_SOURCE_DIR}/fulcrum.yaml\")
  endif()

  file(READ \"${PROJECT_SOURCE_DIR}/dist/fulcrum.service\" fulcrum_unit)
  string(REPLACE \"/usr/bin/fulcrum\" \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}/fulcrum\" fulcrum_unit \"\${fulcrum_unit}\")
  string(REPLACE \"/etc/fulcrum/\" \"\${fulcrum_confdir}/\" fulcrum_unit \"\${fulcrum_unit}\")
  file(WRITE \"${PROJECT_BINARY_DIR}/unit/fulcrum.service\" \"\${fulcrum_unit}\")
  file(INSTALL DESTINATION \"\${CMAKE_INSTALL_PREFIX}/lib/systemd/system\" TYPE FILE
       FILES \"${PROJECT_BINARY_DIR}/unit/fulcrum.service\")
" COMPONENT runtime)

install(TARGETS fulcrum_lib EXPORT fulcrum-targets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/fulcrum DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev)

set(FULCRUM_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/fulcrum)
install(EXPORT fulcrum-targets NAMESPACE fulcrum:: DESTINATION ${FULCRUM_CMAKE_DIR} COMPONENT dev)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/fulcrum-config.cmake.in
                              ${PROJECT_BINARY_DIR}/fulcrum-config.cmake
                              INSTALL_DESTINATION ${FULCRUM_CMAKE_DIR})
# 0.x: a minor version may change the API, so only the same minor version is compatible.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/fulcrum-config-version.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/fulcrum-config.cmake ${PROJECT_BINARY_DIR}/fulcrum-config-version.cmake
        DESTINATION ${FULCRUM_CMAKE_DIR} COMPONENT dev)
install(FILES ${PROJECT_SOURCE_DIR}/cmake/system_libraries.cmake
        DESTINATION ${FULCRUM_CMAKE_DIR} RENAME fulcrum-system-libraries.cmake COMPONENT dev)

# fulcrum.pc finds the prefix from its own directory, so the install can be moved (--prefix).
file(RELATIVE_PATH FULCRUM_PC_RELATIVE_PREFIX /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
configure_file(${PROJECT_SOURCE_DIR}/cmake/fulcrum.pc.in ${PROJECT_BINARY_DIR}/fulcrum.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/fulcrum.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT dev)
