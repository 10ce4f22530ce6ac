#!/usr/bin/env bash
# libtether's exports read by the real tools. C programs built here against the
# library (tests/fixtures/export) print their registry's own figures
# (tether_walk, tether_stats_get) next to what they write, and:
# - go tool pprof -top reads their profiles, for every sample type, with and
#   without registering stacks: each function's flat and cum, and the total,
#   equal the walk's sums; -traces names the registering functions' callers;
# - tether top agrees; the CLI's fuzz replay target reads every profile;
# - tether diff of two profiles of a growing program finds the growing site,
#   and tether watch of its TETHER_PROFILE directory judges it growing, with
#   that site first and --source linking it to tether scan's C findings;
# - promtool check metrics accepts the metrics, whose values are the stats';
# - a real Prometheus (127.0.0.1, kernel-picked ports, a temporary config and
#   data dir, at most two minutes, always killed) scrapes examples/metrics-server
#   and its HTTP API returns the series with the program's own values.
# Ends with "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
scripts/deps.sh go prometheus >&2
# TETHER_BUILD_DIR: the build to test (make coverage points it at build-coverage, with CC linking gcov).
build=${TETHER_BUILD_DIR:-build}
bin=${TETHER_BIN:-./$build/tether}
lib=$build/libtether.a
tmp=$(mktemp -d)
mkdir -p build-logs
pids=()
cleanup() {
  for p in "${pids[@]+"${pids[@]}"}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

passed=0
failed=0
check() { # check DESCRIPTION COMMAND...
  if "${@:2}"; then
    passed=$((passed + 1))
    echo "ok: $1"
  else
    failed=$((failed + 1))
    echo "FAILED: $1"
  fi
}
same() { # same WHAT GOT WANT: prints both when they differ
  [ "$2" = "$3" ] && return 0
  echo "  $1: got [$2], want [$3]"
  return 1
}
has() { grep -q -- "$2" "$1"; }
quiet() { "$@" >/dev/null 2>&1; }

export GOTOOLCHAIN=local GOCACHE="$tmp/gocache" PPROF_TMPDIR="$tmp/pprof" HOME="$tmp"
pprof=(go tool pprof -symbolize=local -nodecount=1000000 -nodefraction=0 -edgefraction=0 -unit=B)

# ---- the fixtures, built against the library ----
cc=${CC:-cc}
build() { # build SRC OUT [LIBS...]: -O0 so that every caller keeps its frame
  "$cc" -std=c11 -D_GNU_SOURCE -O0 -g -Wall -Wextra -Werror -Iinclude "$1" "$lib" "${@:3}" -lpthread -o "$2"
}
if [ ! -f "$lib" ] || ! build tests/fixtures/export/figures.c "$tmp/figures" ||
  ! build tests/fixtures/export/growing/growing.c "$tmp/growing"; then
  echo "FAILED: building the fixtures against $lib (make build first)"
  echo "0 passed, 1 failed"
  exit 1
fi

# ---- 1. profiles against go tool pprof ----

# expect_top FIGURES TYPE: "FUNC FLAT CUM" per function, as the walk says
# (registering functions: flat = cum = their registrations' sum; with stacks,
# each caller's cum is its callee's sum, and main's the total), then "total N".
# Functions whose cum is 0 are left out, as pprof leaves them out.
expect_top() {
  awk -F'\t' -v type="$2" -v stacks="$3" '
    $1 == "reg" { v = type == "registrations" ? 1 : type == "retained" ? $6 : $7
                  sum[$3] += v; total += v }
    $1 == "caller" { caller[$2] = $3 }
    END {
      for (f in sum) if (sum[f]) print f, sum[f], sum[f]
      if (stacks) { for (f in caller) if (sum[f]) print caller[f], 0, sum[f]; print "main", 0, total }
      print "total", total
    }' "$1" | sort
}
# pprof_top PROFILE TYPE: the same from go tool pprof -top (frames pprof
# cannot name, such as libc's, left out).
pprof_top() {
  "${pprof[@]}" -sample_index="$2" -top "$1" 2>/dev/null | awk '
    / of [0-9]+B total/ { for (i = 1; i <= NF; i++) if ($i == "total") { t = $(i - 1); sub(/B$/, "", t) } }
    $1 ~ /^-?[0-9]+B?$/ && NF == 6 && $6 !~ /^\[/ { f = $1; c = $4; sub(/B$/, "", f); sub(/B$/, "", c); print $6, f, c }
    END { print "total", t }' | sort
}

for variant in calls stack no-calls; do
  case $variant in
    calls) args=() types="registrations retained calls" stacks=0 ;;
    stack) args=(--stack 16) types="registrations retained calls" stacks=1 ;;
    no-calls) args=(--no-calls) types="registrations retained" stacks=0 ;;
  esac
  prof=$tmp/figures-$variant.pb
  "$tmp/figures" "${args[@]}" "$prof" "$tmp/figures-$variant.prom" >"$tmp/figures-$variant.txt"
  check "figures $variant: the program ran" test $? -eq 0
  fig=$tmp/figures-$variant.txt
  check "figures $variant: the stats did not move while it wrote" test "$(grep -c '^stats' "$fig")" -eq 2 -a \
    "$(grep '^stats' "$fig" | sort -u | wc -l)" -eq 1
  wrote=$(sed -n 's/^wrote\t//p' "$fig")
  regs=$(grep -c '^reg	' "$fig")
  check "figures $variant: tether_profile_write wrote the walk's $regs registrations" same written "$wrote" "$regs"
  for type in $types; do
    want=$(expect_top "$fig" "$type" "$stacks")
    got=$(pprof_top "$prof" "$type")
    check "pprof -top -sample_index=$type ($variant): flat, cum and total are the walk's" same "$type" "$got" "$want"
    echo "go tool pprof -top -sample_index=$type, $variant profile (function flat cum): $(echo "$got" | tr '\n' ' ')"
  done
  default=$("${pprof[@]}" -top "$prof" 2>/dev/null | sed -n 's/^Type: //p')
  check "pprof: the default sample type is retained ($variant)" same default "$default" retained
  ntypes=$("${pprof[@]}" -raw "$prof" 2>/dev/null | sed -n '/^Samples:/{n;p;q}')
  check "pprof -raw: the sample types ($variant)" same types "$(echo "$ntypes" | tr -s ' ' | sed 's/^ //;s/ $//')" \
    "$(echo "$types" | sed 's/registrations/registrations\/count/;s/retained/retained\/bytes[dflt]/;s/calls/calls\/count/')"
  # tether top reads the same profile to the same numbers (its own decoder).
  top_got=$("$bin" top --raw --sample-index retained "$prof" 2>/dev/null |
    awk '$1 ~ /^[0-9]+B$/ && NF == 6 { f = $1; sub(/B$/, "", f); print $6, f }' | sort)
  top_want=$(expect_top "$fig" retained 0 | awk '$1 != "total" {print $1, $2}')
  check "tether top ($variant): the walk's bytes per registering function" same top "$top_got" "$top_want"
  check "fuzz replay target reads the $variant profile" quiet "$build/fuzz/replay-profile" "$prof"
done
cp "$tmp/figures-stack.pb" build-logs/export-figures-stack.pb
echo "go tool pprof -top on the profile with registering stacks, as printed:"
go tool pprof -symbolize=local -top "$tmp/figures-stack.pb" 2>&1 | sed 's/^/  /'

# -traces: every registration's stack runs site -> its caller -> main, by name.
"${pprof[@]}" -sample_index=retained -traces "$tmp/figures-stack.pb" >"$tmp/traces.txt" 2>&1
got=$(awk '
  /^-+\+-+$/ { if (n) print chain; chain = ""; n = 0; next }
  /^ +[0-9]+B +[^ ]+$/ { chain = $2; n = 1; next }
  n && NF == 1 && n < 3 { chain = chain " <- " $1; n++ }
  END { if (n) print chain }' "$tmp/traces.txt" | sort)
want=$(awk -F'\t' '$1 == "caller" { c[$2] = $3 } $1 == "reg" { r[NR] = $3 }
  END { for (i in r) print r[i] " <- " c[r[i]] " <- main" }' "$tmp/figures-stack.txt" | sort)
check "pprof -traces: each registration's site, its caller, main, by name" same traces "$got" "$want"
echo "go tool pprof -traces on the stack profile: $(echo "$got" | sort | uniq -c | tr -s ' ' | tr '\n' ';')"
"${pprof[@]}" -sample_index=retained -traces "$tmp/figures-calls.pb" >"$tmp/traces-nostack.txt" 2>&1
check "pprof -traces without capture_stack: the site alone" \
  test "$(grep -c ' <- \|host_start' "$tmp/traces-nostack.txt")" -eq 0

# ---- 2. the growing program: tether diff, then tether watch ----
"$tmp/growing" snapshots "$tmp/base.pb" "$tmp/cur.pb" >"$tmp/growing.txt"
check "growing: two profiles written" test $? -eq 0
read -r _ site_func site_file site_line < <(grep '^site' "$tmp/growing.txt")
base_session=$(awk -F'\t' '$1 == "profile" && ++n == 1 {print $3}' "$tmp/growing.txt")
cur_session=$(awk -F'\t' '$1 == "profile" && ++n == 2 {print $3}' "$tmp/growing.txt")
growth=$((cur_session - base_session))
"$bin" diff --raw "$tmp/base.pb" "$tmp/cur.pb" >"$tmp/diff.txt" 2>&1
top_row=$(awk '$1 ~ /^[-+]?[0-9]+B$/ && NF == 6 {print $6, $1; exit}' "$tmp/diff.txt")
check "tether diff: the growing site first, by the walk's growth" same diff "$top_row" "$site_func +${growth}B"
pprof_base=$("${pprof[@]}" -top -base "$tmp/base.pb" "$tmp/cur.pb" 2>/dev/null | awk -v f="$site_func" '$6 == f {print $1}')
check "go tool pprof -top -base agrees" same pprof-base "$pprof_base" "${growth}B"
echo "tether diff base cur: top row '$top_row' (walk: $site_func grew by $growth bytes); go tool pprof -base: $pprof_base"

mkdir -p "$tmp/profiles"
TETHER_PROFILE="$tmp/profiles" TETHER_PROFILE_INTERVAL_MS=100 timeout 30 "$tmp/growing" run 2000 >/dev/null
check "growing run: exits 0" test $? -eq 0
nprof=$(ls "$tmp/profiles" | grep -c '^tether-[0-9]*-[0-9]*-[0-9]\{6\}\.pb$')
check "TETHER_PROFILE: a dozen profiles or more, nothing else" test "$nprof" -ge 12 -a "$(ls "$tmp/profiles" | wc -l)" -eq "$nprof"
"$bin" watch --source tests/fixtures/export/growing --format json "$tmp/profiles" >"$tmp/watch.json" 2>"$tmp/watch.err"
check "tether watch: exit 0" test $? -eq 0
"$bin" watch --source tests/fixtures/export/growing "$tmp/profiles" >"$tmp/watch.txt" 2>&1
j=$tmp/watch.json
check "tether watch: verdict growing over all the profiles" has "$j" "\"verdict\":\"growing\",\"snapshots\":$nprof,"
check "tether watch: the growing site is the top suspect" has "$j" "\"suspects\":\[{\"function\":\"$site_func\",\"file\":\"[^\"]*$site_file\",\"line\":$site_line,"
check "tether watch --source: the scan's TC201 for that registration" has "$j" "\"rule\":\"TC201\",\"role\":\"[a-z]*\",\"file\":\"tests/fixtures/export/growing/growing.c\",\"line\":$site_line,"
check "tether watch --source: ... and its TC202" has "$j" "\"rule\":\"TC202\",\"role\":\"[a-z]*\",\"file\":\"tests/fixtures/export/growing/growing.c\",\"line\":$site_line,"
check "tether watch: the level requests are no suspect" test "$(grep -o '"suspects":\[.*\],"not_suspects"' "$j" | grep -c request_start)" -eq 0
cat "$tmp/watch.txt"

# ---- 3. metrics against promtool ----
printf '# HELP x_bytes y\n# TYPE x_bytes counter\nx_bytes 1\n' >"$tmp/bad.prom"
promtool check metrics <"$tmp/bad.prom" >/dev/null 2>&1
check "promtool: the harness sees a bad counter name" test $? -ne 0
"$tmp/figures" --labels 'registry="plugins",shard="2"' "$tmp/figures-labelled.pb" "$tmp/figures-labelled.prom" \
  >"$tmp/figures-labelled.txt"
"$tmp/figures" --latin1 "$tmp/figures-latin1.pb" "$tmp/figures-latin1.prom" >"$tmp/figures-latin1.txt"
for variant in calls stack no-calls labelled latin1; do
  prom=$tmp/figures-$variant.prom fig=$tmp/figures-$variant.txt
  out=$(promtool check metrics <"$prom" 2>&1)
  check "promtool check metrics ($variant): no problem" same promtool "$?:$out" "0:"
  # Each plain series against the stats line; the site series against the walk.
  got=$(awk '!/^#/ && !/site_/ { n = $1; sub(/\{.*/, "", n); print n, $2 }' "$prom" | sort)
  want=$(sed -n 's/^stats\t//p' "$fig" | head -1 | tr ' ' '\n' | awk -F= '{ print metric($1), $2 }
    function metric(k) {
      if (k == "live") return "tether_registrations"
      if (k == "live_bytes") return "tether_retained_bytes"
      return "tether_" k
    }' | sort)
  check "metrics ($variant): the values of tether_stats_get" same stats "$got" "$want"
  got=$(awk '/^tether_site_/ { match($0, /func="[^"]*"/); f = substr($0, RSTART + 6, RLENGTH - 7)
                                n = $1; sub(/\{.*/, "", n); print n, f, $2 }' "$prom" | sort)
  want=$(awk -F'\t' '$1 == "reg" { c[$3]++; b[$3] += $6 }
    END { for (f in c) { print "tether_site_registrations", f, c[f]; print "tether_site_retained_bytes", f, b[f] } }' "$fig" | sort)
  check "metrics ($variant): per site, the walk's counts and bytes" same sites "$got" "$want"
done
check "metrics: the labels on every series" test "$(grep -v '^#' "$tmp/figures-labelled.prom" | grep -vc '{registry="plugins",shard="2"')" -eq 0
check "metrics: a latin-1 file name becomes UTF-8 (U+FFFD)" grep -qF "$(printf 'file="plugins/caf\357\277\275.c",line="12",func="legacy_hook"')" "$tmp/figures-latin1.prom"
echo "promtool check metrics: 5 expositions clean; values equal tether_stats_get and the walk:"
grep -v '^#' "$tmp/figures-labelled.prom" | head -3

# ---- 4. a real Prometheus scrapes examples/metrics-server ----
server=$build/examples/metrics-server
if [ ! -x "$server" ]; then
  check "examples/metrics-server is built (libmicrohttpd)" false
else
  : >"$tmp/server.txt"
  timeout 150 "$server" 120 >"$tmp/server.txt" 2>&1 &
  pids+=($!)
  port=""
  for _ in $(seq 100); do
    port=$(sed -n 's|^listening on http://127.0.0.1:\([0-9]*\)/metrics$|\1|p' "$tmp/server.txt")
    [ -n "$port" ] && grep -q '^stats' "$tmp/server.txt" && break
    sleep 0.1
  done
  check "metrics-server: listening on 127.0.0.1" test -n "$port"
  mkdir -p "$tmp/prom"
  cat >"$tmp/prom/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: tether
    static_configs:
      - targets: ["127.0.0.1:$port"]
EOF
  : >"$tmp/prom/log"
  timeout 120 prometheus --config.file="$tmp/prom/prometheus.yml" --storage.tsdb.path="$tmp/prom/data" \
    --web.listen-address=127.0.0.1:0 --web.max-connections=16 >"$tmp/prom/log" 2>&1 &
  pids+=($!)
  api=""
  for _ in $(seq 300); do
    p=$(sed -n 's/.*msg="Listening on" address=127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/prom/log" | head -1)
    [ -n "$p" ] && api="http://127.0.0.1:$p/api/v1" && break
    sleep 0.1
  done
  check "prometheus: listening on 127.0.0.1" test -n "$api"
  query() { curl -s --max-time 5 "$api/query" --data-urlencode "query=$1"; }
  arrived=""
  for _ in $(seq 120); do
    [ -z "$api" ] && break
    arrived=$(query 'count({job="tether",__name__=~"tether_.*"})')
    echo "$arrived" | grep -q '"value":\[[0-9.]*,"13"\]' && break
    sleep 0.5
  done
  check "prometheus: all 13 tether series arrived" has <(echo "$arrived") '"value":\[[0-9.]*,"13"\]'
  query 'up{job="tether"}' >"$tmp/up.json"
  check "prometheus: the target is up" has "$tmp/up.json" '"value":\[[0-9.]*,"1"\]'
  stats=$(sed -n 's/^stats\t//p' "$tmp/server.txt")
  for kv in $stats; do
    k=${kv%%=*} v=${kv#*=}
    case $k in
      live) m=tether_registrations ;; live_bytes) m=tether_retained_bytes ;;
      destructors_pending) m=tether_destructors_pending ;; *) m=tether_$k ;;
    esac
    r=$(query "$m{job=\"tether\",registry=\"plugins\"}")
    val=$(echo "$r" | sed -n 's/.*"value":\[[0-9.]*,"\([0-9]*\)"\].*/\1/p')
    check "prometheus: $m is tether_stats_get's $k" same "$m" "$val" "$v"
  done
  for f in $(awk -F'\t' '$1 == "reg" {print $3}' "$tmp/server.txt" | sort -u); do
    want_b=$(awk -F'\t' -v f="$f" '$1 == "reg" && $3 == f { b += $4 } END { print b }' "$tmp/server.txt")
    want_c=$(awk -F'\t' -v f="$f" '$1 == "reg" && $3 == f { c++ } END { print c }' "$tmp/server.txt")
    got_b=$(query "tether_site_retained_bytes{job=\"tether\",func=\"$f\"}" | sed -n 's/.*"value":\[[0-9.]*,"\([0-9]*\)"\].*/\1/p')
    got_c=$(query "tether_site_registrations{job=\"tether\",func=\"$f\"}" | sed -n 's/.*"value":\[[0-9.]*,"\([0-9]*\)"\].*/\1/p')
    check "prometheus: site $f, the walk's bytes and count" same "$f" "$got_b $got_c" "$want_b $want_c"
  done
  echo "prometheus scraped metrics-server (127.0.0.1:$port); the query result for tether_retained_bytes:"
  query 'tether_retained_bytes{job="tether"}'
  echo
  query '{job="tether",__name__=~"tether_site_.*"}' >"$tmp/sites.json"
  cp "$tmp/sites.json" build-logs/export-prometheus-sites.json
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
