#!/usr/bin/env bash
# The Go standard-library tier of tether scan: installs Debian's Go (deps.sh go),
# scans all of GOROOT/src with its tests using the built ./build/tether, checks the
# scan ends without a crash or an input error, and that the findings reviewed by
# hand (docs/scan.md lists them with a verdict each) are all there, and that the
# reviewed non-findings stay absent. Pairs are file + rule, not lines, so a
# different Go release still matches. Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
scripts/deps.sh go
bin=${TETHER_BIN:-./build/tether}
goroot=$(go env GOROOT)
out=$(mktemp)
trap 'rm -f "$out"' EXIT

t0=$(date +%s.%N)
"$bin" scan --include-tests --format json --jobs "$(nproc)" "$goroot/src" >"$out"
rc=$?
t1=$(date +%s.%N)
echo "scan of $goroot/src: exit $rc in $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}')s"
echo "$(grep -o '"summary":{[^}]*}' "$out")"

passed=0
failed=0
check() { # check DESCRIPTION COMMAND...
  if "${@:2}"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: $1"; fi
}
# has RULE FILE: a finding of RULE in FILE (relative to GOROOT/src).
has() { grep -q "{\"rule\":\"$1\",\"severity\":\"[a-z]*\",\"file\":\"$goroot/src/$2\"" "$out"; }
lacks() { ! has "$@"; }

check "exit status 0 or 1 (no crash, no input error)" test "$rc" -le 1
check "JSON ends with a summary" grep -q '"summary":{"files":[1-9]' "$out"

# Reviewed findings (true positives unless docs/scan.md says otherwise).
check "zip Reader.decompressors only grows" has TG102 archive/zip/reader.go
check "zip RegisterDecompressor has no removal" has TG103 archive/zip/reader.go
check "zip Writer.compressors only grows" has TG102 archive/zip/writer.go
check "zip RegisterCompressor has no removal" has TG103 archive/zip/writer.go
check "zip package-level compressor registries (sync.Map) only grow" has TG102 archive/zip/register.go
check "zip RegisterDecompressor (package level) has no removal" has TG103 archive/zip/register.go
check "json placeholder encoder closure captures f and wg" has TG104 encoding/json/encode.go
check "link generatorSyms only grows" has TG102 cmd/link/internal/ld/link.go
check "json encoderCache (sync.Map of funcs) only grows" has TG102 encoding/json/encode.go
check "exec test helperCommands only grows" has TG102 os/exec/exec_test.go
check "exec test registerHelperCommand" has TG103 os/exec/exec_test.go
check "http reqCanceler closure captures a channel" has TG104 net/http/transport.go
check "package-level func map: dist commands" has TG101 cmd/dist/main.go
check "package-level func map: gob helpers (named func type)" has TG101 encoding/gob/dec_helpers.go
check "package-level func map: js funcs" has TG101 syscall/js/func.go
check "js FuncOf overwrite note" has TG105 syscall/js/func.go
# Found since the type facts, the cross-package calls and Register-like by behaviour.
check "named map type of funcs: go/types opPredicates" has TG101 go/types/expr.go
check "named map type of funcs: types2 opPredicates" has TG101 cmd/compile/internal/types2/expr.go
check "link createGeneratorSymbol stores its func parameter" has TG103 cmd/link/internal/ld/link.go
check "link addGeneratedSym stores it through createGeneratorSymbol" has TG103 cmd/link/internal/ld/pcln.go
check "http's wasm fetch closures reach js.funcs through js.FuncOf (another package)" has TG104 net/http/roundtrip_js.go
check "net tests' filter closures reach socktest through Set" has TG104 net/net_test.go
# Reviewed non-findings: maps that do shrink, or registries of non-func values.
check "socktest Switch.fltab: Set(t, nil) from the net tests releases a filter" lacks TG102 net/internal/socktest/switch.go
check "socktest Set is not Register-like once nil clears the slot" lacks TG103 net/internal/socktest/switch.go
check "runtime/mkpreempt.go is //go:build ignore" lacks TG101 runtime/mkpreempt.go
check "js funcs is deleted by Func.Release" lacks TG102 syscall/js/func.go
check "http reqCanceler is deleted" lacks TG102 net/http/transport.go
check "ServeMux holds muxEntry structs, not funcs" lacks TG102 net/http/server.go
check "database/sql drivers hold interfaces, not funcs" lacks TG101 database/sql/sql.go
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
