#!/usr/bin/env bash
# Installs the Debian packages a target needs, only when they are absent, so that
# a second run costs a few dpkg-query calls. Usage: scripts/deps.sh GROUP...
#   build   compilers and libraries every build needs
#   check   what the test tiers need (sanitizer runtimes, valgrind, clang, libFuzzer, spin)
#   model   the Promela model checker (spin; gcc compiles its verifiers)
#   bench   benchmark peers (GLib, liburcu)
#   go      Debian's Go toolchain (stdlib scan tier, fixture generation)
#   bench-article  make bench-article: compilers, Go, Boost, uthash, GLib, liburcu, valgrind
#   browser headless Chromium and Python (the tether watch tier renders its HTML report
#           and checks the screenshot)
#   prometheus  Prometheus and promtool (the export tier checks and scrapes libtether's metrics)
#   coverage  make coverage: gcovr (reads gcc's gcov data, writes the figures and HTML)
#   deb     make deb and the packaging tiers: debhelper, lintian, mandoc (man page
#           lint), abigail-tools (abidw/abidiff), man-db, Python (the man page checker)
set -euo pipefail

want=()
for group in "$@"; do
  case "$group" in
    build) want+=(build-essential cmake pkg-config zlib1g-dev libtree-sitter-dev nodejs npm
                 libcurl4-openssl-dev libpcre2-dev libmicrohttpd-dev) ;;
    check) want+=(valgrind clang libclang-rt-14-dev libtsan2 libasan8 libubsan1 spin) ;;
    model) want+=(spin gcc) ;;
    bench) want+=(libglib2.0-dev liburcu-dev) ;;
    go)    want+=(golang-go) ;;
    bench-article) want+=(build-essential cmake pkg-config golang-go g++ libboost-dev uthash-dev libglib2.0-dev liburcu-dev valgrind) ;;
    browser) want+=(chromium python3) ;;
    prometheus) want+=(prometheus) ;;
    coverage) want+=(gcovr) ;;
    deb)   want+=(debhelper dpkg-dev fakeroot lintian mandoc abigail-tools man-db groff-base python3) ;;
    *) echo "deps.sh: unknown group '$group'" >&2; exit 2 ;;
  esac
done

missing=()
for pkg in "${want[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$pkg")
done
# nodejs/npm may come from outside Debian's packages (a preinstalled node): accept a working npm.
if command -v npm >/dev/null 2>&1; then
  kept=()
  for pkg in "${missing[@]}"; do
    case "$pkg" in nodejs|npm) ;; *) kept+=("$pkg") ;; esac
  done
  missing=("${kept[@]+"${kept[@]}"}")
fi
if [ "${#missing[@]}" -gt 0 ]; then
  echo "deps.sh: installing ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq >/dev/null
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The build group ends with tether scan's pinned grammars (fetched only when absent).
for group in "$@"; do
  if [ "$group" = build ]; then "$(dirname "$0")/grammars.sh"; fi
done
