# tether diff/top read gzip-compressed profiles through zlib (Debian's zlib1g-dev),
# fetch them over HTTP(S) through libcurl (libcurl4-openssl-dev) and match
# --focus/--ignore with PCRE2 (libpcre2-dev).
find_package(ZLIB REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(TETHER_CURL REQUIRED IMPORTED_TARGET libcurl)
pkg_check_modules(TETHER_PCRE2 REQUIRED IMPORTED_TARGET libpcre2-8)
target_link_libraries(tether_cli_core PUBLIC ZLIB::ZLIB PkgConfig::TETHER_CURL PkgConfig::TETHER_PCRE2)
