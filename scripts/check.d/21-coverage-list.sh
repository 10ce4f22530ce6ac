#!/usr/bin/env bash
# The list of src/ lines that make coverage leaves uncovered (docs/testing.md,
# "Lines of src/ left uncovered"): every entry's line still holds the code it
# quotes. make coverage checks that the list is complete and exact; this tier
# catches an edit of src/ that moved a listed line, without a coverage build.
set -uo pipefail
cd "$(dirname "$0")/../.."
python3 scripts/coverage.py check-doc docs/testing.md
