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

add_library(tether_static STATIC $<TARGET_OBJECTS:tether_obj>)
set_target_properties(tether_static PROPERTIES OUTPUT_NAME tether)
target_include_directories(tether_static PUBLIC
  $<BUILD_INTERFACE:${CMAKE_SOURCE_DIR}/include> $<INSTALL_INTERFACE:include>)
target_link_libraries(tether_static PUBLIC Threads::Threads)

add_library(tether_shared SHARED $<TARGET_OBJECTS:tether_obj>)
set_target_properties(tether_shared PROPERTIES OUTPUT_NAME tether
  VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION_MAJOR})
target_include_directories(tether_shared PUBLIC
  $<BUILD_INTERFACE:${CMAKE_SOURCE_DIR}/include> $<INSTALL_INTERFACE:include>)
target_link_libraries(tether_shared PUBLIC Threads::Threads)

include(GNUInstallDirs)
configure_file(${CMAKE_SOURCE_DIR}/src/tether.pc.in ${CMAKE_BINARY_DIR}/tether.pc @ONLY)
install(TARGETS tether_static tether_shared
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(FILES ${CMAKE_SOURCE_DIR}/include/tether/tether.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/tether)
install(FILES ${CMAKE_BINARY_DIR}/tether.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
