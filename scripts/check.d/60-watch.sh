#!/usr/bin/env bash
# The live tier of tether watch: builds the Go services of tests/fixtures/watch
# with Debian's Go (a leaking event bus, its fix, a warm-up that levels off, a
# sawtooth cache), starts each on 127.0.0.1 (the kernel picks the port; the
# service prints it and exits by itself after a minute; this script stops it
# sooner, also when it fails), and runs tether watch against it: the verdict,
# the top suspect, its links and the gate. The snapshots it kept are read again
# with `go tool pprof -top`, whose total and flat/cum must equal tether's for
# every snapshot. The HTML report is opened in headless Chromium: no console
# message, and a screenshot that is not blank. Reports and the screenshot stay
# in build-logs/watch-*. Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
scripts/deps.sh go browser
bin=${TETHER_BIN:-./build/tether}
logs=build-logs
mkdir -p "$logs"
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]+"${pids[@]}"}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT

passed=0
failed=0
check() { # check DESCRIPTION COMMAND...
  if "${@:2}"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: $1"; fi
}
has() { grep -q -- "$2" "$1"; }     # has FILE TEXT
lacks() { ! grep -q -- "$2" "$1"; }

export GOCACHE="$tmp/gocache" GOPATH="$tmp/gopath" GOFLAGS=-mod=mod GOTOOLCHAIN=local GO111MODULE=on
if ! (cd tests/fixtures/watch && go build -o "$tmp/bin/" ./leakbus ./fixedbus ./warmup ./sawtooth); then
  echo "FAILED: building the Go services"
  echo "0 passed, 1 failed"
  exit 1
fi

# start NAME: runs service NAME (at most 60 s) and sets $pid and $url (its heap endpoint).
start() {
  : >"$tmp/$1.out"
  "$tmp/bin/$1" -lifetime 60s >"$tmp/$1.out" 2>&1 &
  pid=$!
  pids+=("$pid")
  url=""
  for _ in $(seq 100); do
    url=$(sed -n 's|^listening on ||p' "$tmp/$1.out")
    [ -n "$url" ] && break
    sleep 0.1
  done
  url="$url/debug/pprof/heap"
}
stop() { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; }
watch() { "$bin" watch --interval 300ms "$@"; }

# ---- The leaking bus: growing, the suspect, its chain, the gate. ----
start leakbus
watch --count 14 --source tests/fixtures/watch/leakbus --keep "$tmp/keep" --html "$logs/watch-leak.html" \
  --fail-on-growth 5MB --format json "$url" >"$tmp/leak.json" 2>"$tmp/leak.err"
rc=$?
watch --count 12 --source tests/fixtures/watch/leakbus --fail-on-growth 5MB "$url" >"$logs/watch-leak.txt" 2>&1
rc_text=$?
stop
j=$tmp/leak.json
check "leak: exit 1 (gate tripped)" test "$rc" -eq 1
check "leak: verdict growing" has "$j" '"verdict":"growing","snapshots":14,'
check "leak: top suspect is the request state" has "$j" '"suspects":\[{"function":"main.newRequestState","file":"[^"]*/leakbus/main.go","line":20,'
check "leak: the closure capturing st is linked" has "$j" '"rule":"TG104","role":"closure","file":"tests/fixtures/watch/leakbus/main.go","line":29,'
check "leak: ... through the captured variable" has "$j" '"variable":"st","variable_line":28'
check "leak: Subscribe of the other file is linked" has "$j" '"rule":"TG103","role":"register","file":"tests/fixtures/watch/leakbus/bus.go","line":21,'
check "leak: the map that never shrinks is linked" has "$j" '"rule":"TG102","role":"map","file":"tests/fixtures/watch/leakbus/bus.go","line":15,'
check "leak: the fix" has "$j" '"fix":"copy the fields the func needs into locals before the literal (id := st.id)'
check "leak: the gate names the suspect" has "$j" '"gate":{"rate_per_min":5.24288e+06,"tripped":true,"series":"main.newRequestState"}'
check "leak: the middleware is not blamed" lacks "$j" '"rule":"TG104","role":"closure","file":"[^"]*","line":4[0-9],'
check "leak text: exit 1" test "$rc_text" -eq 1
check "leak text: the chain" has "$logs/watch-leak.txt" '   stored in   tests/fixtures/watch/leakbus/bus.go:15: Bus.subs never shrinks'
check "leak text: gate line" has "$logs/watch-leak.txt" 'TRIPPED (main.newRequestState grows'

# ---- The kept snapshots against go tool pprof, snapshot by snapshot. ----
grep -o '"total":[0-9]*,"judged":[a-z]*,"source":"[^"]*","file":"[^"]*"' "$j" |
  sed 's/"total":\([0-9]*\),.*"file":"\([^"]*\)"/\1 \2/' >"$tmp/snaps"
series=$(grep -o '"series":{"site":\[[-0-9,]*\],"flat":\[[-0-9,]*\],"cum":\[[-0-9,]*\]}' "$j" | head -1)
flat=($(echo "$series" | sed 's/.*"flat":\[\([^]]*\)\].*/\1/' | tr ',' ' '))
cum=($(echo "$series" | sed 's/.*"cum":\[\([^]]*\)\].*/\1/' | tr ',' ' '))
pprof=(go tool pprof -symbolize=none -nodecount=1000000 -nodefraction=0 -edgefraction=0 -unit=B -sample_index=inuse_space -top)
i=0
same=0
while read -r total file; do
  out=$("${pprof[@]}" "$file" 2>/dev/null)
  p_total=$(echo "$out" | sed -n 's/.* of \([0-9]*\)B total$/\1/p')
  row=$(echo "$out" | awk '$6 == "main.newRequestState" {print $1, $4}' | tr -d B)
  if [ "$p_total" = "$total" ] && [ "$row" = "${flat[$i]} ${cum[$i]}" ]; then
    same=$((same + 1))
  else
    echo "snapshot $i ($file): pprof total $p_total flat/cum '$row'; tether $total '${flat[$i]} ${cum[$i]}'"
  fi
  i=$((i + 1))
done <"$tmp/snaps"
echo "go tool pprof -top agrees on $same of $i kept snapshots"
check "pprof: 14 snapshots kept" test "$i" -eq 14
check "pprof: total, flat and cum equal on every kept snapshot" test "$same" -eq "$i"

# ---- The fixed bus: stable, and the gate does not trip. ----
start fixedbus
watch --count 12 --source tests/fixtures/watch/fixedbus --fail-on-growth 5MB "$url" >"$logs/watch-fixed.txt" 2>&1
rc=$?
watch --count 8 --fail-on-growth 0 --format json "$url" >"$tmp/fixed.json" 2>/dev/null
rc_json=$?
stop
check "fixed: exit 0" test "$rc" -eq 0
check "fixed: verdict stable" has "$logs/watch-fixed.txt" '^verdict: stable'
check "fixed: no suspect" has "$tmp/fixed.json" '"suspects":\[\]'
check "fixed: even --fail-on-growth 0 passes" test "$rc_json" -eq 0

# ---- The warm-up: stable, not a suspect, and --skip judges the level. ----
start warmup
watch --count 14 --fail-on-growth 5MB --format json "$url" >"$tmp/warm.json" 2>/dev/null
rc=$?
watch --count 12 --skip 1500ms --format json "$url" >"$tmp/warm-skip.json" 2>/dev/null
stop
check "warm-up: exit 0" test "$rc" -eq 0
check "warm-up: stable" has "$tmp/warm.json" '"verdict":"stable"'
check "warm-up: it rose, then levelled off" has "$tmp/warm.json" '"not_suspects":\[{"function":"main.fill",.*levelled off'
check "warm-up: --skip 1500ms judges the level" has "$tmp/warm-skip.json" '"verdict":"stable","snapshots":12,"judged_snapshots":[5-8],'

# ---- The sawtooth cache: stable. ----
start sawtooth
watch --count 14 --fail-on-growth 5MB --format json "$url" >"$tmp/saw.json" 2>/dev/null
rc=$?
stop
check "sawtooth: exit 0" test "$rc" -eq 0
check "sawtooth: stable" has "$tmp/saw.json" '"verdict":"stable"'
check "sawtooth: no suspect" has "$tmp/saw.json" '"suspects":\[\]'

# ---- Faults: the service dies in the middle; SIGINT. ----
start leakbus
"$bin" watch --count 30 --interval 200ms --timeout 1s --format json "$url" >"$tmp/dies.json" 2>"$tmp/dies.err" &
w=$!
sleep 2
stop
wait "$w"
rc=$?
check "dies: exit 0, the report on what was taken" test "$rc" -eq 0
check "dies: failures reported and skipped" has "$tmp/dies.err" '(skipped)'
check "dies: growing on the snapshots taken" has "$tmp/dies.json" '"verdict":"growing"'
start leakbus
# Started directly (not through a function), so that $! is tether itself.
"$bin" watch --interval 300ms --count 100 "$url" >"$tmp/int.txt" 2>/dev/null &
w=$!
sleep 2.2
kill -INT "$w"
wait "$w"
rc=$?
stop
check "SIGINT: exit 0" test "$rc" -eq 0
check "SIGINT: the report for the snapshots so far" has "$tmp/int.txt" 'over .* (interrupted)$'
check "SIGINT: verdict growing" has "$tmp/int.txt" '^verdict: growing'

# ---- The HTML report in headless Chromium. ----
chrome() { # chrome PAGE PNG LOG
  rm -rf "$tmp/profile"
  timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --disable-sync --no-first-run --user-data-dir="$tmp/profile" \
    --enable-logging=stderr --v=0 --window-size=1280,2600 --screenshot="$2" "file://$1" >"$3" 2>&1
}
pngstats() { # pngstats PNG: "WIDTH HEIGHT DISTINCT_COLOURS NON_WHITE_PERCENT"
  python3 - "$1" <<'EOF'
import struct, sys, zlib
data = open(sys.argv[1], 'rb').read()
assert data[:8] == b'\x89PNG\r\n\x1a\n'
pos, idat, w = 8, b'', 0
while pos < len(data):
    n, kind = struct.unpack('>I4s', data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b'IHDR':
        w, h, depth, ctype = struct.unpack('>IIBB', body[:10])
    elif kind == b'IDAT':
        idat += body
    pos += 12 + n
bpp = {2: 3, 6: 4}[ctype]
raw, stride = zlib.decompress(idat), w * bpp
prev, colours, white, rows = bytearray(stride), set(), 0, 0
for y in range(h):
    f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for x in range(stride):
        a = line[x - bpp] if x >= bpp else 0
        b, c = prev[x], prev[x - bpp] if x >= bpp else 0
        if f == 1: line[x] = (line[x] + a) & 255
        elif f == 2: line[x] = (line[x] + b) & 255
        elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    if y % 4 == 0:
        for x in range(0, stride, bpp * 2):
            px = bytes(line[x:x + 3])
            colours.add(px)
            white += px == b'\xff\xff\xff'
            rows += 1
    prev = line
print(w, h, len(colours), 100 - 100 * white // max(rows, 1))
EOF
}
printf '<!DOCTYPE html><html><body><p>broken</p><script>console.error("boom"); undefined_call();</script></body></html>\n' >"$tmp/bad.html"
chrome "$tmp/bad.html" "$tmp/bad.png" "$tmp/bad.log"
check "chromium: the harness sees console errors (a broken page)" has "$tmp/bad.log" ':CONSOLE'
chrome "$(pwd)/$logs/watch-leak.html" "$logs/watch-report.png" "$tmp/chrome.log"
check "chromium: the report renders" test -s "$logs/watch-report.png"
check "chromium: no console message from the report" lacks "$tmp/chrome.log" ':CONSOLE'
stats=$(pngstats "$logs/watch-report.png" 2>&1)
echo "screenshot $logs/watch-report.png: width height colours non-white% = $stats"
read -r pw ph colours nonwhite <<<"$stats"
check "screenshot: 1280 pixels wide" test "${pw:-0}" -eq 1280
check "screenshot: many distinct colours (not blank)" test "${colours:-0}" -ge 200
check "screenshot: a good share not white" test "${nonwhite:-0}" -ge 20

echo
cat "$logs/watch-leak.txt"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
