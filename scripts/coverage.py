#!/usr/bin/env python3
"""The figures of make coverage, and the list of src/ lines left uncovered.

docs/testing.md lists every line of src/ that the test tiers do not execute, one
entry per line or run of lines, each with its reason:

    - src/FILE.c:LINE `the line's code`: why it is not covered.
    - src/FILE.c:FIRST-LAST `the first line's code`: why.

A reason that starts with "Sometimes covered" marks a line that timing decides
(it may be covered in one run and not the next); every other listed line must be
uncovered.

Subcommands:
  report SUMMARY.json COVERAGE.json DOC OUT
      (gcovr's --json-summary and --json) prints "src lines: ..., branches: ..."
      and the same for tools/, checks src/ against its target, writes the lines of
      src/ left uncovered to OUT in the doc's form, and compares them with DOC's
      list: a line uncovered and not listed, or listed and covered, fails.
  check-doc DOC
      each entry's file exists and its line still holds the code the entry quotes
      (make check runs this: an edit of src/ that moves a listed line fails it).
  relocate DOC
      moves entries whose line moved to the line that now holds their code (the
      nearest one), keeping the reasons; prints what it moved.
"""
import json
import os
import re
import sys

TARGET_LINES = 95.0
TARGET_BRANCHES = 85.0
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENTRY = re.compile(r"^- (src/[\w./-]+):(\d+)(?:-(\d+))? `([^`]*)`: (.+)$")


def pct(covered, total):
    return 100.0 * covered / total if total else 100.0


def figures(summary, prefix):
    """Sums gcovr's per-file summary over the files under PREFIX."""
    lc = lt = bc = bt = 0
    for f in summary["files"]:
        if f["filename"].startswith(prefix):
            lc += f["line_covered"]
            lt += f["line_total"]
            bc += f["branch_covered"]
            bt += f["branch_total"]
    return lc, lt, bc, bt


def source_line(path, n):
    try:
        with open(os.path.join(ROOT, path), encoding="utf-8", errors="replace") as fh:
            lines = fh.read().split("\n")
    except OSError:
        return None
    return lines[n - 1].strip() if 1 <= n <= len(lines) else None


def read_doc(path):
    """The entries of DOC: (file, first, last, code, reason, line index in DOC)."""
    entries = []
    with open(path, encoding="utf-8") as fh:
        for i, text in enumerate(fh.read().split("\n")):
            m = ENTRY.match(text)
            if m:
                first = int(m.group(2))
                last = int(m.group(3) or first)
                entries.append((m.group(1), first, last, m.group(4), m.group(5), i))
    return entries


def uncovered_runs(cov):
    """Runs of uncovered code lines of src/: (file, first, last), a run going on over
    lines that hold no code."""
    runs = []
    code = {}
    for f in sorted(cov["files"], key=lambda f: f["file"]):
        name = f["file"]
        if not name.startswith("src/"):
            continue
        lines = sorted(
            (l for l in f["lines"] if not l.get("gcovr/noncode") and not l.get("gcovr/excluded")),
            key=lambda l: l["line_number"],
        )
        code[name] = {l["line_number"] for l in lines}
        run = None
        for l in lines:
            if l["count"] == 0:
                if run is None:
                    run = [l["line_number"], l["line_number"]]
                else:
                    run[1] = l["line_number"]
            elif run is not None:
                runs.append((name, run[0], run[1]))
                run = None
        if run is not None:
            runs.append((name, run[0], run[1]))
    return runs, code


def report(summary_path, cov_path, doc_path, out_path):
    with open(summary_path) as fh:
        summary = json.load(fh)
    with open(cov_path) as fh:
        cov = json.load(fh)
    ok = True
    for label, prefix in (("src", "src/"), ("tools", "tools/")):
        lc, lt, bc, bt = figures(summary, prefix)
        print(f"{label} lines: {pct(lc, lt):.1f}% ({lc} of {lt}), branches: {pct(bc, bt):.1f}% ({bc} of {bt})")
        if label == "src":
            met = pct(lc, lt) >= TARGET_LINES and pct(bc, bt) >= TARGET_BRANCHES
            src_verdict = "met" if met else "NOT met"
            ok = ok and met
    print(f"src target ({TARGET_LINES:.0f}% of lines, {TARGET_BRANCHES:.0f}% of branches): {src_verdict}")

    runs, code = uncovered_runs(cov)
    with open(out_path, "w") as fh:
        for name, first, last in runs:
            span = f"{first}" if first == last else f"{first}-{last}"
            fh.write(f"- {name}:{span} `{source_line(name, first)}`: REASON\n")
    uncovered = {(n, i) for n, a, b in runs for i in range(a, b + 1) if i in code[n]}
    listed = set()
    sometimes = set()
    for name, first, last, _, reason, _ in read_doc(doc_path):
        lines = {(name, i) for i in range(first, last + 1) if i in code.get(name, ())}
        listed |= lines
        if reason.startswith("Sometimes covered"):
            sometimes |= lines
    missing = sorted(uncovered - listed)
    extra = sorted(listed - uncovered - sometimes)
    for name, i in missing:
        print(f"uncovered and not listed in {doc_path}: {name}:{i} `{source_line(name, i)}`")
    for name, i in extra:
        print(f"listed in {doc_path} but covered: {name}:{i} `{source_line(name, i)}`")
    print(f"uncovered lines of src/: {len(uncovered)} in {len(runs)} runs; "
          f"the list in {doc_path}: {'true' if not missing and not extra else 'NOT true'}")
    ok = ok and not missing and not extra
    return 0 if ok else 1


def check_doc(doc_path):
    passed = failed = 0
    entries = read_doc(doc_path)
    for name, first, last, code, _, _ in entries:
        got = source_line(name, first)
        if got is None or last < first or source_line(name, last) is None:
            print(f"FAILED: {doc_path}: {name}:{first}-{last}: no such line")
            failed += 1
        elif got != code:
            print(f"FAILED: {doc_path}: {name}:{first} holds `{got}`, not `{code}` "
                  "(the line moved: scripts/coverage.py relocate docs/testing.md)")
            failed += 1
        else:
            passed += 1
    if not entries:
        print(f"FAILED: {doc_path}: no entries")
        failed += 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


def relocate(doc_path):
    with open(doc_path, encoding="utf-8") as fh:
        text = fh.read().split("\n")
    moved = 0
    for name, first, last, code, reason, at in read_doc(doc_path):
        if source_line(name, first) == code:
            continue
        with open(os.path.join(ROOT, name), encoding="utf-8", errors="replace") as fh:
            lines = [l.strip() for l in fh.read().split("\n")]
        hits = [i + 1 for i, l in enumerate(lines) if l == code]
        if not hits:
            print(f"{name}:{first} `{code}`: no line holds this code any more; edit the entry")
            continue
        new = min(hits, key=lambda i: abs(i - first))
        delta = new - first
        span = f"{new}" if first == last else f"{new}-{last + delta}"
        text[at] = f"- {name}:{span} `{code}`: {reason}"
        print(f"{name}:{first} -> {name}:{new}")
        moved += 1
    with open(doc_path, "w", encoding="utf-8") as fh:
        fh.write("\n".join(text))
    print(f"{moved} entries moved")
    return 0


def main(argv):
    if len(argv) == 6 and argv[1] == "report":
        return report(*argv[2:])
    if len(argv) == 3 and argv[1] == "check-doc":
        return check_doc(argv[2])
    if len(argv) == 3 and argv[1] == "relocate":
        return relocate(argv[2])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
