#!/usr/bin/env python3
"""Checks that the manual covers the public API, and extracts the pages' examples.

man-check.py coverage HEADER MANDIR SRCDIR LIBRARY VERSION
    Every public name is derived from the header itself (TETHER_API functions,
    macros, enum constants, the error codes of TETHER_ERRNO_MAP, typedefs and the
    fields of public structs) and from `nm -D` of the shared library. Functions and
    function-like macros need a page that names them in its NAME section (.Nm);
    constants and types must appear in a page; the fields of a struct each in a list
    item (.It Va) of the page that shows it; every variable the library reads with getenv() in
    tether(7)'s ENVIRONMENT; every .Xr to a tether page must resolve; every page
    says the project's version (.Os tether VERSION). Prints ok:/FAILED: lines and
    "N passed, M failed".
man-check.py examples MANDIR OUTDIR
    Writes each page's EXAMPLES program (a literal display with a main) to
    OUTDIR/PAGE.c, unescaped; prints the file names.
"""
import glob
import os
import re
import subprocess
import sys


def strip_comments(text):
    return re.sub(r"/\*.*?\*/", " ", text, flags=re.S)


def header_names(path):
    raw = open(path).read()
    text = strip_comments(raw)
    names = {"function": set(), "fmacro": set(), "constant": set(), "type": set()}
    for m in re.finditer(r"(?<!define )TETHER_API\s+[^;(]*?(\w+)\s*\(", text):
        names["function"].add(m.group(1))
    undefined = set(re.findall(r"^\s*#\s*undef\s+(\w+)", text, re.M))
    guard = re.search(r"^\s*#\s*ifndef\s+(\w+)\s*\n\s*#\s*define\s+\1\b", text, re.M)
    skip = undefined | {"TETHER_API"} | ({guard.group(1)} if guard else set())
    for m in re.finditer(r"^\s*#\s*define\s+(\w+)(\()?", text, re.M):
        if m.group(1) in skip:
            continue
        names["fmacro" if m.group(2) else "constant"].add(m.group(1))
    # A macro of the same name as a function (tether_acquire) is that function's.
    names["fmacro"] -= names["function"]
    for m in re.finditer(r"\benum\s*\w*\s*\{(.*?)\}", text, re.S):
        body = re.sub(r"#.*", "", m.group(1))
        for item in body.split(","):
            ident = re.match(r"\s*(\w+)", item)
            if ident and not re.match(r"TETHER_ERRNO_MAP$", ident.group(1)):
                names["constant"].add(ident.group(1))
    for m in re.finditer(r"^\s*X\((\w+),", text, re.M):
        names["constant"].add("TETHER_" + m.group(1))
    for m in re.finditer(r"\btypedef\b[^;{]*?\(\*\s*(\w+)\)", text):
        names["type"].add(m.group(1))
    for m in re.finditer(r"\btypedef\s+(?:struct|enum)\s+\w+\s+(\w+)\s*;", text):
        names["type"].add(m.group(1))
    for m in re.finditer(r"\btypedef\s+[\w ]+?\s(\w+)\s*;", text):
        names["type"].add(m.group(1))
    for m in re.finditer(r"\btypedef\s+enum\s+\w*\s*\{.*?\}\s*(\w+)\s*;", text, re.S):
        names["type"].add(m.group(1))
    fields = {}
    for m in re.finditer(r"\btypedef\s+struct\s+(\w+)\s*\{(.*?)\}\s*(\w+)\s*;", text, re.S):
        names["type"].add(m.group(3))
        got = []
        for decl in m.group(2).split(";"):
            decl = decl.strip()
            if not decl:
                continue
            fp = re.search(r"\(\*\s*(\w+)\)", decl)
            if fp:
                got.append(fp.group(1))
                continue
            for part in decl.split(","):
                ident = re.search(r"(\w+)\s*(\[[^\]]*\])?\s*$", part)
                if ident:
                    got.append(ident.group(1))
        fields[m.group(3)] = got
    names["constant"] -= names["fmacro"]
    return names, fields


def exported(library):
    out = subprocess.run(["nm", "-D", "--defined-only", library], check=True,
                         capture_output=True, text=True).stdout
    syms = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[1] != "A":
            syms.add(parts[2].split("@")[0])
    return syms


def pages(mandir):
    got = {}
    for path in sorted(glob.glob(os.path.join(mandir, "*.[37]"))):
        got[os.path.basename(path)] = open(path).read()
    return got


def nm_names(text):
    m = re.search(r"^\.Sh NAME\n(.*?)^\.(Nd|Sh)", text, re.S | re.M)
    return re.findall(r"^\.Nm (\w+)", m.group(1), re.M) if m else []


def coverage(header, mandir, srcdir, library, version):
    passed = failed = 0

    def check(cond, ok_msg, bad_msg):
        nonlocal passed, failed
        if cond:
            passed += 1
            print("ok: " + ok_msg)
        else:
            failed += 1
            print("FAILED: " + bad_msg)

    names, fields = header_names(header)
    docs = pages(mandir)
    alltext = "\n".join(docs.values())
    named = {}
    for page, text in docs.items():
        for n in nm_names(text):
            named[n] = page
    syms = exported(library)
    check(len(names["function"]) > 20 and names["function"] <= syms | set(),
          "%d functions in the header, all exported" % len(names["function"]),
          "functions in the header but not exported: %s" % sorted(names["function"] - syms))
    check(syms <= names["function"], "%d exported symbols, all declared in the header" % len(syms),
          "exported but not declared in the header: %s" % sorted(syms - names["function"]))
    need_page = names["function"] | names["fmacro"] | syms
    missing = sorted(n for n in need_page if n not in named)
    check(not missing, "%d functions and function-like macros each have a page (.Nm): %s"
          % (len(need_page), ", ".join(sorted(need_page))),
          "no page names (.Nm) these: %s" % ", ".join(missing))
    for kind in ("constant", "type"):
        absent = sorted(n for n in names[kind] if not re.search(r"\b%s\b" % re.escape(n), alltext))
        check(not absent, "%d %ss each appear in a page" % (len(names[kind]), kind),
              "%ss in no page: %s" % (kind, ", ".join(absent)))
    for struct, flist in sorted(fields.items()):
        shown = [p for p, t in docs.items() if re.search(r"^\} %s;$" % struct, t, re.M)]
        if not shown:
            shown = [p for p, t in docs.items() if re.search(r"\b%s\b" % struct, t)]
        text = "\n".join(docs[p] for p in shown)
        absent = [f for f in flist
                  if not re.search(r"^\.It (Va|Fa) (.* )?%s\b" % re.escape(f), text, re.M)]
        check(shown and not absent, "%s: its %d fields are described in %s" % (struct, len(flist), ", ".join(shown)),
              "%s: fields not described (.Va) in %s: %s" % (struct, ", ".join(shown) or "no page", ", ".join(absent)))
    env = set()
    for path in glob.glob(os.path.join(srcdir, "*.c")):
        env |= set(re.findall(r'getenv\("(\w+)"\)', open(path).read()))
    seven = docs.get("tether.7", "")
    envsec = re.search(r"^\.Sh ENVIRONMENT\n(.*?)^\.Sh ", seven, re.S | re.M)
    absent = sorted(e for e in env if not envsec or not re.search(r"^\.It Ev %s$" % e, envsec.group(1), re.M))
    check(env and not absent, "tether(7) ENVIRONMENT describes %s" % ", ".join(sorted(env)),
          "environment variables the library reads but tether(7) does not describe: %s" % ", ".join(absent))
    ours = set(named) | {"tether"}
    dangling = sorted({"%s(%s) in %s" % (m.group(1), m.group(2), p)
                       for p, t in docs.items() for m in re.finditer(r"^\.Xr (\w+) (\d)", t, re.M)
                       if m.group(1).lower().startswith("tether") and m.group(1) not in ours})
    check(not dangling, "every .Xr to a tether page resolves", "dangling references: %s" % ", ".join(dangling))
    stale = sorted(p for p, t in docs.items() if not re.search(r"^\.Os tether %s$" % re.escape(version), t, re.M))
    check(not stale, "every page is of version %s (.Os)" % version, "pages not saying .Os tether %s: %s" % (version, ", ".join(stale)))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


def unescape(line):
    line = line.replace("\\e", "\0").replace("\\&", "").replace("\\-", "-")
    return line.replace("\0", "\\")


def examples(mandir, outdir):
    for page, text in pages(mandir).items():
        sec = re.search(r"^\.Sh EXAMPLES\n(.*?)(^\.Sh |\Z)", text, re.S | re.M)
        if not sec:
            continue
        for block in re.findall(r"^\.Bd -literal[^\n]*\n(.*?)^\.Ed$", sec.group(1), re.S | re.M):
            if "int main(" not in block:
                continue
            out = os.path.join(outdir, page.replace(".", "_") + ".c")
            with open(out, "w") as f:
                f.write("".join(unescape(l) + "\n" for l in block.splitlines()))
            print(out)
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 7 and sys.argv[1] == "coverage":
        sys.exit(coverage(*sys.argv[2:]))
    if len(sys.argv) == 4 and sys.argv[1] == "examples":
        sys.exit(examples(*sys.argv[2:]))
    sys.exit("usage: man-check.py coverage HEADER MANDIR SRCDIR LIBRARY VERSION | examples MANDIR OUTDIR")
