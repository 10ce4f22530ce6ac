#!/usr/bin/env bash
# tether as a go vet tool, run by Debian's real `go vet -vettool` on the module in
# tests/fixtures/scan/gomod (three packages and a test file). Checks, against the
# real tool: the module builds and go's own vet passes on it; go vet with tether
# reports exactly the findings `tether scan --include-tests` reports at warning
# and above (file, line, column, rule), in vet's `file:line:col: message` form;
# its exit status equals the one go vet gives for its own analyzers' findings;
# -json, -fail-on, -RULE and -c behave; a clean module passes. Ends with
# "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
scripts/deps.sh go
bin=$(realpath "${TETHER_BIN:-./build/tether}")
work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
export GOCACHE="$work/cache" GOPATH="$work/gopath" GOFLAGS=-mod=mod GOPROXY=off GO111MODULE=on
cp -r tests/fixtures/scan/gomod "$work/mod"

passed=0
failed=0
check() { # check DESCRIPTION COMMAND...
  if "${@:2}"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: $1"; fi
}

# govet DIR ARGS...: runs go vet in DIR, stores stdout+stderr in $out and the status in $rc.
govet() {
  local dir=$1
  shift
  out=$(cd "$dir" && timeout 300 go vet "$@" 2>&1)
  rc=$?
}

govet "$work/mod" ./...
check "go's own vet passes on the fixture module (it builds)" test "$rc" -eq 0

# What go vet gives for its own analyzers' findings: the status to match.
mkdir -p "$work/bad"
printf 'module example.com/bad\n\ngo 1.19\n' >"$work/bad/go.mod"
printf 'package bad\n\nimport "fmt"\n\nfunc F() { fmt.Printf("%%d\\n", "x") }\n' >"$work/bad/bad.go"
govet "$work/bad" ./...
vet_rc=$rc
check "go's own vet fails on a Printf mistake" test "$vet_rc" -ne 0

govet "$work/mod" -vettool="$bin" ./...
check "go vet -vettool=tether exits as go vet does on findings ($vet_rc)" test "$rc" -eq "$vet_rc"
echo "$out" | head -n 40
vet_set=$(echo "$out" | sed -nE 's/^([^ :]+\.go):([0-9]+):([0-9]+): .* \[(T[A-Z][0-9]+)\]$/\1:\2:\3 \4/p' | sort -u)
scan_set=$(cd "$work/mod" && "$bin" scan --include-tests --format json . |
  sed -nE 's/^\{"rule":"(T[A-Z][0-9]+)","severity":"(warning|error)","file":"(\.\/)?([^"]+)","line":([0-9]+),"column":([0-9]+),.*/\4:\5:\6 \1/p' | sort -u)
check "vet output has findings" test -n "$vet_set"
check "vet and tether scan report the same findings (warning and above)" test "$vet_set" = "$scan_set"
if [ "$vet_set" != "$scan_set" ]; then diff <(echo "$vet_set") <(echo "$scan_set"); fi
check "the cross-package Register is reported" grep -q "^app/app.go:16:6: 'Register' stores its func parameter in func map 'hooks' (through 'Add')" <<<"$out"
check "the closure keeping the request context is an error" grep -q "^app/app.go:26:22: func literal .* captures ctx (Context: interface), r (pointer)" <<<"$out"
check "test files are vetted too" grep -q "^registry/registry_test.go:7:5: .*\[TG101\]" <<<"$out"
check "the //go:build ignore generator is not" bash -c '! grep -q "gen.go" <<<"$1"' _ "$out"
check "notes are not reported by default" bash -c '! grep -q "\[TG105\]" <<<"$1"' _ "$out"

govet "$work/mod" -vettool="$bin" -fail-on=error ./...
check "-fail-on=error still fails" test "$rc" -eq "$vet_rc"
check "-fail-on=error reports only errors" bash -c '! grep -qE "\[TG10[13]\]" <<<"$1" && grep -q "\[TG102\]" <<<"$1"' _ "$out"

govet "$work/mod" -vettool="$bin" -fail-on=note ./registry
check "-fail-on=note adds the notes" grep -q "registry/registry.go:41:2: .*\[TG105\]" <<<"$out"

govet "$work/mod" -vettool="$bin" -TG104 -c=1 ./plugins
check "-TG104 runs only that rule" bash -c 'grep -q "\[TG104\]" <<<"$1" && ! grep -qE "\[TG10[1235]\]" <<<"$1"' _ "$out"
check "-c=1 prints the line with context" grep -qE "^20	+app.Register" <<<"$out"

govet "$work/mod" -vettool="$bin" -TG101=false -TG103=false ./registry
check "-RULE=false drops rules" bash -c 'grep -q "\[TG102\]" <<<"$1" && ! grep -qE "\[TG10[13]\]" <<<"$1"' _ "$out"

govet "$work/mod" -vettool="$bin" -json ./...
check "-json exits 0" test "$rc" -eq 0
check "-json prints vet's JSON tree" grep -q '"TG102": \[' <<<"$out"

govet "$work/mod" -vettool="$bin" -no-such-flag ./...
check "an unknown flag is refused by go vet (from -flags)" test "$rc" -ne 0

mkdir -p "$work/clean"
printf 'module example.com/clean\n\ngo 1.19\n' >"$work/clean/go.mod"
printf 'package clean\n\nvar handlers = map[string]func(){}\n\nfunc On(k string, f func()) { handlers[k] = f }\n\nfunc Off(k string) { delete(handlers, k) }\n' >"$work/clean/clean.go"
govet "$work/clean" -vettool="$bin" -TG101=false ./...
check "a registry with an Off passes (exit 0, no output)" test "$rc" -eq 0 -a -z "$out"

id1=$("$bin" -V=full)
check "-V=full is a devel version line with a buildID" grep -qE '^tether version devel [^ ]+ buildID=[0-9a-f]{32}$' <<<"$id1"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
