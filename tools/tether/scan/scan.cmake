# tether scan: compiles the two pinned tree-sitter grammars (fetched by
# scripts/grammars.sh into third_party/) into a library of their own, built without
# the project's warning flags since it is generated code, and links it together
# with Debian's tree-sitter runtime into tether_cli_core.
set(TETHER_TS_GO ${CMAKE_SOURCE_DIR}/third_party/tree-sitter-go/src)
set(TETHER_TS_C ${CMAKE_SOURCE_DIR}/third_party/tree-sitter-c/src)
if(NOT EXISTS ${TETHER_TS_GO}/parser.c OR NOT EXISTS ${TETHER_TS_C}/parser.c)
  message(FATAL_ERROR "tether scan needs the tree-sitter grammars in third_party/: "
    "run scripts/deps.sh build (or scripts/grammars.sh) first")
endif()
find_package(PkgConfig REQUIRED)
pkg_check_modules(TREE_SITTER REQUIRED IMPORTED_TARGET tree-sitter)

# One library per grammar: each parser.c includes "tree_sitter/parser.h" from its
# own src/ folder, and a grammar may add an external scanner.c.
foreach(lang go c)
  set(dir ${CMAKE_SOURCE_DIR}/third_party/tree-sitter-${lang}/src)
  set(srcs ${dir}/parser.c)
  if(EXISTS ${dir}/scanner.c)
    list(APPEND srcs ${dir}/scanner.c)
  endif()
  add_library(tether_grammar_${lang} STATIC ${srcs})
  target_include_directories(tether_grammar_${lang} PRIVATE ${dir})
  target_compile_options(tether_grammar_${lang} PRIVATE -w -O2)
  target_link_libraries(tether_grammar_${lang} PRIVATE PkgConfig::TREE_SITTER)
endforeach()
target_link_libraries(tether_cli_core PUBLIC tether_grammar_go tether_grammar_c PkgConfig::TREE_SITTER)
