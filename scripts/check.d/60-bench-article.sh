#!/usr/bin/env bash
# The quick check of make bench-article's Go half; the benchmark itself takes
# minutes and is not run here. Vets and unit-tests bench/go (the article's two
# registries; the report's parser, medians, verdicts, TSV, SVG and Markdown),
# runs articlebench on 1000 keys, feeds its lines to articlereport and checks
# article.tsv's comment line, header and first rows, then that bad input and bad
# usage are refused. Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
scripts/deps.sh go
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export GOPROXY=off GOFLAGS=-mod=mod

passed=0
failed=0
check() { # check DESCRIPTION COMMAND...
  if "${@:2}"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: $1"; fi
}
in_module() { (cd bench/go && "$@"); }

check "bench/go is gofmt-clean" test -z "$(cd bench/go && gofmt -l .)"
check "bench/go vets clean" in_module go vet ./...
check "bench/go unit tests pass" in_module go test -count=1 ./...
check "bench/go builds" in_module go build -o "$tmp/" ./cmd/articlebench ./cmd/articlereport
check "articlebench runs every configuration" sh -c "'$tmp/articlebench' -keys 1000 -ops 20000 -reps 1 >'$tmp/raw.tsv'"
check "one raw line per configuration" test "$(wc -l <"$tmp/raw.tsv")" -eq "$("$tmp/articlebench" -list | wc -l)"
check "articlereport writes the table" sh -c "'$tmp/articlereport' -out '$tmp/out' '$tmp/raw.tsv' >'$tmp/table.txt'"
tsv=$tmp/out/article.tsv
check "article.tsv starts with a # comment line" grep -q '^# set-up: ' <(head -1 "$tsv")
check "article.tsv's header" test "$(sed -n 2p "$tsv")" = "$(printf 'variant\tns_per_op\talloc_bytes\tgcs\tarticle_ns_per_op\tarticle_alloc_bytes\tarticle_gcs')"
check "the article's three rows come first" test "$(awk -F'\t' 'NR >= 3 && NR <= 5 {print $1}' "$tsv" | tr '\n' '|')" = 'map[string]func()|map[string]*func()|sync.Map|'
check "every row has seven cells" awk -F'\t' 'NR > 1 && NF != 7 {exit 1}' "$tsv"
check "a row per configuration" test "$(($(wc -l <"$tsv") - 2))" -eq "$("$tmp/articlebench" -list | wc -l)"
check "the article's numbers beside its rows" grep -qP '^map\[string\]\*func\(\)\t[0-9.]+\t[0-9]+\t[0-9]+\t4\.7\t800000\t3$' "$tsv"
check "the chart is an SVG" grep -q '^<svg xmlns="http://www.w3.org/2000/svg"' "$tmp/out/article.svg"
check "the printed table has a line per row" test "$(grep -c 'GOMAXPROCS=2' "$tmp/table.txt")" -ge 6

printf 'variant=x\tns_per_op=fast\n' >"$tmp/bad.tsv"
"$tmp/articlereport" -out "$tmp/bad" "$tmp/bad.tsv" >/dev/null 2>"$tmp/err"
check "a malformed raw line is refused with exit 1" test $? -eq 1
check "... and a one-line error naming the line" grep -qx "articlereport: $tmp/bad.tsv:1: ns_per_op=\"fast\" is not a number" "$tmp/err"
"$tmp/articlebench" -variant nosuch -keys 10 -ops 10 >/dev/null 2>&1
check "an unknown variant is refused with exit 2" test $? -eq 2
scripts/bench-article.sh >/dev/null 2>&1
check "bench-article.sh without OUTDIR exits 2" test $? -eq 2
scripts/bench-article.sh --bogus x >/dev/null 2>&1
check "bench-article.sh with an unknown option exits 2" test $? -eq 2
check "bench-article.sh parses" bash -n scripts/bench-article.sh
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
