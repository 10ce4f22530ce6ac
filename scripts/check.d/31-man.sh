#!/usr/bin/env bash
# The manual: every page (docs/man/*.3, tether.7, docs/tether.1) passes Debian's
# `mandoc -T lint` with nothing above style level; every public name of the header
# and of the shared library's dynamic symbols has its page (scripts/man-check.py);
# `make install` installs the pages and a link for each other name a page
# documents; and every page's EXAMPLES program compiles against the installed copy
# (warnings are errors) and runs, exiting 0.
. "$(dirname "$0")/../tier.sh"

pages=(docs/man/*.3 docs/man/tether.7 docs/tether.1)
lint=$(mandoc -T lint -W warning "${pages[@]}" 2>&1)
lint_rc=$?
if [ "$lint_rc" -eq 0 ] && [ -z "$lint" ]; then
  styles=$(mandoc -T lint -W style "${pages[@]}" 2>&1 | grep -c ': STYLE: ')
  ok "mandoc -T lint: ${#pages[@]} pages, nothing above style level ($styles style notes)"
else
  echo "$lint"
  bad "mandoc -T lint -W warning (exit $lint_rc)"
fi

make -s install DESTDIR="$scratch" PREFIX=/usr/local >/dev/null || { bad "make install"; finish; }
prefix=$scratch/usr/local
lib=$(ls "$prefix"/lib*/libtether.so.0 2>/dev/null | head -1)
version=$(sed -n 's/^project(tether VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
out=$(python3 scripts/man-check.py coverage include/tether/tether.h docs/man src "$lib" "$version")
echo "$out" | grep -v '^[0-9]* passed'
p=$(echo "$out" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
f=$(echo "$out" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
passed=$((passed + ${p:-0}))
failed=$((failed + ${f:-1}))

# Installed: each page, a link per other documented name, tether(7) and tether(1).
man=$prefix/share/man
missing=()
for page in docs/man/*.3; do [ -f "$man/man3/$(basename "$page")" ] || missing+=("$page"); done
[ -f "$man/man7/tether.7" ] || missing+=(tether.7)
[ -f "$man/man1/tether.1" ] || missing+=(tether.1)
[ ${#missing[@]} -eq 0 ] && ok "make install installs every page" || bad "not installed: ${missing[*]}"
links=0
broken=()
for name in $(python3 - <<'PY'
import glob, re, os
for p in glob.glob("docs/man/*.3"):
    t = open(p).read()
    m = re.search(r"^\.Sh NAME\n(.*?)^\.(Nd|Sh)", t, re.S | re.M)
    for n in re.findall(r"^\.Nm (\w+)", m.group(1), re.M):
        if n + ".3" != os.path.basename(p):
            print(n)
PY
); do
  links=$((links + 1))
  if [ -L "$man/man3/$name.3" ] && [ -f "$man/man3/$name.3" ]; then :; else broken+=("$name.3"); fi
done
[ ${#broken[@]} -eq 0 ] && ok "$links other names installed as links to their page (man 3 tether_register_at works)" ||
  bad "links missing or dangling: ${broken[*]}"
if [ "$(readlink "$man/man3/tether_acquire_at.3")" = tether_acquire.3 ] &&
   MANPATH="$man" MANWIDTH=80 man -P cat 3 tether_acquire_at 2>/dev/null | grep_all "tether_acquire_at,"; then
  ok "man 3 tether_acquire_at shows tether_acquire(3) through its link"
else
  bad "man does not find tether_acquire_at(3) in the staged tree"
fi

# Every EXAMPLES program, compiled as a user would and run.
mkdir -p "$scratch/ex"
n=0
for src in $(python3 scripts/man-check.py examples docs/man "$scratch/ex"); do
  n=$((n + 1))
  name=$(basename "$src" .c)
  if ! cc -Wall -Wextra -Werror -I"$prefix/include" "$src" -o "$scratch/ex/$name" -L"$(dirname "$lib")" -ltether -lpthread \
       2>"$scratch/ex/$name.cc.log"; then
    cat "$scratch/ex/$name.cc.log"
    bad "example of ${name%_*}(${name##*_}) does not compile"
  elif (cd "$scratch/ex" && LD_LIBRARY_PATH="$(dirname "$lib")" timeout 20 "./$name" >"$name.out" 2>&1); then
    ok "example of ${name%_*}(${name##*_}) compiles and runs: $(head -1 "$scratch/ex/$name.out")"
  else
    cat "$scratch/ex/$name.out"
    bad "example of ${name%_*}(${name##*_}) exits with $?"
  fi
done
pagecount=$(ls docs/man/*.3 docs/man/*.7 | wc -l)
[ "$n" -eq "$pagecount" ] && ok "all $pagecount pages have an example program" || bad "$n example programs for $pagecount pages"
finish
