# Fuzz targets: every fuzz/fuzz-NAME.c defines LLVMFuzzerTestOneInput and has seeds
# in fuzz/corpus/NAME/; the sources in fuzz/NAME/, when there is such a folder, are
# part of the target. Each always gets a replay-NAME program (any compiler; runs
# the target once per file or folder given, used by make check under ASan), and,
# with TETHER_BUILD_FUZZ on a clang build, a libFuzzer binary fuzz-NAME (make fuzz).
# The targets in TETHER_FUZZ_LIB_TARGETS test the library alone (with the tests'
# counting allocator); the others test the CLI core and are built with it.
set(TETHER_FUZZ_LIB_TARGETS api)
set(TETHER_FUZZ_api_SOURCES ${CMAKE_SOURCE_DIR}/tests/alloc.c)

set(TETHER_FUZZ_LIBFUZZER OFF)
if(TETHER_BUILD_FUZZ AND CMAKE_C_COMPILER_ID STREQUAL "Clang")
  set(TETHER_FUZZ_LIBFUZZER ON)
  # The library once more, with coverage instrumentation, for the libFuzzer
  # binaries of the library's targets: libFuzzer is then guided by the library's
  # code, not only by the target's. Everything else links the plain library.
  add_library(tether_fuzz_lib STATIC ${TETHER_LIB_SOURCES})
  target_include_directories(tether_fuzz_lib PUBLIC ${CMAKE_SOURCE_DIR}/include)
  target_link_libraries(tether_fuzz_lib PRIVATE tether_warnings PUBLIC Threads::Threads)
  target_compile_options(tether_fuzz_lib PRIVATE -fvisibility=hidden -fexceptions
    -fsanitize=fuzzer-no-link)
  target_compile_definitions(tether_fuzz_lib PRIVATE TETHER_BUILDING=1)
endif()

file(GLOB TETHER_FUZZ_TARGETS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/fuzz/fuzz-*.c)
foreach(src ${TETHER_FUZZ_TARGETS})
  get_filename_component(stem ${src} NAME_WE)
  string(REGEX REPLACE "^fuzz-" "" name ${stem})
  if(name IN_LIST TETHER_FUZZ_LIB_TARGETS)
    set(deps tether_static)
    set(fuzz_deps tether_fuzz_lib)
  elseif(TARGET tether_cli_core)
    set(deps tether_cli_core)
    set(fuzz_deps tether_cli_core)
  else()
    continue()
  endif()
  file(GLOB extra CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/fuzz/${name}/*.c)
  list(APPEND extra ${TETHER_FUZZ_${name}_SOURCES})
  set(bins replay-${name})
  if(TETHER_FUZZ_LIBFUZZER)
    list(APPEND bins fuzz-${name})
  endif()
  foreach(bin ${bins})
    if(bin MATCHES "^replay-")
      add_executable(${bin} ${src} ${extra} ${CMAKE_SOURCE_DIR}/fuzz/replay-main.c)
      target_link_libraries(${bin} PRIVATE ${deps} tether_warnings)
    else()
      add_executable(${bin} ${src} ${extra})
      target_compile_options(${bin} PRIVATE -fsanitize=fuzzer)
      target_link_options(${bin} PRIVATE -fsanitize=fuzzer)
      target_link_libraries(${bin} PRIVATE ${fuzz_deps} tether_warnings)
    endif()
    set_target_properties(${bin} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/fuzz)
    target_include_directories(${bin} PRIVATE ${CMAKE_SOURCE_DIR}/fuzz ${CMAKE_SOURCE_DIR}/tests)
  endforeach()
endforeach()
