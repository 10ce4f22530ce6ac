#!/usr/bin/env bash
# Checks the Promela models of libtether's protocol (model/*.pml) with spin, then
# every mutation of them that is known to be wrong, which must give a
# counterexample. Called by `make model` and by the model tier of `make check`.
#
# First model/check-refs.sh: each step's reference to src/ must still hold.
# Then, for each model, an exhaustive safety search (assertions, invalid end
# states) and a liveness search (the `live` claim, acceptance cycles, weak
# fairness), each bounded in depth (a search that hits the bound fails). Prints
#   model: NAME ok (S states)      S: states stored by both searches
#   model: NAME FAIL
#   mutation: NAME caught          its search found a counterexample, and the
#                                  same search of the unmutated model passed
#   mutation: NAME missed
# and ends with "N passed, M failed"; exits 1 when a model fails or a mutation
# is missed. Work, logs and counterexample trails: build-model/NAME/.
#
# Usage: scripts/model.sh [NAME...]   (default: every model and mutation)
# MODEL_JOBS (default: nproc) searches run at once.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
root=$PWD
out=$root/build-model
jobs=${MODEL_JOBS:-$(nproc)}
depth=100000

for tool in spin gcc; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "model: $tool is not installed (scripts/deps.sh model installs it)" >&2
    exit 2
  fi
done

# NAME|FILE|SPIN FLAGS|SEARCHES ("safety live", or "safety": the liveness of
# that configuration is left to smaller ones, for time)
models=(
  "reclaim-membarrier|reclaim.pml|-DNW=1 -DR0=1,1,0 -DR1=1,1,1|safety live"
  "reclaim-fence|reclaim.pml|-DFENCED -DNW=1 -DR0=1,1,0 -DR1=1,1,1|safety live"
  "limbo|reclaim.pml|-DNW=2 -DINLINE_RECLAIM -DR0=1,2,1 -DR1=0,0,0|safety live"
  "barrier|reclaim.pml|-DBARRIER -DNW=1 -DR0=1,2,0 -DR1=0,0,0|safety live"
  "records-membarrier|reclaim.pml|-DATTACHED1=0 -DNW=1 -DR0=1,1,0 -DR1=2,1,0|safety"
  "records-fence|reclaim.pml|-DFENCED -DATTACHED1=0 -DNW=1 -DR0=1,1,0 -DR1=2,1,0|safety live"
  "claim|claim.pml||safety live"
  "replace|claim.pml|-DREPLACE|safety live"
  "refs|refs.pml||safety live"
)

# NAME|MODEL|MACRO|SEARCH (safety or live)
mutations=(
  "no-membarrier|reclaim-membarrier|MUT_NO_MEMBARRIER|safety"
  "no-reader-fence|reclaim-fence|MUT_NO_READER_FENCE|safety"
  "tls-unfenced|records-fence|MUT_TLS_UNFENCED|safety"
  "help-check-skipped|limbo|MUT_NO_HELP_CHECK|live"
  "help-load-hoisted|limbo|MUT_HELP_HOISTED|live"
  "one-epoch-early|reclaim-membarrier|MUT_EARLY|safety"
  "collect-stops-at-oldest|limbo|MUT_OLDEST|live"
  "give-up-unflagged|limbo|MUT_GIVE_UP_UNFLAGGED|live"
  "old-try-advance|reclaim-membarrier|MUT_OLD_TRY_ADVANCE|live"
  "bg-clears-armed-first|limbo|MUT_BG_ARMED_FIRST|live"
  "bell-before-due|limbo|MUT_BELL_FIRST|live"
  "nested-exit-clears|limbo|MUT_NESTED_CLEAR|safety"
  "barrier-skips-inflight|barrier|MUT_DRAIN_SKIPS_INFLIGHT|safety"
  "claim-without-cas|claim|MUT_CLAIM_NO_CAS|safety"
  "touch-keeps-version|claim|MUT_TOUCH_NO_VERSION|safety"
  "handoff-without-arm|claim|MUT_HANDOFF_NO_ARM|live"
  "replace-without-mark|replace|MUT_REPLACE_NO_MARK|safety"
  "replace-claims-first|replace|MUT_REPLACE_CLAIM_FIRST|safety"
  "zombie-ignored|refs|MUT_ZOMBIE_IGNORED|safety"
  "release-keeps-zombie|refs|MUT_RELEASE_KEEPS_ZOMBIE|live"
  "topic-unpinned|refs|MUT_TOPIC_UNPINNED|safety"
)

field() { # field N "a|b|c"
  local IFS='|'
  local -a f
  read -r -a f <<<"$2"
  printf '%s' "${f[$1]:-}"
}

model_line() { # the table line of model NAME
  local m
  for m in "${models[@]}"; do
    [ "$(field 0 "$m")" = "$1" ] && { printf '%s' "$m"; return 0; }
  done
  return 1
}

# One search: search DIR FILE "SPIN FLAGS" KIND "GCC FLAGS". Writes DIR/result:
# "pass STATES", "fail STATES WHAT" or "error WHAT".
search() {
  local dir=$1 file=$2 flags=$3 kind=$4 cflags=$5
  rm -rf "$dir"
  mkdir -p "$dir"
  cd "$dir" || return
  # Local copies: spin and pan write their files (the trail too) next to them.
  cp "$root"/model/*.pml .
  # shellcheck disable=SC2086
  if ! spin -a $flags "$file" >spin.log 2>&1; then
    echo "error $(grep -m1 -i error spin.log)" >result
    return
  fi
  local defs="-DMEMLIM=1536 -DVECTORSZ=512"
  local run=(./pan -m"$depth")
  if [ "$kind" = safety ]; then
    defs="$defs -DSAFETY -DNOCLAIM"
  else
    defs="$defs -DNFAIR=3"
    run+=(-a -f)
  fi
  # Verifiers are kept by the hash of their source and flags: a model that did
  # not change is not compiled again.
  local key
  key=$(cat pan.c pan.h pan.m pan.b pan.t pan.p 2>/dev/null | sha256sum | cut -c1-32)-$(echo "$cflags $defs" | sha256sum | cut -c1-8)
  if [ -x "$out/cache/$key" ]; then
    cp "$out/cache/$key" pan
    touch "$out/cache/$key"
  else
    # shellcheck disable=SC2086
    if ! gcc $cflags -w $defs -o pan pan.c >gcc.log 2>&1; then
      echo "error gcc: $(head -1 gcc.log)" >result
      return
    fi
    mkdir -p "$out/cache"
    cp pan "$out/cache/$key.$BASHPID" && mv "$out/cache/$key.$BASHPID" "$out/cache/$key"
  fi
  "${run[@]}" >pan.log 2>&1
  local errors states
  errors=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' pan.log | tail -1)
  states=$(awk '/states, stored/ {print $1; exit}' pan.log)
  if [ -z "$errors" ] || [ -z "$states" ]; then
    echo "error pan: $(tail -1 pan.log)" >result
  elif [ "$errors" -gt 0 ]; then
    local what
    what=$(grep -m1 -E 'assertion violated|acceptance cycle|invalid end state|error:' pan.log | sed 's/^pan:[0-9]*: *//')
    # The counterexample, step by step, for whoever reads it.
    # shellcheck disable=SC2086
    [ -f "$file.trail" ] && spin -t -p -g -l $flags "$file" >trail.txt 2>&1
    echo "fail $states $what" >result
  elif grep -qE 'max search depth too small|reached -DMEMLIM|out of memory' pan.log; then
    echo "error pan: search incomplete ($(grep -m1 -E 'max search depth too small|reached -DMEMLIM|out of memory' pan.log))" >result
  else
    echo "pass $states" >result
  fi
}

# The searches to make: "DIR|FILE|FLAGS|KIND|CFLAGS", one per line.
plan() {
  local m name file flags kind mu mname base mac b
  for m in "${models[@]}"; do
    name=$(field 0 "$m")
    want "$name" || continue
    file=$(field 1 "$m")
    flags=$(field 2 "$m")
    # -Og: pan.c compiles in a quarter of -O2's time and searches almost as fast.
    for kind in $(field 3 "$m"); do
      echo "$out/$name/$kind|$file|$flags|$kind|-Og"
    done
  done
  for mu in "${mutations[@]}"; do
    mname=$(field 0 "$mu")
    base=$(field 1 "$mu")
    mac=$(field 2 "$mu")
    kind=$(field 3 "$mu")
    want "$mname" || continue
    b=$(model_line "$base") || { echo "model.sh: mutation $mname: no model $base" >&2; exit 2; }
    # -O0: compiles fastest, and a mutation's search stops at its counterexample.
    echo "$out/mutation-$mname|$(field 1 "$b")|$(field 2 "$b") -D$mac|$kind|-O0"
  done
}

selected=("$@")
want() {
  [ "${#selected[@]}" -eq 0 ] && return 0
  local s
  for s in "${selected[@]}"; do
    [ "$s" = "$1" ] && return 0
  done
  return 1
}
for s in "${selected[@]+"${selected[@]}"}"; do
  known=0
  for m in "${models[@]}" "${mutations[@]}"; do
    [ "$(field 0 "$m")" = "$s" ] && known=1
  done
  if [ "$known" -eq 0 ]; then
    echo "model.sh: no model or mutation named '$s'" >&2
    exit 2
  fi
done
# A mutation's model is searched too, so that "caught" means something.
for mu in "${mutations[@]}"; do
  if [ "${#selected[@]}" -gt 0 ] && want "$(field 0 "$mu")"; then
    want "$(field 1 "$mu")" || selected+=("$(field 1 "$mu")")
  fi
done

if ! model/check-refs.sh; then
  echo "model: references to src/ are stale (model/check-refs.sh)"
  echo "0 passed, 1 failed"
  exit 1
fi

mkdir -p "$out"
# Verifiers not used for a week go.
find "$out/cache" -type f -mtime +7 -delete 2>/dev/null
export -f search field
export root depth out
plan >"$out/plan"
# Longest first: the models' liveness searches, then the rest.
grep '|live|-Og' "$out/plan" >"$out/plan.sorted" || true
grep -v '|live|-Og' "$out/plan" >>"$out/plan.sorted" || true
# The searches run in a session of their own, so that an interrupt or a tier's
# timeout ends every pan with this script.
# shellcheck disable=SC2016 # $1 is the inner shell's
setsid xargs -0 -a <(tr '\n' '\0' <"$out/plan.sorted") -P "$jobs" -I{} \
  bash -c 'IFS="|" read -r d f fl k c <<<"$1"; search "$d" "$f" "$fl" "$k" "$c"' _ {} &
searches=$!
trap 'kill -TERM -- -"$searches" 2>/dev/null; exit 130' INT TERM
wait "$searches"
trap - INT TERM

passed=0
failed=0
result() { cat "$1/result" 2>/dev/null || echo "error no result"; }
detail() { # what a result says, without its state count
  case "$1" in
    fail\ *) read -r _ _ d <<<"$1"; echo "$d" ;;
    pass\ *) echo "no counterexample" ;;
    *) echo "${1#error }" ;;
  esac
}
for m in "${models[@]}"; do
  name=$(field 0 "$m")
  want "$name" || continue
  s=$(result "$out/$name/safety")
  l="pass 0"
  [[ " $(field 3 "$m") " != *" live "* ]] || l=$(result "$out/$name/live")
  if [ "${s%% *}" = pass ] && [ "${l%% *}" = pass ]; then
    read -r _ ns <<<"$s"
    read -r _ nl <<<"$l"
    echo "model: $name ok ($((ns + nl)) states)"
    passed=$((passed + 1))
  else
    echo "model: $name FAIL"
    [ "${s%% *}" = pass ] || echo "  safety: $(detail "$s") (build-model/$name/safety)"
    [ "${l%% *}" = pass ] || echo "  liveness: $(detail "$l") (build-model/$name/live)"
    failed=$((failed + 1))
  fi
done
for mu in "${mutations[@]}"; do
  mname=$(field 0 "$mu")
  want "$mname" || continue
  kind=$(field 3 "$mu")
  r=$(result "$out/mutation-$mname")
  b=$(result "$out/$(field 1 "$mu")/$kind")
  if [ "${r%% *}" = fail ] && [ "${b%% *}" = pass ]; then
    echo "mutation: $mname caught"
    passed=$((passed + 1))
  else
    echo "mutation: $mname missed"
    if [ "${b%% *}" != pass ]; then
      echo "  (the unmutated model $(field 1 "$mu") fails this search too)"
    else
      echo "  $(detail "$r") (build-model/mutation-$mname)"
    fi
    failed=$((failed + 1))
  fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
