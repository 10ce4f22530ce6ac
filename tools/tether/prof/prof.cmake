# tether diff/top read gzip-compressed profiles through zlib (Debian's zlib1g-dev).
find_package(ZLIB REQUIRED)
target_link_libraries(tether_cli_core PUBLIC ZLIB::ZLIB)
