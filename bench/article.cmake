# make bench-article (scripts/bench-article.sh): the article's table, measured with
# libtether, GLib, liburcu, uthash, the C++ standard library and Boost.Signals2.
# Needs TETHER_BUILD_BENCH (GLib, liburcu) and Boost's headers; deps.sh bench-article.
enable_language(CXX)
find_package(Boost 1.71 REQUIRED)
find_path(UTHASH_INCLUDE_DIR uthash.h REQUIRED)
add_executable(bench-article ${CMAKE_SOURCE_DIR}/bench/bench-article.c ${CMAKE_SOURCE_DIR}/bench/bench-article-peers.cpp)
set_target_properties(bench-article PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench
  CXX_STANDARD 20 CXX_STANDARD_REQUIRED ON CXX_EXTENSIONS OFF)
target_link_libraries(bench-article PRIVATE tether_shared PkgConfig::GLIB PkgConfig::URCU Boost::headers)
target_include_directories(bench-article PRIVATE ${CMAKE_SOURCE_DIR}/src)
target_include_directories(bench-article SYSTEM PRIVATE ${UTHASH_INCLUDE_DIR})
target_compile_definitions(bench-article PRIVATE _GNU_SOURCE)
# The project's warnings, minus the C-only ones in C++ and -Wcast-qual (liburcu's
# caa_container_of casts const away).
target_compile_options(bench-article PRIVATE -Wall -Wextra -Wshadow -Wconversion -Wno-sign-conversion
  -Wformat=2 -Wundef $<$<COMPILE_LANGUAGE:C>:-Wstrict-prototypes -Wmissing-prototypes>)
if(TETHER_WERROR)
  target_compile_options(bench-article PRIVATE -Werror)
endif()
