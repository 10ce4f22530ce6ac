# Fuzz targets: every fuzz/fuzz-NAME.c defines LLVMFuzzerTestOneInput and has seeds
# in fuzz/corpus/NAME/. Each always gets a replay-NAME program (any compiler; runs
# the target once per file or folder given, used by make check under ASan), and,
# with TETHER_BUILD_FUZZ on a clang build, a libFuzzer binary fuzz-NAME (make fuzz).
file(GLOB TETHER_FUZZ_TARGETS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/fuzz/fuzz-*.c)
foreach(src ${TETHER_FUZZ_TARGETS})
  get_filename_component(stem ${src} NAME_WE)
  string(REGEX REPLACE "^fuzz-" "" name ${stem})
  add_executable(replay-${name} ${src} ${CMAKE_SOURCE_DIR}/fuzz/replay-main.c)
  set_target_properties(replay-${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/fuzz)
  target_link_libraries(replay-${name} PRIVATE tether_cli_core tether_warnings)
  if(TETHER_BUILD_FUZZ AND CMAKE_C_COMPILER_ID STREQUAL "Clang")
    add_executable(fuzz-${name} ${src})
    set_target_properties(fuzz-${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/fuzz)
    target_compile_options(fuzz-${name} PRIVATE -fsanitize=fuzzer)
    target_link_options(fuzz-${name} PRIVATE -fsanitize=fuzzer)
    target_link_libraries(fuzz-${name} PRIVATE tether_cli_core tether_warnings)
  endif()
endforeach()
