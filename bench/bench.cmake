# Benchmarks (make bench): need GLib and liburcu, installed by scripts/deps.sh bench.
find_package(PkgConfig REQUIRED)
pkg_check_modules(GLIB REQUIRED IMPORTED_TARGET glib-2.0)
pkg_check_modules(URCU REQUIRED IMPORTED_TARGET liburcu-memb liburcu-cds)
add_executable(bench-registry ${CMAKE_SOURCE_DIR}/bench/bench-registry.c)
set_target_properties(bench-registry PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)
# The shared library, as users link it (the peers are shared libraries too).
target_link_libraries(bench-registry PRIVATE tether_shared PkgConfig::GLIB PkgConfig::URCU)
target_compile_options(bench-registry PRIVATE -Wall -Wextra)
target_include_directories(bench-registry PRIVATE ${CMAKE_SOURCE_DIR}/src)
target_compile_definitions(bench-registry PRIVATE _GNU_SOURCE)
# scripts/ab.sh: several builds of libtether in one process (dlopen), against rculfhash.
add_executable(ab-dispatch ${CMAKE_SOURCE_DIR}/bench/ab-dispatch.c)
set_target_properties(ab-dispatch PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)
target_link_libraries(ab-dispatch PRIVATE PkgConfig::URCU ${CMAKE_DL_LIBS})
target_compile_options(ab-dispatch PRIVATE -Wall -Wextra)
target_include_directories(ab-dispatch PRIVATE ${CMAKE_SOURCE_DIR}/src ${CMAKE_SOURCE_DIR}/include)
target_compile_definitions(ab-dispatch PRIVATE _GNU_SOURCE)
# make bench-article: the article's comparison table (adds C++ and Boost).
option(TETHER_BUILD_BENCH_ARTICLE "build bench-article (needs Boost and uthash too)" OFF)
if(TETHER_BUILD_BENCH_ARTICLE)
  include(${CMAKE_SOURCE_DIR}/bench/article.cmake)
endif()
