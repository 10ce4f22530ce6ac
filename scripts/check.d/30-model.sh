#!/usr/bin/env bash
# The Promela models of libtether's protocol and their mutations (model/,
# scripts/model.sh): every model passes and every known-wrong mutation gives a
# counterexample.
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/deps.sh model
exec scripts/model.sh
