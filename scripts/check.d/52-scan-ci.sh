#!/usr/bin/env bash
# tether scan in CI: runs each hook of .pre-commit-hooks.yaml the way pre-commit
# does (entry + args, from the repository root) on a scratch repository with a
# leaking registry and with a baseline; checks that the SARIF for the fixtures is
# valid JSON whose every result carries partialFingerprints, and that
# --format github writes one workflow command per finding. Ends with
# "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
bin=$(realpath "${TETHER_BIN:-./build/tether}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/path"
ln -s "$bin" "$work/path/tether" # the hooks run `tether` from PATH
export PATH="$work/path:$PATH"

passed=0
failed=0
check() { # check DESCRIPTION COMMAND...
  if "${@:2}"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: $1"; fi
}

# hook_cmd ID: the command line pre-commit runs for hook ID (entry, then args).
hook_cmd() {
  awk -v id="$1" '
    /^- id:/ { cur = $3 }
    cur == id && /^  entry:/ { sub(/^  entry: */, ""); entry = $0 }
    cur == id && /^  args:/ { sub(/^  args: *\[/, ""); sub(/\]$/, ""); gsub(/[",]/, " "); args = $0 }
    END { print entry " " args }' "$root/.pre-commit-hooks.yaml"
}

# A scratch repository: one leaking Go registry.
repo=$work/repo
mkdir -p "$repo/pkg"
cp tests/fixtures/scan/go/article_register/handlers.go "$repo/pkg/"
run_hook() { # run_hook ID: runs it in $repo, sets $rc and $out
  local cmd
  cmd=$(hook_cmd "$1")
  out=$(cd "$repo" && eval "$cmd" 2>&1)
  rc=$?
}

check "the hooks file names both hooks" test "$(grep -c '^- id:' .pre-commit-hooks.yaml)" -eq 2
check "the hooks run on Go and C files" grep -q 'types_or: \[go, c\]' .pre-commit-hooks.yaml

run_hook tether-scan
check "tether-scan fails on a registry that only grows" test "$rc" -eq 1
check "tether-scan names the finding" grep -q "pkg/handlers.go:6:5: error: func map" <<<"$out"

(cd "$repo" && tether scan --write-baseline .tether-baseline.json . >/dev/null 2>&1)
run_hook tether-scan-new
check "tether-scan-new passes when the baseline holds everything" test "$rc" -eq 0
printf '\nvar more = map[string]func(){}\n\nfunc More(k string, f func()) { more[k] = f }\n' >>"$repo/pkg/handlers.go"
sed -i '1i // a comment moves every line' "$repo/pkg/handlers.go"
run_hook tether-scan-new
check "tether-scan-new fails on a new leak" test "$rc" -eq 1
check "tether-scan-new reports only the new one" \
  bash -c 'grep -q "more" <<<"$1" && ! grep -q "variable '"'"'handlers'"'"'" <<<"$1"' _ "$out"

rm -f "$repo/pkg/handlers.go"
printf 'package pkg\n\nvar hooks = map[string]func(){}\n\nfunc On(k string, f func()) { hooks[k] = f }\n\nfunc Off(k string) { delete(hooks, k) }\n' >"$repo/pkg/clean.go"
run_hook tether-scan
check "tether-scan passes on a registry with an Off" test "$rc" -eq 0

sarif=$work/scan.sarif
(cd tests/fixtures/scan && "$bin" scan --format sarif . >"$sarif")
check "SARIF is JSON and every result has partialFingerprints" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
res = d["runs"][0]["results"]
assert len(res) > 50, len(res)
for r in res:
    fp = r["partialFingerprints"]["primaryLocationLineHash"]
    assert len(fp.split(":")[0]) == 16 and int(fp.split(":")[1]) >= 1, fp
prints = [(r["ruleId"], r["partialFingerprints"]["primaryLocationLineHash"],
           r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]) for r in res]
assert len(set(prints)) == len(prints), "two results share a fingerprint"
' "$sarif"

gh=$(cd tests/fixtures/scan && "$bin" scan --format github .)
n_json=$(cd tests/fixtures/scan && "$bin" scan --format json . | grep -c '^{"rule"')
n_gh=$(grep -cE '^::(error|warning|notice) file=[^,]+,line=[0-9]+,col=[0-9]+,title=T[A-Z][0-9]+::' <<<"$gh")
check "--format github writes one annotation per finding ($n_gh of $n_json)" test "$n_gh" -eq "$n_json"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
