#!/usr/bin/env bash
# Checks that every step of the models still points at the code it models.
#
# A model step carries a reference in a comment:
#     src/FILE:LINE FUNCTION: `ANCHOR`
# and the reference holds when line LINE of src/FILE lies in the body of
# FUNCTION (a function definition, or a #define and its continuation lines) and
# contains ANCHOR verbatim. A reference that no longer holds is stale: it is
# printed with what the line says now and where the anchor is now (when it is
# still in FUNCTION), and the script fails. So does a mention of src/FILE:LINE
# that is not a whole reference, and a model file without any reference.
#
# With --fix, a reference whose anchor is still in FUNCTION gets the number of
# the line holding it (of several, the one strictly nearest the old number moved
# by as much as the function's references with an anchor found once): the code
# moved, it did not change. It is printed as "moved" and no longer counts
# as stale; what it models should still be read again.
#
# Usage: model/check-refs.sh [--fix] [MODEL.pml...]   (default: every model/*.pml)
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2

fix=0
if [ "${1:-}" = --fix ]; then
  fix=1
  shift
fi
files=("$@")
if [ "${#files[@]}" -eq 0 ]; then
  files=(model/*.pml)
fi

# The span [first, last] of FUNCTION's body in FILE, or nothing.
span() {
  awk -v fn="$2" '
    function defines(line) {
      if (line ~ ("^#define " fn "([( ]|$)")) return 2
      if (line ~ /^[#\/ \t*}]/) return 0
      if (line ~ ("(^|[^A-Za-z0-9_])" fn "\\(")) return 1
      return 0
    }
    found == 0 {
      k = defines($0)
      if (k == 2) { start = NR; found = 2 }
      else if (k == 1) { start = NR; found = 1; text = "" }
      else next
    }
    found == 2 {
      if ($0 !~ /\\$/) { print start, NR; exit }
      next
    }
    found == 1 && decided == 0 {
      text = text $0
      b = index(text, "{"); s = index(text, ";")
      if (b == 0 && s == 0) next
      if (s != 0 && (b == 0 || s < b)) { found = 0; next } # a prototype
      decided = 1
    }
    found == 1 && decided == 1 && /^}/ { print start, NR; exit }
  ' "$1"
}

# parse_ref REF: sets src, line, fn and anchor from "src/F:LINE FUNCTION: `TEXT`".
parse_ref() {
  local loc=${1%% *} rest=${1#* }
  src=${loc%:*}
  line=${loc##*:}
  fn=${rest%%:*}
  anchor=${rest#*: \`}
  anchor=${anchor%\`}
}

# With --fix, first how far each function's code moved: the shift of every
# stale reference whose anchor occurs once in its function. A reference whose
# anchor occurs several times is then renumbered to the occurrence nearest its
# old line plus the shift of its function's other references (their median), so
# that code inserted above it does not send it to the wrong occurrence.
declare -A shifts
if [ "$fix" -eq 1 ]; then
  # shellcheck disable=SC2016 # the backquotes are the anchor's delimiters
  while IFS= read -r ref; do
    parse_ref "$ref"
    [ -f "$src" ] || continue
    read -r first last < <(span "$src" "$fn"; echo)
    [ -n "${first:-}" ] || continue
    mapfile -t at < <(sed -n "${first},${last}p" "$src" | grep -nF -- "$anchor" | cut -d: -f1)
    [ "${#at[@]}" -eq 1 ] || continue
    shifts["$src $fn"]+="$((at[0] + first - 1 - line)) "
  done < <(cat "${files[@]}" 2>/dev/null | grep -oE 'src/[A-Za-z0-9_./-]+:[0-9]+ [A-Za-z_][A-Za-z0-9_]*: `[^`]+`')
fi

refs=0
stale=0
for model in "${files[@]}"; do
  [ -f "$model" ] || { echo "check-refs: $model: no such file"; stale=$((stale + 1)); continue; }
  n_here=0
  while IFS= read -r hit; do
    mline=${hit%%:*}
    text=${hit#*:}
    # Every mention of src/FILE:LINE must be a whole reference.
    mentions=$(grep -oE 'src/[A-Za-z0-9_./-]+:[0-9]+' <<<"$text" | wc -l)
    # shellcheck disable=SC2016 # the backquotes are the anchor's delimiters
    whole=$(grep -oE 'src/[A-Za-z0-9_./-]+:[0-9]+ [A-Za-z_][A-Za-z0-9_]*: `[^`]+`' <<<"$text")
    nwhole=$(grep -c . <<<"$whole")
    [ -n "$whole" ] || nwhole=0
    if [ "$mentions" -ne "$nwhole" ]; then
      echo "$model:$mline: malformed reference (want src/FILE:LINE FUNCTION: \`ANCHOR\`): ${text#"${text%%[![:space:]]*}"}"
      stale=$((stale + 1))
    fi
    while IFS= read -r ref; do
      [ -n "$ref" ] || continue
      refs=$((refs + 1))
      n_here=$((n_here + 1))
      parse_ref "$ref"
      if [ ! -f "$src" ]; then
        echo "$model:$mline: stale: $ref ($src does not exist)"
        stale=$((stale + 1))
        continue
      fi
      read -r first last < <(span "$src" "$fn"; echo)
      if [ -z "${first:-}" ]; then
        echo "$model:$mline: stale: $ref ($fn is not defined in $src)"
        stale=$((stale + 1))
        continue
      fi
      now=$(sed -n "${line}p" "$src")
      if [ "$line" -ge "$first" ] && [ "$line" -le "$last" ] && [[ "$now" == *"$anchor"* ]]; then
        continue
      fi
      where=$(sed -n "${first},${last}p" "$src" | grep -nF -- "$anchor" | cut -d: -f1 |
        awk -v f="$first" '{printf "%s%d", (NR > 1 ? ", " : ""), $1 + f - 1}')
      if [ "$fix" -eq 1 ] && [ -n "$where" ]; then
        # The occurrence nearest the old line moved by the function's shift,
        # when one is strictly nearest.
        shift=$(tr ' ' '\n' <<<"${shifts["$src $fn"]:-0}" | grep . | sort -n |
          awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
        to=$(tr -d ' ' <<<"$where" | tr ',' '\n' | awk -v l="$((line + shift))" '
          { d = $1 - l; if (d < 0) d = -d; if (best == "" || d < bd) { best = $1; bd = d; tie = 0 } else if (d == bd) tie = 1 }
          END { if (!tie) print best }')
        if [ -n "$to" ]; then
          # Only the number changes, on that one line of the model.
          sed -i "${mline}s|$src:$line $fn: |$src:$to $fn: |" "$model"
          echo "$model:$mline: moved: $src:$line -> $src:$to $fn"
          continue
        fi
      fi
      echo "$model:$mline: stale: $ref"
      echo "    line $line reads: ${now#"${now%%[![:space:]]*}"}"
      if [ -n "$where" ]; then
        echo "    the anchor is in $fn at line $where"
      else
        echo "    the anchor is not in $fn ($src:$first-$last)"
      fi
      stale=$((stale + 1))
    done <<<"$whole"
  done < <(grep -n 'src/[A-Za-z0-9_./-]*:[0-9]' "$model")
  if [ "$n_here" -eq 0 ]; then
    echo "$model: no references to src/"
    stale=$((stale + 1))
  fi
done
echo "check-refs: $refs references, $stale stale"
[ "$stale" -eq 0 ]
