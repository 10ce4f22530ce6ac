# Sourced by the tiers in scripts/check.d: runs from the repository root, with a
# scratch folder ($scratch) removed on exit, ok/bad counters and finish, which
# prints the "N passed, M failed" line check.sh counts and exits with the verdict.
set -uo pipefail
cd "$(dirname "$0")/../.."
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
passed=0
failed=0
ok() { echo "ok: $1"; passed=$((passed + 1)); }
bad() { echo "FAILED: $1"; failed=$((failed + 1)); }
finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit $?
}
# grep that reads all of its input (and prints nothing): `cmd | grep -q` may end
# before cmd has written everything, and under pipefail cmd's SIGPIPE then fails
# the pipeline, at random.
grep_all() { grep "$@" >/dev/null; }
