# The C libraries Fulcrum links that ship no CMake package on Debian (xxHash, liburing, c-ares):
# found by name and wrapped in imported targets, fulcrum::xxhash, fulcrum::uring and
# fulcrum::cares. The build includes this file, and so does the installed package
# (fulcrum-config.cmake), so that a program linking the static libfulcrum.a finds them the same way.
# Sets FULCRUM_SYSTEM_LIBRARIES_MISSING to the names of those not found.

set(FULCRUM_SYSTEM_LIBRARIES_MISSING "")

# fulcrum_import_system_library(<name> <library> [<header>]): fulcrum::<name>, an imported target for
# lib<library> (and the directory of <header>, when given).
function(fulcrum_import_system_library name library)
  if(TARGET fulcrum::${name})
    return()
  endif()
  find_library(FULCRUM_${name}_LIBRARY NAMES ${library})
  set(header_dir "")
  if(ARGC GREATER 2)
    find_path(FULCRUM_${name}_INCLUDE_DIR NAMES ${ARGV2})
    set(header_dir "${FULCRUM_${name}_INCLUDE_DIR}")
  endif()
  if(NOT FULCRUM_${name}_LIBRARY OR header_dir MATCHES "NOTFOUND$")
    set(FULCRUM_SYSTEM_LIBRARIES_MISSING ${FULCRUM_SYSTEM_LIBRARIES_MISSING} lib${library} PARENT_SCOPE)
    return()
  endif()
  add_library(fulcrum::${name} UNKNOWN IMPORTED)
  set_target_properties(fulcrum::${name} PROPERTIES IMPORTED_LOCATION "${FULCRUM_${name}_LIBRARY}")
  if(header_dir)
    set_target_properties(fulcrum::${name} PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${header_dir}")
  endif()
endfunction()

fulcrum_import_system_library(xxhash xxhash xxhash.h)
fulcrum_import_system_library(uring uring liburing.h)
fulcrum_import_system_library(cares cares ares.h)
