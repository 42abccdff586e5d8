#!/usr/bin/env bash
# The whole test suite: installs build dependencies, fetches ML-100K, checks formatting, builds and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/fetch-data.sh ml-100k
source scripts/swiftflags.sh
echo "== swift format lint --strict" >&2
swift format lint --strict --recursive Package.swift Sources Tests
echo "== swift test (release)" >&2
swift test -c release "${SEQREC_SWIFTFLAGS[@]}" --parallel 2>&1
