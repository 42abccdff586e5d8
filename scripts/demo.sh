#!/usr/bin/env bash
# The demo: installs build dependencies, fetches ML-100K, builds seqrec (release) and trains RecBLR for a few
# epochs, then prints test metrics and one user's top-10 movies. Extra arguments go to `seqrec demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/fetch-data.sh ml-100k
source scripts/swiftflags.sh
echo "== building seqrec (release)" >&2
log="$(mktemp)"
if ! swift build -c release "${SEQREC_SWIFTFLAGS[@]}" --product seqrec >"$log" 2>&1; then
  cat "$log" >&2
  echo "demo: the build failed (log above)" >&2
  exit 1
fi
rm -f "$log"
exec "$(swift build -c release "${SEQREC_SWIFTFLAGS[@]}" --show-bin-path)/seqrec" demo "$@"
