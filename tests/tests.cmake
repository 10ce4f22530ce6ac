# The library's test suite: build/tests/run [NAME...]
file(GLOB TETHER_LIB_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/test-*.c)
add_executable(run ${CMAKE_SOURCE_DIR}/tests/runner.c ${CMAKE_SOURCE_DIR}/tests/alloc.c ${CMAKE_SOURCE_DIR}/tests/common.c ${CMAKE_SOURCE_DIR}/tests/stress.c ${CMAKE_SOURCE_DIR}/tests/wrap.c ${TETHER_LIB_TESTS})
set_target_properties(run PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
target_include_directories(run PRIVATE ${CMAKE_SOURCE_DIR}/tests ${CMAKE_SOURCE_DIR}/src)
target_link_libraries(run PRIVATE tether_static tether_warnings ${CMAKE_DL_LIBS})
# tests/wrap.c: the tests open windows and count locks through these (see wrap.h).
target_link_options(run PRIVATE -Wl,--wrap=pthread_mutex_lock -Wl,--wrap=pthread_mutex_unlock
  -Wl,--wrap=malloc -Wl,--wrap=realloc)
add_test(NAME lib COMMAND run)

# C++ exceptions thrown through the library (built with -fexceptions).
include(CheckLanguage)
check_language(CXX)
if(CMAKE_CXX_COMPILER)
  enable_language(CXX)
  target_sources(run PRIVATE ${CMAKE_SOURCE_DIR}/tests/test-unwind.cc)
  set_source_files_properties(${CMAKE_SOURCE_DIR}/tests/test-unwind.cc PROPERTIES
    COMPILE_OPTIONS "-std=c++17;-Wall;-Wextra;-Werror")
endif()

# A plugin the leak-report test loads and unloads (it does not link libtether).
add_library(tether-test-plugin MODULE ${CMAKE_SOURCE_DIR}/tests/plugin.c)
set_target_properties(tether-test-plugin PROPERTIES PREFIX "lib"
  LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
target_include_directories(tether-test-plugin PRIVATE ${CMAKE_SOURCE_DIR}/include)
target_link_libraries(tether-test-plugin PRIVATE tether_warnings)
add_dependencies(run tether-test-plugin)

# The soak: the randomized stress test run for minutes (make stress).
if(EXISTS ${CMAKE_SOURCE_DIR}/tests/stress-main.c)
add_executable(stress ${CMAKE_SOURCE_DIR}/tests/stress-main.c ${CMAKE_SOURCE_DIR}/tests/stress.c ${CMAKE_SOURCE_DIR}/tests/alloc.c)
set_target_properties(stress PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
target_include_directories(stress PRIVATE ${CMAKE_SOURCE_DIR}/tests ${CMAKE_SOURCE_DIR}/src)
target_link_libraries(stress PRIVATE tether_static tether_warnings)
endif()
