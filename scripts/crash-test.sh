#!/usr/bin/env bash
# Crash test for `seqrec serve`: under sustained event load, kill -9 the server several times and restart it on the
# same state file; then check that every acknowledged event is in the log and that every user's stored state equals
# a replay of that user's log (`seqrec verify-state`); finally SIGTERM it under load and check the graceful shutdown
# (exit status 0, every user's state stored). Loopback only. Exits non-zero on any lost event or mismatch.
#
#   scripts/crash-test.sh [checkpoint-dir]
#
# Without a checkpoint it trains a tiny RecBLR on ML-100K (one epoch, seconds). Environment: PORT (18080),
# LOAD_SECONDS (20), KILLS (3), CONNECTIONS (16), USERS (500), SEQREC_BIN (a built seqrec; default: build one).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/swiftflags.sh
PORT=${PORT:-18080}
LOAD_SECONDS=${LOAD_SECONDS:-20}
KILLS=${KILLS:-3}
CONNECTIONS=${CONNECTIONS:-16}
USERS=${USERS:-500}
WORK=$(mktemp -d /tmp/seqrec-crash.XXXXXX)
SERVER=""
cleanup() { if [ -n "$SERVER" ]; then kill -9 "$SERVER" 2>/dev/null || true; fi; }
trap cleanup EXIT

if [ -n "${SEQREC_BIN:-}" ]; then
  BIN="$SEQREC_BIN"
else
  scripts/setup.sh
  swift build -c release "${SEQREC_SWIFTFLAGS[@]}" >&2
  BIN="$(swift build -c release "${SEQREC_SWIFTFLAGS[@]}" --show-bin-path)/seqrec"
fi

CHECKPOINT=${1:-}
if [ -z "$CHECKPOINT" ]; then
  scripts/fetch-data.sh ml-100k
  CHECKPOINT="$WORK/checkpoint"
  echo "== training a tiny RecBLR on ML-100K for the test ($CHECKPOINT)" >&2
  "$BIN" train --model recblr --data data/ml-100k/ml-100k.inter --objective all-positions --epochs 1 \
    --model-option hiddenSize=16 --model-option maxLength=50 --model-option layerCount=1 \
    --run-dir "$CHECKPOINT" >"$WORK/train.log" 2>&1
fi
STATE="$WORK/state.sqlite"

start_server() {
  "$BIN" serve --checkpoint "$CHECKPOINT" --state "$STATE" --port "$PORT" >>"$WORK/server.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 1 200); do
    if [ "$(grep -c 'listening on' "$WORK/server.log" || true)" -ge "$1" ]; then return 0; fi
    if ! kill -0 "$SERVER" 2>/dev/null; then echo "server exited; log:" >&2; cat "$WORK/server.log" >&2; exit 1; fi
    sleep 0.05
  done
  echo "server did not start in 10 s" >&2
  exit 1
}

starts=1
start_server $starts
echo "== $LOAD_SECONDS s of event load ($CONNECTIONS connections, $USERS users), kill -9 the server $KILLS times" >&2
"$BIN" loadtest --checkpoint "$CHECKPOINT" --port "$PORT" --mode events --connections "$CONNECTIONS" \
  --users "$USERS" --seconds "$LOAD_SECONDS" --record-acknowledged "$WORK/acknowledged.txt" >"$WORK/load.log" 2>&1 &
LOAD=$!
interval=$(awk -v s="$LOAD_SECONDS" -v k="$KILLS" 'BEGIN { printf "%.2f", s / (k + 1) }')
for kill_number in $(seq 1 "$KILLS"); do
  sleep "$interval"
  kill -9 "$SERVER"
  wait "$SERVER" 2>/dev/null || true
  echo "   kill -9 #$kill_number at $(date +%T); restarting" >&2
  starts=$((starts + 1))
  start_server $starts
done
wait "$LOAD"
cat "$WORK/load.log"
kill -9 "$SERVER"
wait "$SERVER" 2>/dev/null || true
SERVER=""

status=0
echo "== verifying the store against its log after the last kill -9" >&2
"$BIN" verify-state --checkpoint "$CHECKPOINT" --state "$STATE" --acknowledged "$WORK/acknowledged.txt" \
  | tee "$WORK/verify-crash.log" || status=1
pending() { sed -n 's/^events after the stored states (replayed onto them when loaded): \([0-9]*\);.*/\1/p' "$1"; }
pending_after_crash=$(pending "$WORK/verify-crash.log")

# Graceful shutdown under load: SIGTERM while requests are in flight. The server must stop accepting, answer what it
# accepted, store the state of every user it loaded (their events from before the crash included), close the store
# and exit with status 0. Users it never loaded keep their older states and pending events.
echo "== restart, more event load, then SIGTERM while requests are in flight" >&2
starts=$((starts + 1))
start_server $starts
"$BIN" loadtest --checkpoint "$CHECKPOINT" --port "$PORT" --mode events --connections "$CONNECTIONS" \
  --users "$USERS" --seconds 4 --record-acknowledged "$WORK/acknowledged-sigterm.txt" >"$WORK/load-sigterm.log" 2>&1 &
LOAD=$!
sleep 2
kill -TERM "$SERVER"
term_status=0
wait "$SERVER" || term_status=$?
SERVER=""
wait "$LOAD" || true
cat "$WORK/load-sigterm.log"
if [ "$term_status" -ne 0 ]; then
  echo "FAIL: the server exited with status $term_status on SIGTERM (log: $WORK/server.log)" >&2
  status=1
fi

echo "== verifying the store against its log after SIGTERM" >&2
cat "$WORK/acknowledged.txt" "$WORK/acknowledged-sigterm.txt" >"$WORK/acknowledged-all.txt"
"$BIN" verify-state --checkpoint "$CHECKPOINT" --state "$STATE" --acknowledged "$WORK/acknowledged-all.txt" \
  | tee "$WORK/verify.log" || status=1
pending_after_sigterm=$(pending "$WORK/verify.log")
if [ -z "$pending_after_crash" ] || [ -z "$pending_after_sigterm" ] \
  || [ "$pending_after_sigterm" -gt "$pending_after_crash" ]; then
  echo "FAIL: events after the stored states went from '$pending_after_crash' (after the crash) to" \
    "'$pending_after_sigterm' (after SIGTERM): the graceful shutdown did not store the states it held" >&2
  status=1
fi
echo "server starts: $starts (kill -9: $((KILLS + 1)), then SIGTERM under load, exit status $term_status);" \
  "events after stored states: $pending_after_crash after the crash, $pending_after_sigterm after SIGTERM;" \
  "work directory: $WORK"
exit $status
