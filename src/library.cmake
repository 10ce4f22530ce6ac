# libtether: one object library compiled once, packaged as static and shared.
file(GLOB TETHER_LIB_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/*.c)

add_library(tether_obj OBJECT ${TETHER_LIB_SOURCES})
target_include_directories(tether_obj PUBLIC ${CMAKE_SOURCE_DIR}/include)
target_link_libraries(tether_obj PRIVATE tether_warnings)
# -fexceptions: a handler may leave by a C++ exception, pthread_exit or
# cancellation; the library's cleanups (read sections, frames, batches) then run
# as the stack unwinds through it.
target_compile_options(tether_obj PRIVATE -fvisibility=hidden -fexceptions)
target_compile_definitions(tether_obj PRIVATE TETHER_BUILDING=1)
# tether_version(): the project's version, checked against the header's macros.
set_property(SOURCE ${CMAKE_SOURCE_DIR}/src/version.c APPEND PROPERTY COMPILE_DEFINITIONS
  TETHER_BUILD_VERSION="${PROJECT_VERSION}" TETHER_BUILD_VERSION_MAJOR=${PROJECT_VERSION_MAJOR}
  TETHER_BUILD_VERSION_MINOR=${PROJECT_VERSION_MINOR} TETHER_BUILD_VERSION_PATCH=${PROJECT_VERSION_PATCH})

add_library(tether_static STATIC $<TARGET_OBJECTS:tether_obj>)
set_target_properties(tether_static PROPERTIES OUTPUT_NAME tether)
target_include_directories(tether_static PUBLIC
  $<BUILD_INTERFACE:${CMAKE_SOURCE_DIR}/include> $<INSTALL_INTERFACE:include>)
target_link_libraries(tether_static PUBLIC Threads::Threads)

add_library(tether_shared SHARED $<TARGET_OBJECTS:tether_obj>)
# The soname's number: bumped on every incompatible ABI change (scripts/abi.sh
# checks against abi/), with the package name libtetherN in debian/control.
set(TETHER_SOVERSION 0)
set_target_properties(tether_shared PROPERTIES OUTPUT_NAME tether
  VERSION ${PROJECT_VERSION} SOVERSION ${TETHER_SOVERSION})
# Only tether_* is exported, under the version node TETHER_0.1.
target_link_options(tether_shared PRIVATE -Wl,--version-script=${CMAKE_SOURCE_DIR}/src/tether.map)
set_property(TARGET tether_shared APPEND PROPERTY LINK_DEPENDS ${CMAKE_SOURCE_DIR}/src/tether.map)
target_include_directories(tether_shared PUBLIC
  $<BUILD_INTERFACE:${CMAKE_SOURCE_DIR}/include> $<INSTALL_INTERFACE:include>)
target_link_libraries(tether_shared PUBLIC Threads::Threads)

include(GNUInstallDirs)
configure_file(${CMAKE_SOURCE_DIR}/src/tether.pc.in ${CMAKE_BINARY_DIR}/tether.pc @ONLY)
install(TARGETS tether_static tether_shared EXPORT tetherTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(FILES ${CMAKE_SOURCE_DIR}/include/tether/tether.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/tether)
install(FILES ${CMAKE_BINARY_DIR}/tether.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# The CMake package: find_package(tether 0.1 CONFIG) gives tether::tether (shared)
# and tether::tether_static, any 0.x at least the version asked for (SameMajorVersion).
# A project that adds this tree with add_subdirectory gets the same names.
set_target_properties(tether_shared PROPERTIES EXPORT_NAME tether)
set_target_properties(tether_static PROPERTIES EXPORT_NAME tether_static)
add_library(tether::tether ALIAS tether_shared)
add_library(tether::tether_static ALIAS tether_static)
include(CMakePackageConfigHelpers)
set(TETHER_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/tether)
configure_package_config_file(${CMAKE_SOURCE_DIR}/cmake/tetherConfig.cmake.in
  ${CMAKE_BINARY_DIR}/tetherConfig.cmake INSTALL_DESTINATION ${TETHER_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_BINARY_DIR}/tetherConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(EXPORT tetherTargets NAMESPACE tether:: DESTINATION ${TETHER_CMAKE_DIR})
install(FILES ${CMAKE_BINARY_DIR}/tetherConfig.cmake ${CMAKE_BINARY_DIR}/tetherConfigVersion.cmake
  DESTINATION ${TETHER_CMAKE_DIR})
# Manual pages: tether(7) and one section 3 page per function or close group.
include(${CMAKE_SOURCE_DIR}/docs/man/man.cmake)
