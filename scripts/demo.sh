#!/usr/bin/env bash
# The demo: installs build dependencies, fetches ML-100K, builds seqrec (release) and trains RecBLR for a few
# epochs, then prints test metrics and one user's top-10 movies. Extra arguments go to `seqrec demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/fetch-data.sh ml-100k
source scripts/swiftflags.sh
echo "== building seqrec (release)" >&2
swift build -c release "${SEQREC_SWIFTFLAGS[@]}" --product seqrec 2>&1 | grep -E "error|warning: unre|Compiling seqrec|Build" >&2 || true
exec "$(swift build -c release "${SEQREC_SWIFTFLAGS[@]}" --show-bin-path)/seqrec" demo "$@"
