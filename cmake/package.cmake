# `cpack -G DEB` (or `make deb`): two Debian packages from the install rules (cmake/install.cmake).
#   fulcrum      the daemon: /usr/bin/fulcrum, the man page, the systemd unit, the sample config
#                /etc/fulcrum/fulcrum.yaml (a conffile), and a `fulcrum` system user created at
#                install and removed on purge (dist/debian/postinst, postrm).
#   fulcrum-dev  the library for programs that embed Fulcrum.
# Included from CMakeLists.txt.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME fulcrum)
set(CPACK_PACKAGE_VENDOR "Fulcrum")
set(CPACK_PACKAGE_CONTACT "Fulcrum maintainers <fulcrum@localhost>")
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_PACKAGE_DIRECTORY ${PROJECT_BINARY_DIR}/packages)

set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL runtime dev)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # fulcrum_0.1.0_amd64.deb
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)

set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME fulcrum)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SHLIBDEPS ON)  # dpkg-shlibdeps (dpkg-dev) names the shared libraries
set(CPACK_DEBIAN_RUNTIME_PACKAGE_DEPENDS "adduser")
# Each package's description: its summary line, then the long text (CPACK_PACKAGE_DESCRIPTION_SUMMARY
# is left unset: CPack would put it first in both).
set(CPACK_DEBIAN_RUNTIME_DESCRIPTION
    "TCP and HTTP load balancer and reverse proxy\nFulcrum balances TCP connections and HTTP/1.1 requests over pools of backends,\nwith health checks, live pools, config reload, an admin API and a dashboard.")
# Maintainer scripts and the conffile list, with the modes dpkg expects.
set(FULCRUM_DEBIAN_CONTROL_DIR ${PROJECT_BINARY_DIR}/debian-control)
foreach(script postinst prerm postrm)  # configure_file: an edited script reconfigures the build
  configure_file(${PROJECT_SOURCE_DIR}/dist/debian/${script} ${FULCRUM_DEBIAN_CONTROL_DIR}/${script} COPYONLY
                 FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
endforeach()
file(WRITE ${FULCRUM_DEBIAN_CONTROL_DIR}/conffiles "/etc/fulcrum/fulcrum.yaml\n")
set(CPACK_DEBIAN_RUNTIME_PACKAGE_CONTROL_EXTRA
    ${FULCRUM_DEBIAN_CONTROL_DIR}/postinst ${FULCRUM_DEBIAN_CONTROL_DIR}/prerm
    ${FULCRUM_DEBIAN_CONTROL_DIR}/postrm ${FULCRUM_DEBIAN_CONTROL_DIR}/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)

set(CPACK_DEBIAN_DEV_PACKAGE_NAME fulcrum-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS
    "libyaml-cpp-dev, libspdlog-dev, libcurl4-openssl-dev | libcurl-dev, liburing-dev, libc-ares-dev, libxxhash-dev, pkg-config")
set(CPACK_DEBIAN_DEV_DESCRIPTION
    "Fulcrum load balancer as a C++20 library\nHeaders, static library, CMake package and pkg-config file for programs that\nembed a Fulcrum balancer: find_package(fulcrum) gives the target fulcrum::fulcrum.")

include(CPack)
